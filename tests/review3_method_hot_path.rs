//! Review 3: "Later calls reach it with one atomic load" (README). A trait's default method
//! serves many types from one `MethodBreakerCell`; only the first type is on the fast path,
//! every other type's call takes the cell's mutex and scans its list.
#![allow(missing_docs)]

use breaker_runtime::{circuit_breaker, BreakerError};
use std::time::{Duration, Instant};

#[derive(Debug, PartialEq)]
pub struct E;

impl From<BreakerError> for E {
    fn from(_: BreakerError) -> Self {
        E
    }
}

pub trait Hot {
    #[circuit_breaker]
    fn hot(&self) -> Result<u8, E> {
        Ok(1)
    }
}
pub struct First;
pub struct Second;
impl Hot for First {}
impl Hot for Second {}

fn time_on_threads<T: Hot + Sync>(v: &T, threads: usize, calls: usize) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..calls {
                    std::hint::black_box(v.hot()).unwrap();
                }
            });
        }
    });
    start.elapsed()
}

#[test]
#[ignore = "BUG (perf): a default method's calls for every type but the first take the cell's mutex and scan its list; under two threads they are several times slower than the first type's"]
fn the_second_types_calls_cost_about_what_the_first_types_do() {
    First.hot().unwrap();
    Second.hot().unwrap();
    let mut ratios = Vec::new();
    for _ in 0..3 {
        let a = time_on_threads(&First, 2, 200_000);
        let b = time_on_threads(&Second, 2, 200_000);
        ratios.push(b.as_secs_f64() / a.as_secs_f64());
    }
    ratios.sort_by(f64::total_cmp);
    eprintln!("second/first time ratios: {ratios:?}");
    assert!(ratios[1] < 1.5, "median ratio {ratios:?}");
}
