//! Review 13: method breakers per `Self` (`MethodBreakerCell`): a trait's default method
//! called for many types from many threads at once, generic inherent impls, and the slow
//! path that finds a type by its `type_name` when the string is not the first one's.

use breaker_runtime::{__private::MethodBreakerCell, circuit_breaker, registry, BreakerError};
use breaker_runtime::{BreakerConfig, State};
use std::collections::HashSet;
use std::sync::Barrier;

#[derive(Debug, PartialEq)]
enum Error {
    Down,
    Breaker(String),
}

impl From<BreakerError> for Error {
    fn from(e: BreakerError) -> Self {
        Error::Breaker(e.to_string())
    }
}

trait Probe {
    fn up(&self) -> bool;

    #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
    fn hit(&self) -> Result<u8, Error> {
        if self.up() {
            Ok(1)
        } else {
            Err(Error::Down)
        }
    }
}

macro_rules! types {
    ($($t:ident)*) => {
        $(
            struct $t(bool);
            impl Probe for $t {
                fn up(&self) -> bool {
                    self.0
                }
            }
        )*
        fn hit_all(order: usize) {
            let calls: Vec<fn()> = vec![$(|| { let _ = $t(true).hit(); }),*];
            for i in 0..calls.len() {
                calls[(i + order) % calls.len()]();
            }
        }
        const TYPES: &[&str] = &[$(stringify!($t)),*];
    };
}

types!(T0 T1 T2 T3 T4 T5 T6 T7 T8 T9 T10 T11 T12 T13 T14 T15);

#[test]
fn a_default_method_for_many_types_from_many_threads_gets_one_breaker_per_type() {
    let barrier = Barrier::new(8);
    std::thread::scope(|s| {
        for t in 0..8 {
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                for round in 0..50 {
                    hit_all(t * 3 + round);
                }
            });
        }
    });
    let names: Vec<String> = registry()
        .names()
        .iter()
        .filter(|n| n.ends_with("::hit"))
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names.len(), TYPES.len(), "{names:?}");
    for t in TYPES {
        let name = format!("<review13_methods::{t} as review13_methods::Probe>::hit");
        let b = registry().get(&name).expect(&name);
        assert_eq!(
            b.metrics().successes,
            8 * 50,
            "{name}: every call on one breaker"
        );
    }
    // T3 failing opens T3's breaker only.
    assert_eq!(T3(false).hit(), Err(Error::Down));
    assert!(matches!(T3(true).hit(), Err(Error::Breaker(_))));
    assert_eq!(T4(true).hit(), Ok(1));
}

struct Repo<X>(X);

impl<X: Copy + Into<u32>> Repo<X> {
    #[circuit_breaker(failure_threshold = 2, reset_timeout = "1h")]
    fn get(&self) -> Result<u32, Error> {
        let v: u32 = self.0.into();
        if v == 0 {
            Err(Error::Down)
        } else {
            Ok(v)
        }
    }
}

#[test]
fn generic_impls_share_one_breaker_named_after_the_type_without_arguments() {
    let barrier = Barrier::new(4);
    std::thread::scope(|s| {
        for t in 0..4u8 {
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                for _ in 0..25 {
                    if t % 2 == 0 {
                        assert_eq!(Repo(7u8).get(), Ok(7));
                    } else {
                        assert_eq!(Repo(9u16).get(), Ok(9));
                    }
                }
            });
        }
    });
    let b = registry().get("review13_methods::Repo::get").unwrap();
    assert_eq!(b.metrics().successes, 100);
    let _ = Repo(0u8).get();
    let _ = Repo(0u16).get();
    assert_eq!(
        b.state(),
        State::Open,
        "the two failures were on one breaker"
    );
    assert!(matches!(Repo(1u32).get(), Err(Error::Breaker(_))));
    assert_eq!(
        registry()
            .names()
            .iter()
            .filter(|n| n.contains("Repo::get"))
            .count(),
        1
    );
}

/// The slow path: a type whose `type_name` is another string than the one cached first
/// (as a type named in two codegen units may be) still finds its breaker by the text. Here
/// the cell is driven by hand with one `T` from many threads, after another type took the
/// fast path.
#[test]
fn many_threads_on_the_slow_path_find_one_breaker_per_type() {
    static CELL: MethodBreakerCell = MethodBreakerCell::new();
    struct First;
    struct Second;
    let first = CELL.get_or_register::<First>(|| "", "m", "here:1:1", BreakerConfig::default);
    let barrier = Barrier::new(8);
    let seen: HashSet<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    (0..100)
                        .map(|_| {
                            CELL.get_or_register::<Second>(
                                || "",
                                "m",
                                "here:1:1",
                                BreakerConfig::default,
                            ) as *const _ as usize
                        })
                        .collect::<HashSet<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(seen.len(), 1, "one breaker for `Second`");
    let second = CELL.get_or_register::<Second>(|| "", "m", "here:1:1", BreakerConfig::default);
    assert!(!std::ptr::eq(first, second));
    assert!(second.name().ends_with("Second::m"));
    assert!(first.name().ends_with("First::m"));
    // The fast path still serves the first type.
    assert!(std::ptr::eq(
        first,
        CELL.get_or_register::<First>(|| "", "m", "here:1:1", BreakerConfig::default)
    ));
}
