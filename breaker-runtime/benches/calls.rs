//! What a call through a breaker costs: ours against `recloser` and `failsafe`, case by case.
//!
//! Every group holds `bare` (the call without a breaker, where it means something), `ours`
//! and the peers that have the case. `scripts/bench-report.py` turns the results into the
//! table of BENCHMARKS.md. The protected call returns `Ok(black_box(1))`: the breaker is all
//! there is to measure.
//!
//! Run: `cargo bench -p breaker-runtime --bench calls` (add `-- <filter>` for some groups).
// A benchmark has no public API to document; `criterion_group!` makes its `benches` function
// public, and an attribute on the macro's invocation does not reach it.
#![allow(missing_docs)]

mod common;

#[cfg(feature = "macros")]
use breaker_runtime::circuit_breaker;
use breaker_runtime::{BreakerConfig, CircuitBreaker, Registry};
use common::{
    fail, failsafe_consecutive, half_open_breaker, half_open_recloser, noop_waker, ok,
    open_breaker, poll_once, BenchError, Res,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::future::Future;
use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::task::Context;
use std::time::{Duration, Instant};

// ----- shared helpers ------------------------------------------------------------------------

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

/// Ours with the default (consecutive-failures) policy.
fn ours() -> Arc<CircuitBreaker> {
    CircuitBreaker::builder("bench-consecutive")
        .failure_threshold(5)
        .build()
}

/// recloser with its defaults: a 100-call ring, 50 % failure rate.
fn recloser() -> recloser::Recloser {
    recloser::Recloser::custom().build()
}

fn fs_call<P, I>(
    b: &failsafe::StateMachine<P, I>,
    f: impl FnOnce() -> Res,
) -> Result<u64, failsafe::Error<BenchError>>
where
    P: failsafe::FailurePolicy,
    I: failsafe::Instrument,
{
    failsafe::CircuitBreaker::call(b, f)
}

// ----- closed, sync ------------------------------------------------------------------------

fn closed_sync(c: &mut Criterion) {
    let mut g = c.benchmark_group("closed_sync");
    g.bench_function("bare", |b| b.iter(|| black_box(ok())));
    let ours = ours();
    g.bench_function("ours", |b| b.iter(|| black_box(ours.call_sync(ok))));
    let rc = recloser();
    g.bench_function("recloser", |b| b.iter(|| black_box(rc.call(ok))));
    let fs = failsafe_consecutive();
    g.bench_function("failsafe", |b| b.iter(|| black_box(fs_call(&fs, ok))));
    g.finish();
}

// ----- closed, async -----------------------------------------------------------------------

fn closed_async_poll(c: &mut Criterion) {
    let mut g = c.benchmark_group("closed_async_poll");
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    g.bench_function("bare", |b| {
        b.iter(|| black_box(poll_once(&mut cx, async { ok() })))
    });
    let ours = ours();
    g.bench_function("ours", |b| {
        b.iter(|| black_box(poll_once(&mut cx, ours.call(|| async { ok() }))))
    });
    let rc = recloser::AsyncRecloser::from(recloser());
    g.bench_function("recloser", |b| {
        b.iter(|| black_box(poll_once(&mut cx, rc.call(async { ok() }))))
    });
    let fs = failsafe_consecutive();
    g.bench_function("failsafe", |b| {
        b.iter(|| {
            black_box(poll_once(
                &mut cx,
                failsafe::futures::CircuitBreaker::call(&fs, async { ok() }),
            ))
        })
    });
    g.finish();
}

/// `iters` awaited calls inside one `block_on`, so the runtime's entry is not in the figure.
fn on_tokio<F, Fut>(rt: &tokio::runtime::Runtime, iters: u64, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future,
{
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            black_box(f().await);
        }
        start.elapsed()
    })
}

fn closed_async_tokio(c: &mut Criterion) {
    let mut g = c.benchmark_group("closed_async_tokio");
    let rt = tokio_rt();
    g.bench_function("bare", |b| {
        b.iter_custom(|iters| on_tokio(&rt, iters, || async { ok() }))
    });
    let ours = ours();
    g.bench_function("ours", |b| {
        b.iter_custom(|iters| on_tokio(&rt, iters, || ours.call(|| async { ok() })))
    });
    let rc = recloser::AsyncRecloser::from(recloser());
    g.bench_function("recloser", |b| {
        b.iter_custom(|iters| on_tokio(&rt, iters, || rc.call(async { ok() })))
    });
    let fs = failsafe_consecutive();
    g.bench_function("failsafe", |b| {
        b.iter_custom(|iters| {
            on_tokio(&rt, iters, || {
                failsafe::futures::CircuitBreaker::call(&fs, async { ok() })
            })
        })
    });
    g.finish();
}

// ----- rejected ----------------------------------------------------------------------------

fn rejected(c: &mut Criterion) {
    let mut g = c.benchmark_group("rejected");
    let hour = Duration::from_secs(3600);

    let ours = open_breaker("bench-rejected", hour);
    g.bench_function("ours", |b| b.iter(|| black_box(ours.call_sync(ok))));
    // Names made at run time (`builder(String)`, `get_or_create(&str)`): one as short as
    // most host or service names, one longer than any inline storage.
    for (case, name) in [
        ("ours_runtime_name", format!("host-{}:443", 10)),
        (
            "ours_long_runtime_name",
            format!("api-{}.eu-west-1.example.com:443", 10),
        ),
    ] {
        let ours = open_breaker(name, hour);
        g.bench_function(case, |b| b.iter(|| black_box(ours.call_sync(ok))));
    }

    let rc = recloser::Recloser::custom()
        .closed_len(1)
        .open_wait(hour)
        .build();
    let _ = rc.call(fail);
    let _ = rc.call(fail);
    assert!(
        matches!(rc.call(ok), Err(recloser::Error::Rejected)),
        "recloser must be open"
    );
    g.bench_function("recloser", |b| b.iter(|| black_box(rc.call(ok))));

    let fs = failsafe::Config::new()
        .failure_policy(failsafe::failure_policy::consecutive_failures(
            1,
            failsafe::backoff::constant(hour),
        ))
        .build();
    let _ = fs_call(&fs, fail);
    assert!(
        matches!(fs_call(&fs, ok), Err(failsafe::Error::Rejected)),
        "failsafe must be open"
    );
    g.bench_function("failsafe", |b| b.iter(|| black_box(fs_call(&fs, ok))));
    g.finish();
}

// ----- our policies in Closed --------------------------------------------------------------

fn policies(c: &mut Criterion) {
    let mut g = c.benchmark_group("policy");
    g.bench_function("bare", |b| b.iter(|| black_box(ok())));
    let registry = Registry::new();
    for (name, config) in common::policies() {
        let b = registry.get_or_create(&format!("bench-policy-{name}"), config);
        g.bench_function(name, |bn| bn.iter(|| black_box(b.call_sync(ok))));
    }
    // The peers' nearest policies: recloser's ring is a count window; failsafe's default is
    // a success rate over a time window (an EMA read against the clock) or 5 in a row.
    let rc = recloser();
    g.bench_function("count_window_recloser", |b| {
        b.iter(|| black_box(rc.call(ok)))
    });
    let fs = failsafe::Config::new().build();
    g.bench_function("time_window_failsafe", |b| {
        b.iter(|| black_box(fs_call(&fs, ok)))
    });
    g.finish();
}

// ----- #[circuit_breaker] against the same fn unannotated -----------------------------------
// The attribute needs the `macros` feature (a default one); without it the group is empty, so
// `cargo hack` can still build and lint the rest of this file for every feature alone.

#[cfg(feature = "macros")]
#[circuit_breaker(name = "bench-annotated-async")]
async fn annotated_async(x: u64) -> Result<u64, BenchError> {
    Ok(x)
}

#[cfg(feature = "macros")]
async fn plain_async(x: u64) -> Result<u64, BenchError> {
    Ok(x)
}

#[cfg(feature = "macros")]
#[circuit_breaker(name = "bench-annotated-sync")]
fn annotated_sync(x: u64) -> Result<u64, BenchError> {
    Ok(x)
}

#[cfg(feature = "macros")]
fn plain_sync(x: u64) -> Result<u64, BenchError> {
    Ok(x)
}

#[cfg(feature = "macros")]
fn annotated(c: &mut Criterion) {
    let mut g = c.benchmark_group("annotated");
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    g.bench_function("async_plain", |b| {
        b.iter(|| black_box(poll_once(&mut cx, plain_async(black_box(1)))))
    });
    g.bench_function("async_annotated", |b| {
        b.iter(|| black_box(poll_once(&mut cx, annotated_async(black_box(1)))))
    });
    g.bench_function("sync_plain", |b| {
        b.iter(|| black_box(plain_sync(black_box(1))))
    });
    g.bench_function("sync_annotated", |b| {
        b.iter(|| black_box(annotated_sync(black_box(1))))
    });
    g.finish();
}

#[cfg(not(feature = "macros"))]
fn annotated(_: &mut Criterion) {}

// ----- half-open admission and release ------------------------------------------------------

fn half_open(c: &mut Criterion) {
    let mut g = c.benchmark_group("half_open");

    let ours = half_open_breaker("bench-half-open");
    g.bench_function("ours", |b| {
        b.iter(|| black_box(ours.try_acquire()).expect("admitted").ignore())
    });
    assert_eq!(ours.state(), breaker_runtime::State::HalfOpen);

    let rc = half_open_recloser();
    g.bench_function("recloser", |b| b.iter(|| black_box(rc.call(ok))));
    // failsafe closes on its first half-open success: no repeatable half-open case.
    g.finish();
}

// ----- 2 threads on one breaker ---------------------------------------------------------------

/// Runs `iters` calls on each of `threads` threads at once; the time from the first thread's
/// start to the last one's end. Per-call time per thread, so throughput = threads / time.
fn hammer(threads: usize, iters: u64, call: &(dyn Fn() + Sync)) -> Duration {
    let barrier = Barrier::new(threads);
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let start = Instant::now();
                    for _ in 0..iters {
                        call();
                    }
                    (start, Instant::now())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let first = spans.iter().map(|s| s.0).min().unwrap();
    let last = spans.iter().map(|s| s.1).max().unwrap();
    last - first
}

/// A group benching each of `cases` from 1 thread and from 2 at once.
fn hammer_group(c: &mut Criterion, group: &str, cases: &[(&str, &(dyn Fn() + Sync))]) {
    let mut g = c.benchmark_group(group);
    for &(name, call) in cases {
        for n in [1usize, 2] {
            g.throughput(Throughput::Elements(n as u64));
            g.bench_function(format!("{name}/{n}"), |b| {
                b.iter_custom(|iters| hammer(n, iters, call))
            });
        }
    }
    g.finish();
}

fn threads(c: &mut Criterion) {
    let ours = ours();
    let rc = recloser();
    let fs = failsafe_consecutive();
    let cases: [(&str, &(dyn Fn() + Sync)); 3] = [
        ("ours", &|| {
            black_box(ours.call_sync(ok)).ok();
        }),
        ("recloser", &|| {
            black_box(rc.call(ok)).ok();
        }),
        ("failsafe", &|| {
            black_box(fs_call(&fs, ok)).ok();
        }),
    ];
    hammer_group(c, "threads", &cases);

    // Rejections on one open breaker from 2 threads: each error carries the breaker's name,
    // so whatever it takes to hand the name out must not make the threads fight.
    let hour = Duration::from_secs(3600);
    let literal = open_breaker("bench-threads-rejected", hour);
    let runtime = open_breaker(format!("host-{}:443", 11), hour);
    let long = open_breaker(format!("api-{}.eu-west-1.example.com:443", 11), hour);
    let cases: [(&str, &(dyn Fn() + Sync)); 3] = [
        ("ours", &|| {
            black_box(literal.call_sync(ok)).ok();
        }),
        ("ours_runtime_name", &|| {
            black_box(runtime.call_sync(ok)).ok();
        }),
        ("ours_long_runtime_name", &|| {
            black_box(long.call_sync(ok)).ok();
        }),
    ];
    hammer_group(c, "threads_rejected", &cases);
}

// ----- first call: lazy creation and registration --------------------------------------------

/// `iters` breakers created and registered under names never seen before, the way an
/// annotated function's first call does it (`registry.get_or_create(name, config())`). A
/// registry per sample keeps memory bounded; names are made before the clock starts.
fn first_call(c: &mut Criterion) {
    let mut g = c.benchmark_group("first_call");
    let round = std::sync::atomic::AtomicU64::new(0);
    g.bench_function("ours_register", |b| {
        b.iter_custom(|iters| {
            let r = round.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let names: Vec<String> = (0..iters).map(|i| format!("bench-first-{r}-{i}")).collect();
            let registry = Registry::new();
            let start = Instant::now();
            for name in &names {
                black_box(
                    registry
                        .get_or_create(name, BreakerConfig::builder().failure_threshold(5).build()),
                );
            }
            let took = start.elapsed();
            drop(registry);
            took
        })
    });
    // The cost the peers have for the same step: building one breaker (no registry).
    g.bench_function("recloser_build", |b| b.iter(|| black_box(recloser())));
    g.bench_function("failsafe_build", |b| {
        b.iter(|| black_box(failsafe_consecutive()))
    });
    g.finish();
}

criterion_group!(
    benches,
    closed_sync,
    closed_async_poll,
    closed_async_tokio,
    rejected,
    policies,
    annotated,
    half_open,
    threads,
    first_call
);
criterion_main!(benches);
