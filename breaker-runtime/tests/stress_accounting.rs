//! Stress: many threads and thousands of tokio tasks hammer one breaker with random
//! outcomes, cancellations and panics. Afterwards every call the test made is in exactly
//! one of the five outcome counts, each count equals the test's own tally, and a healthy
//! dependency closes the breaker again within `success_threshold` calls: no permit leaked.
//!
//! `BREAKER_LONG_TESTS=1` multiplies the number of calls by 20.

mod common;

use breaker_runtime::{CallError, CircuitBreaker, Metrics, State};
use common::{quiet_panics, scale, FAILED, IGNORED, NOT_A_FAILURE};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

const SUCCESS_THRESHOLD: u32 = 2;
const PANIC_MESSAGE: &str = "stress test: the body panics";

/// Opens after three failures in a row (or half the last 20 calls), probes at once, and
/// never times a half-open phase out within the test: a leaked half-open slot would wedge
/// it, and the recovery check would see that.
fn breaker(name: &str, rate_window: bool) -> Arc<CircuitBreaker> {
    let b = CircuitBreaker::builder(name)
        .failure_threshold(3)
        .reset_timeout(Duration::ZERO)
        .half_open_timeout(Duration::from_secs(3_600))
        .success_threshold(SUCCESS_THRESHOLD)
        .half_open_max_calls(2)
        .ignore_if(|e: &u8| *e == IGNORED)
        .failure_if(|e: &u8| *e != NOT_A_FAILURE);
    let b = if rate_window {
        b.failure_rate(0.5).minimum_calls(10).window(20)
    } else {
        b
    };
    b.build()
}

/// What the test saw, counted the same way the breaker counts.
#[derive(Debug, Default)]
struct Tally {
    successes: AtomicU64,
    failures: AtomicU64,
    ignored: AtomicU64,
    rejected: AtomicU64,
    cancelled: AtomicU64,
}

impl Tally {
    fn add(&self, cell: &AtomicU64) {
        cell.fetch_add(1, Relaxed);
    }

    /// Tallies a call that returned.
    fn returned<T>(&self, r: &Result<T, CallError<u8>>) {
        match r {
            Ok(_) | Err(CallError::Inner(NOT_A_FAILURE)) => self.add(&self.successes),
            Err(CallError::Inner(IGNORED)) => self.add(&self.ignored),
            Err(CallError::Inner(_)) => self.add(&self.failures),
            Err(CallError::Breaker(e)) => {
                assert!(e.is_circuit_open() && !e.is_timeout(), "{e:?}");
                self.add(&self.rejected)
            }
        }
    }

    fn calls(&self) -> u64 {
        [
            &self.successes,
            &self.failures,
            &self.ignored,
            &self.rejected,
            &self.cancelled,
        ]
        .iter()
        .map(|c| c.load(Relaxed))
        .sum()
    }

    fn assert_matches(&self, m: &Metrics, made: u64) {
        let want = (
            self.successes.load(Relaxed),
            self.failures.load(Relaxed),
            self.ignored.load(Relaxed),
            self.rejected.load(Relaxed),
            self.cancelled.load(Relaxed),
        );
        let got = (m.successes, m.failures, m.ignored, m.rejected, m.cancelled);
        assert_eq!(
            got, want,
            "(successes, failures, ignored, rejected, cancelled)"
        );
        assert_eq!(
            m.successes + m.failures + m.ignored + m.rejected + m.cancelled,
            m.calls
        );
        assert_eq!(m.calls, made, "every call the test made is counted once");
        assert_eq!(self.calls(), made);
    }
}

/// A small, seedable random source, so each thread or task draws its own sequence.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn result(&mut self) -> Result<(), u8> {
        match self.below(10) {
            0..=4 => Ok(()),
            5..=7 => Err(FAILED),
            8 => Err(IGNORED),
            _ => Err(NOT_A_FAILURE),
        }
    }
}

fn boom() -> Result<(), u8> {
    std::panic::panic_any(PANIC_MESSAGE)
}

/// The dependency is healthy again: the breaker must close within `success_threshold`
/// calls, rejecting none of them.
fn assert_recovers(b: &CircuitBreaker) {
    if b.state() == State::HalfOpen {
        // Every half-open slot is free: none was leaked by a call that ended.
        let slots: Vec<_> = (0..2)
            .map(|_| b.try_acquire().expect("a half-open slot leaked"))
            .collect();
        drop(slots);
    }
    for _ in 0..SUCCESS_THRESHOLD {
        if b.state() == State::Closed {
            break;
        }
        b.call_sync(|| Ok::<_, u8>(()))
            .unwrap_or_else(|e| panic!("a healthy call was rejected: {e:?}; {:?}", b.metrics()));
    }
    assert_eq!(b.state(), State::Closed, "{:?}", b.metrics());
}

fn run_threads(name: &str, rate_window: bool) {
    quiet_panics(PANIC_MESSAGE);
    let b = breaker(name, rate_window);
    let tally = Arc::new(Tally::default());
    let calls_per_thread = 25_000 * scale();
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let (b, tally) = (b.clone(), tally.clone());
            std::thread::spawn(move || {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((t + 1) * 0x1234_5678));
                let mut held = Vec::new();
                for _ in 0..calls_per_thread {
                    match rng.below(20) {
                        // A plain call with a random result.
                        0..=13 => {
                            let result = rng.result();
                            tally.returned(&b.call_sync(|| result));
                        }
                        // A panicking body: a failure, unless rejected before it ran.
                        14 => {
                            match std::panic::catch_unwind(AssertUnwindSafe(|| b.call_sync(boom))) {
                                Ok(r) => tally.returned(&r),
                                Err(_) => tally.add(&tally.failures),
                            }
                        }
                        // A permit dropped unused: cancelled.
                        15 | 16 => match b.try_acquire() {
                            Ok(p) => {
                                drop(p);
                                tally.add(&tally.cancelled);
                            }
                            Err(_) => tally.add(&tally.rejected),
                        },
                        // A permit kept while other calls go on, recorded later (often
                        // after the state moved on: a late result).
                        _ => match b.try_acquire() {
                            Ok(p) => held.push((p, rng.result())),
                            Err(_) => tally.add(&tally.rejected),
                        },
                    }
                    if held.len() > 3 || (!held.is_empty() && rng.below(4) == 0) {
                        let (p, result) = held.swap_remove(0);
                        p.record(&result);
                        tally.returned(&result.map_err(CallError::Inner));
                    }
                }
                for (p, result) in held {
                    p.record(&result);
                    tally.returned(&result.map_err(CallError::Inner));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    tally.assert_matches(&b.metrics(), 4 * calls_per_thread);
    assert!(
        b.metrics().opened_count > 0,
        "the stress never opened the breaker"
    );
    assert_recovers(&b);
}

#[test]
fn threads_with_random_outcomes_cancels_and_panics_lose_no_call() {
    run_threads("stress-threads-consecutive", false);
}

#[test]
fn threads_against_a_rate_window_lose_no_call() {
    run_threads("stress-threads-rate", true);
}

/// What one task does with its call.
#[derive(Clone, Copy)]
enum TaskCall {
    Plain(Result<(), u8>),
    /// Dropped by `timeout(0)` after the body's first poll.
    Timeout,
    /// Dropped by `select!` when the other branch is ready first.
    Select,
    /// The body panics inside the task.
    Panic,
}

async fn task_call(b: &CircuitBreaker, tally: &Tally, call: TaskCall) {
    match call {
        TaskCall::Plain(result) => {
            let r = b
                .call(|| async move {
                    tokio::task::yield_now().await;
                    result
                })
                .await;
            tally.returned(&r);
        }
        TaskCall::Timeout => {
            let fut = b.call(std::future::pending::<Result<(), u8>>);
            match tokio::time::timeout(Duration::ZERO, fut).await {
                Ok(r) => tally.returned(&r),
                Err(_) => tally.add(&tally.cancelled),
            }
        }
        TaskCall::Select => {
            tokio::select! {
                biased;
                r = b.call(|| async { tokio::task::yield_now().await; Ok::<(), u8>(()) }) => {
                    tally.returned(&r)
                }
                _ = std::future::ready(()) => tally.add(&tally.cancelled),
            }
        }
        TaskCall::Panic => {
            let r = b.call(|| async { boom() }).await;
            // Only a rejected call gets here; an admitted one panicked.
            tally.returned(&r);
        }
    }
}

#[test]
fn thousands_of_tasks_with_cancellation_aborts_and_panics_lose_no_call() {
    quiet_panics(PANIC_MESSAGE);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let b = breaker("stress-tasks", false);
    let tally = Arc::new(Tally::default());
    let tasks = 4_000 * scale();
    let calls_per_task = 25u64;
    let made = Arc::new(AtomicU64::new(0));
    rt.block_on(async {
        let mut handles = Vec::new();
        for t in 0..tasks {
            let (b, tally, made) = (b.clone(), tally.clone(), made.clone());
            let mut rng = Rng(0xDEAD_BEEF_u64.wrapping_mul(t + 7));
            let plan: Vec<TaskCall> = (0..calls_per_task)
                .map(|_| match rng.below(20) {
                    0..=13 => TaskCall::Plain(rng.result()),
                    14 | 15 => TaskCall::Timeout,
                    16 | 17 => TaskCall::Select,
                    _ => TaskCall::Panic,
                })
                .collect();
            // A panic ends its task: the calls after it are never made.
            let entered = Arc::new(AtomicBool::new(false));
            let entered_in_task = entered.clone();
            let handle = tokio::spawn(async move {
                for call in plan {
                    made.fetch_add(1, Relaxed);
                    if let TaskCall::Panic = call {
                        entered_in_task.store(true, Relaxed);
                    }
                    task_call(&b, &tally, call).await;
                    entered_in_task.store(false, Relaxed);
                }
            });
            handles.push((handle, entered));
        }
        // Every tenth task is aborted, wherever it is.
        for (handle, _) in handles.iter().step_by(10) {
            handle.abort();
        }
        for (handle, panicking) in handles {
            match handle.await {
                Ok(()) => {}
                Err(e) if e.is_panic() => {
                    assert!(panicking.load(Relaxed));
                    tally.add(&tally.failures);
                }
                // Aborted: the call it was in, if any, was dropped mid-flight (a
                // cancellation); the test counts it below from what the breaker saw.
                Err(e) => assert!(e.is_cancelled()),
            }
        }
    });
    let m = b.metrics();
    // Aborted tasks may be stopped inside a call: those calls are cancelled, and the
    // test's tally cannot see them. Every other call is in the tally.
    let made = made.load(Relaxed);
    let unseen = made - tally.calls();
    assert!(unseen <= tasks / 10 + 1, "{unseen} calls unaccounted for");
    tally.cancelled.fetch_add(unseen, Relaxed);
    tally.assert_matches(&m, made);
    assert!(m.opened_count > 0, "the stress never opened the breaker");
    assert_recovers(&b);
}

/// 100,000 half-open probes in a row are cancelled, in every way a probe can be: its permit
/// dropped, its future dropped by `timeout` or `select!`, its task aborted. None of them
/// may keep its slot: a failing probe then re-opens the breaker, and once the dependency is
/// healthy it is closed within one `reset_timeout` and `success_threshold` calls.
#[tokio::test(start_paused = true)]
async fn a_hundred_thousand_cancelled_probes_then_recovery() {
    const RESET: Duration = Duration::from_secs(30);
    let b = CircuitBreaker::builder("stress-cancelled-probes")
        .failure_threshold(1)
        .reset_timeout(RESET)
        .half_open_max_calls(1)
        .success_threshold(3)
        .build();
    b.call_sync(|| Err::<(), _>(FAILED)).unwrap_err();
    tokio::time::advance(RESET).await;
    let probes = 100_000 * scale();
    for i in 0..probes {
        match i % 4 {
            0 => drop(b.try_acquire().expect("the slot is free")),
            1 => {
                let fut = b.call(std::future::pending::<Result<(), u8>>);
                tokio::time::timeout(Duration::ZERO, fut)
                    .await
                    .expect_err("the probe was let in and cut");
            }
            2 => {
                tokio::select! {
                    biased;
                    _ = b.call(std::future::pending::<Result<(), u8>>) => panic!("let in and cut"),
                    _ = std::future::ready(()) => {}
                }
            }
            _ => {
                let task_b = b.clone();
                let task = tokio::spawn(async move {
                    let _ = task_b.call(std::future::pending::<Result<(), u8>>).await;
                });
                tokio::task::yield_now().await; // let it take the slot
                task.abort();
                assert!(task.await.unwrap_err().is_cancelled());
            }
        }
        assert_eq!(b.state(), State::HalfOpen);
    }
    let m = b.metrics();
    assert_eq!((m.cancelled, m.rejected), (probes, 0));

    // One last probe fails: open again for one reset_timeout.
    b.call_sync(|| Err::<(), _>(FAILED)).unwrap_err();
    assert_eq!(b.state(), State::Open);
    tokio::time::advance(RESET).await;
    for _ in 0..3 {
        b.call_sync(|| Ok::<_, u8>(()))
            .expect("a healthy probe is let in");
    }
    assert_eq!(b.state(), State::Closed);
}
