//! Regression tests for bugs the model and loom tests found, each reduced to the few steps
//! that showed it, on tokio's paused clock.

use breaker_runtime::{BreakerError, CircuitBreaker, Outcome, State};
use std::time::Duration;
use tokio::time::advance;

const SEC: Duration = Duration::from_secs(1);

/// Found by the model test: the half-open timeout was measured from the moment the open
/// period ended, not from when the first probe was let in. After a quiet spell longer than
/// `reset_timeout + half_open_timeout`, the first probe was timed out the moment it started:
/// the next call re-opened the breaker and the probe's verdict was thrown away.
#[tokio::test(start_paused = true)]
async fn a_probe_after_a_quiet_spell_gets_its_whole_half_open_timeout() {
    let b = CircuitBreaker::builder("reg-quiet-probe")
        .failure_threshold(1)
        .reset_timeout(30 * SEC)
        .half_open_timeout(60 * SEC)
        .half_open_max_calls(1)
        .success_threshold(1)
        .build();
    b.try_acquire().unwrap().failure();
    advance(3_600 * SEC).await; // an hour with no traffic
    let probe = b
        .try_acquire()
        .expect("the first call after the wait is a probe");
    assert_eq!(b.state(), State::HalfOpen);
    advance(59 * SEC).await;
    // Still within the probe's 60 s: a second caller finds the slot taken, nothing more.
    assert!(matches!(
        b.try_acquire(),
        Err(BreakerError::HalfOpenFull { .. })
    ));
    assert_eq!(b.state(), State::HalfOpen);
    probe.success();
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.metrics().opened_count, 1);
}

/// Found by the model test: a time window tags its ten buckets with 16 bits of epoch, so
/// calls recorded 65,536 bucket-lengths ago (about 1.8 hours for a one-second window) came
/// back into the rate as if they were current.
#[tokio::test(start_paused = true)]
async fn a_time_window_never_brings_back_calls_from_65536_buckets_ago() {
    let b = CircuitBreaker::builder("reg-time-alias")
        .failure_rate(0.6)
        .minimum_calls(2)
        .window(SEC) // ten 100 ms buckets
        .build();
    b.try_acquire().unwrap().failure();
    assert_eq!(
        b.metrics().failure_rate,
        None,
        "one call is below minimum_calls"
    );
    advance(Duration::from_millis(65_536 * 100 + 200)).await;
    b.try_acquire().unwrap().success();
    // Only the success is in the window: still below minimum_calls.
    assert_eq!(b.metrics().failure_rate, None);
    b.try_acquire().unwrap().failure();
    // One failure in two calls is 50 %, under the 60 % that opens it.
    assert_eq!(b.metrics().failure_rate, Some(0.5));
    assert_eq!(b.state(), State::Closed);
}

/// Found by the model test: a call let in while the breaker was metrics-only and finishing
/// after `close()` still wrote its outcome into the closed breaker's fresh window.
#[tokio::test(start_paused = true)]
async fn a_late_metrics_only_result_stays_out_of_the_closed_window() {
    let b = CircuitBreaker::builder("reg-metrics-only-late")
        .failure_rate(0.5)
        .minimum_calls(2)
        .window(10)
        .build();
    b.metrics_only();
    let late = b.try_acquire().unwrap();
    b.close();
    b.try_acquire().unwrap().success();
    late.failure();
    let m = b.metrics();
    assert_eq!(m.failures, 1, "the late failure is counted");
    assert_eq!(
        m.failure_rate, None,
        "but the closed window holds only the success"
    );
    // So the next failure makes it 1 in 2, which does open it at 50 %, and not earlier.
    b.try_acquire().unwrap().failure();
    assert_eq!(b.state(), State::Open);
}

/// Found by loom (fixed in 4c56a9d): a failing probe whose re-open lost its
/// compare-and-swap to a concurrent probe's success returned without re-opening, dropping
/// the failure and leaking its half-open slot. Sequentially: a failure after a success in
/// the same phase must re-open, and the next phase has every slot free.
#[tokio::test(start_paused = true)]
async fn a_probe_failure_after_a_probe_success_reopens() {
    let b = CircuitBreaker::builder("reg-fail-after-ok")
        .failure_threshold(1)
        .reset_timeout(SEC)
        .half_open_max_calls(2)
        .success_threshold(2)
        .build();
    b.try_acquire().unwrap().failure();
    advance(SEC).await;
    let ok = b.try_acquire().unwrap();
    let fail = b.try_acquire().unwrap();
    ok.success();
    fail.record_outcome(Outcome::Failure);
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.metrics().opened_count, 2);
    advance(SEC).await;
    let p1 = b.try_acquire().expect("slot 1 of the new phase");
    let p2 = b.try_acquire().expect("slot 2 of the new phase");
    p1.success();
    p2.success();
    assert_eq!(b.state(), State::Closed);
}

/// Found while porting the rate scenarios: the rates were checked only after a failure or
/// a slow call, so when the call that brought the window up to `minimum_calls` was a
/// success, a rate already over the threshold did not open the breaker.
#[tokio::test(start_paused = true)]
async fn the_call_reaching_minimum_calls_opens_it_even_when_it_succeeds() {
    let b = CircuitBreaker::builder("reg-minimum-by-success")
        .failure_rate(0.5)
        .minimum_calls(4)
        .window(10)
        .build();
    for _ in 0..3 {
        b.try_acquire().unwrap().failure();
    }
    assert_eq!(b.state(), State::Closed, "3 calls are below minimum_calls");
    b.try_acquire().unwrap().success();
    // 3 failures in 4 calls: 75 % >= 50 %.
    assert_eq!(b.state(), State::Open);
}
