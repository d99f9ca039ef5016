//! A driver for instruction counts, which unlike times do not move when the machine is busy.
//!
//! `instructions CASE N` runs case `CASE` `N` times and nothing else; under
//! `valgrind --tool=callgrind`, the difference between two runs with different `N` divided by
//! the difference in `N` is the case's instructions per call (`scripts/bench-report.py
//! instructions` does this for every case). Without arguments, as under `cargo bench`, it runs
//! every case a few times so that the driver is checked with the rest of the suite.

mod common;

use breaker_runtime::{BreakerConfig, CircuitBreaker, Registry};
use common::{fail, failsafe_consecutive, noop_waker, ok, open_breaker, policy, poll_once};
use std::hint::black_box;
use std::sync::Arc;
use std::task::Context;
use std::time::Duration;

fn breaker(config: BreakerConfig) -> Arc<CircuitBreaker> {
    Registry::new().get_or_create("instructions", config)
}

const CASES: &[&str] = &[
    "bare",
    "closed_sync/ours",
    "closed_sync/recloser",
    "closed_sync/failsafe",
    "closed_async_poll/ours",
    "closed_async_poll/recloser",
    "closed_async_poll/failsafe",
    "rejected/ours",
    "rejected/ours_runtime_name",
    "rejected/ours_long_runtime_name",
    "rejected/recloser",
    "rejected/failsafe",
    "policy/count_window",
    "policy/time_window",
    "policy/slow_call",
];

/// Runs `case` `n` times.
fn run(case: &str, n: u64) {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let consecutive = || breaker(policy("consecutive"));
    let hour = Duration::from_secs(3600);
    match case {
        "bare" => (0..n).for_each(|_| {
            black_box(ok()).ok();
        }),
        "closed_sync/ours" => {
            let b = consecutive();
            (0..n).for_each(|_| {
                black_box(b.call_sync(ok)).ok();
            })
        }
        "closed_sync/recloser" => {
            let b = recloser::Recloser::custom().build();
            (0..n).for_each(|_| {
                black_box(b.call(ok)).ok();
            })
        }
        "closed_sync/failsafe" => {
            let b = failsafe_consecutive();
            (0..n).for_each(|_| {
                black_box(failsafe::CircuitBreaker::call(&b, ok)).ok();
            })
        }
        "closed_async_poll/ours" => {
            let b = consecutive();
            (0..n).for_each(|_| {
                black_box(poll_once(&mut cx, b.call(|| async { ok() }))).ok();
            })
        }
        "closed_async_poll/recloser" => {
            let b = recloser::AsyncRecloser::from(recloser::Recloser::custom().build());
            (0..n).for_each(|_| {
                black_box(poll_once(&mut cx, b.call(async { ok() }))).ok();
            })
        }
        "closed_async_poll/failsafe" => {
            let b = failsafe_consecutive();
            (0..n).for_each(|_| {
                let fut = failsafe::futures::CircuitBreaker::call(&b, async { ok() });
                black_box(poll_once(&mut cx, fut)).ok();
            })
        }
        "rejected/ours" | "rejected/ours_runtime_name" | "rejected/ours_long_runtime_name" => {
            // As in `calls.rs`: a literal, a short name made at run time and a long one.
            let b = match case {
                "rejected/ours" => open_breaker("instructions-open", hour),
                "rejected/ours_runtime_name" => open_breaker(format!("host-{}:443", 10), hour),
                _ => open_breaker(format!("api-{}.eu-west-1.example.com:443", 10), hour),
            };
            (0..n).for_each(|_| {
                black_box(b.call_sync(ok)).ok();
            })
        }
        "rejected/recloser" => {
            let b = recloser::Recloser::custom()
                .closed_len(1)
                .open_wait(Duration::from_secs(3600))
                .build();
            let _ = b.call(fail);
            let _ = b.call(fail);
            (0..n).for_each(|_| {
                black_box(b.call(ok)).ok();
            })
        }
        "rejected/failsafe" => {
            let b = failsafe::Config::new()
                .failure_policy(failsafe::failure_policy::consecutive_failures(
                    1,
                    failsafe::backoff::constant(Duration::from_secs(3600)),
                ))
                .build();
            let _ = failsafe::CircuitBreaker::call(&b, fail);
            (0..n).for_each(|_| {
                black_box(failsafe::CircuitBreaker::call(&b, ok)).ok();
            })
        }
        "policy/count_window" | "policy/time_window" | "policy/slow_call" => {
            let b = breaker(policy(&case["policy/".len()..]));
            (0..n).for_each(|_| {
                black_box(b.call_sync(ok)).ok();
            })
        }
        other => panic!("unknown case `{other}`; the cases are {CASES:?}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [case, n] if !case.starts_with('-') => {
            run(case, n.parse().expect("N: a number of calls"));
        }
        // `instructions --best CASE...`: the best of 50 runs of 200,000 calls, in ns per
        // call. The best run is the one the rest of the machine disturbed least.
        [flag, cases @ ..] if flag == "--best" => {
            let cases: Vec<&str> = if cases.is_empty() {
                CASES.to_vec()
            } else {
                cases.iter().map(String::as_str).collect()
            };
            for case in cases {
                let n = 200_000;
                let best = (0..50)
                    .map(|_| {
                        let start = std::time::Instant::now();
                        run(case, n);
                        start.elapsed()
                    })
                    .min()
                    .unwrap();
                println!("{case:<32} {:>8.2} ns", best.as_nanos() as f64 / n as f64);
            }
        }
        // `cargo bench` (with or without criterion's options): check every case runs.
        _ => {
            for case in CASES {
                run(case, 1_000);
            }
            println!(
                "instructions: {} cases ran; see BENCHMARKS.md to count them",
                CASES.len()
            );
        }
    }
}
