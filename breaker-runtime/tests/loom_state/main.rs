//! Model checking of the packed state word, the permits and the counters with loom: every
//! interleaving of 2–3 threads (up to the preemption bound) is run and checked.
//!
//! Run with (about a minute on two cores):
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 CARGO_TARGET_DIR=target/loom \
//!     cargo test -p breaker-runtime --release --test loom_state
//! ```
//!
//! Loom's clock moves only where a model sets it, outside the threads it races (so every run
//! of an interleaving takes the same path): most scenarios use reset timeouts of an hour (Open
//! stays Open) or zero (the first call after opening moves Open → HalfOpen); the half-open
//! timeout scenarios set the clock to the deadline before their threads start.
#![cfg(loom)]

use breaker_runtime::{
    BreakerError, BreakerEvent, CircuitBreaker, Outcome, State, TransitionReason,
};
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;
use std::sync::Arc;
use std::time::Duration;

mod probes;
mod races;

/// Runs `f` under loom with a default preemption bound of 3 (`LOOM_MAX_PREEMPTIONS`
/// overrides it).
fn model<F>(f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    model_bounded(3, f)
}

/// As [`model`], with at most `bound` preemptions (`LOOM_MAX_PREEMPTIONS` still overrides
/// it): for three threads that each take the breaker's lock twice, a bound of 3 is hours.
fn model_bounded<F>(bound: usize, f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(bound);
    }
    builder.check(move || {
        // Every run starts at the same instant; models that need time move it themselves,
        // before or after their threads race.
        breaker_runtime::__private::loom_set_clock_ms(0);
        f()
    });
}

/// A breaker that opens on one failure and lets probes through as soon as it is open.
fn probing(name: &str, max_calls: u32, successes: u32) -> Arc<CircuitBreaker> {
    let b = CircuitBreaker::builder(name)
        .failure_threshold(1)
        .reset_timeout(Duration::ZERO)
        .half_open_max_calls(max_calls)
        .success_threshold(successes)
        .build();
    b.try_acquire().expect("closed").failure();
    b
}

/// Every event received so far, as (from, to, reason) transitions.
fn transitions(
    events: &mut breaker_runtime::EventReceiver,
) -> Vec<(State, State, TransitionReason)> {
    let mut out = Vec::new();
    while let Some(e) = events.try_recv() {
        if let BreakerEvent::StateTransition {
            from, to, reason, ..
        } = e
        {
            out.push((from, to, reason));
        }
    }
    out
}
