//! Behaviours the mature circuit breakers (Resilience4j, Polly, gobreaker, tower) test,
//! restated in our own words against our contract, on tokio's paused clock.

use breaker_runtime::{BreakerError, CallError, CircuitBreaker, Outcome, State};
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::time::Duration;
use tokio::time::advance;

const SEC: Duration = Duration::from_secs(1);
const MS: Duration = Duration::from_millis(1);
const IGNORED: u8 = 2;

fn probe_panics() -> Result<(), u8> {
    std::panic::panic_any("probe panics")
}

fn fail(b: &CircuitBreaker) {
    b.try_acquire().expect("admitted").failure();
}

fn succeed(b: &CircuitBreaker) {
    b.try_acquire().expect("admitted").success();
}

#[tokio::test(start_paused = true)]
async fn a_failure_rate_waits_for_minimum_calls_and_its_threshold_is_inclusive() {
    let b = CircuitBreaker::builder("port-rate-inclusive")
        .failure_rate(0.5)
        .minimum_calls(4)
        .window(10)
        .build();
    fail(&b);
    fail(&b);
    succeed(&b);
    assert_eq!(b.state(), State::Closed, "3 calls: below minimum_calls");
    assert_eq!(b.metrics().failure_rate, None);
    succeed(&b);
    assert_eq!(b.metrics().failure_rate, Some(0.5));
    assert_eq!(
        b.state(),
        State::Open,
        "2 of 4 is exactly 50 %: inclusive, so it opens"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failure_rate_below_its_threshold_keeps_it_closed() {
    let b = CircuitBreaker::builder("port-rate-below")
        .failure_rate(0.5)
        .minimum_calls(4)
        .window(4)
        .build();
    for _ in 0..25 {
        fail(&b);
        succeed(&b);
        succeed(&b);
        succeed(&b);
    }
    assert_eq!(b.state(), State::Closed, "1 in 4 is 25 %");
    assert_eq!(b.metrics().failure_rate, Some(0.25));
}

#[tokio::test(start_paused = true)]
async fn a_time_window_forgets_calls_older_than_its_span() {
    let b = CircuitBreaker::builder("port-time-window")
        .failure_rate(0.5)
        .minimum_calls(3)
        .window(10 * SEC)
        .build();
    fail(&b);
    fail(&b);
    advance(10 * SEC).await;
    // The two failures are now outside the last ten seconds.
    fail(&b);
    succeed(&b);
    succeed(&b);
    assert_eq!(b.state(), State::Closed, "1 failure in the 3 recent calls");
    assert_eq!(b.metrics().failure_rate, Some(1.0 / 3.0));
    advance(5 * SEC).await;
    fail(&b);
    assert_eq!(b.state(), State::Open, "2 of 4 within the last 10 s");
}

#[tokio::test(start_paused = true)]
async fn slow_calls_open_it_even_when_nothing_fails() {
    let b = CircuitBreaker::builder("port-slow")
        .slow_call(SEC)
        .slow_call_rate(0.5)
        .minimum_calls(4)
        .window(10)
        .build();
    let slow = || async {
        advance(SEC).await; // exactly the threshold: slow (inclusive)
        Ok::<_, u8>(())
    };
    let quick = || async {
        advance(SEC - MS).await;
        Ok::<_, u8>(())
    };
    b.call(quick).await.unwrap();
    b.call(slow).await.unwrap();
    b.call(quick).await.unwrap();
    assert_eq!(b.state(), State::Closed);
    b.call(slow).await.unwrap();
    let m = b.metrics();
    assert_eq!((m.failures, m.slow_calls), (0, 2));
    assert_eq!(m.failure_rate, Some(0.0));
    assert_eq!(b.state(), State::Open, "2 slow calls of 4: 50 %");
}

#[tokio::test(start_paused = true)]
async fn half_open_lets_exactly_half_open_max_calls_through() {
    let b = CircuitBreaker::builder("port-half-open-max")
        .failure_threshold(1)
        .reset_timeout(SEC)
        .half_open_max_calls(3)
        .success_threshold(3)
        .build();
    fail(&b);
    advance(SEC).await;
    let permits: Vec<_> = (0..3).map(|_| b.try_acquire().expect("probe")).collect();
    for _ in 0..5 {
        assert!(matches!(
            b.try_acquire(),
            Err(BreakerError::HalfOpenFull { .. })
        ));
    }
    assert_eq!(b.metrics().rejected, 5);
    for p in permits {
        p.success();
    }
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn an_ignored_error_in_half_open_gives_its_slot_back_and_moves_nothing() {
    let b = CircuitBreaker::builder("port-ignored-probe")
        .failure_threshold(1)
        .reset_timeout(SEC)
        .half_open_max_calls(1)
        .success_threshold(1)
        .ignore_if(|e: &u8| *e == IGNORED)
        .build();
    fail(&b);
    advance(SEC).await;
    for _ in 0..10 {
        let r = b.call(|| async { Err::<(), u8>(IGNORED) }).await;
        assert!(matches!(r, Err(CallError::Inner(IGNORED))), "{r:?}");
        assert_eq!(b.state(), State::HalfOpen);
    }
    assert_eq!(b.metrics().ignored, 10);
    b.call(|| async { Ok::<_, u8>(()) }).await.unwrap();
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_success_resets_the_consecutive_failure_count() {
    let b = CircuitBreaker::builder("port-streak")
        .failure_threshold(3)
        .build();
    for _ in 0..10 {
        fail(&b);
        fail(&b);
        succeed(&b);
    }
    assert_eq!(b.state(), State::Closed, "never 3 failures in a row");
    fail(&b);
    fail(&b);
    fail(&b);
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn force_open_never_recovers_on_its_own() {
    let b = CircuitBreaker::builder("port-forced")
        .reset_timeout(SEC)
        .half_open_timeout(SEC)
        .build();
    b.force_open();
    let ran = AtomicU32::new(0);
    for _ in 0..5 {
        advance(3_600 * SEC).await;
        assert_eq!(b.state(), State::ForcedOpen);
        let r = b
            .call(|| async {
                ran.fetch_add(1, Relaxed);
                Ok::<_, u8>(())
            })
            .await;
        assert!(matches!(
            r,
            Err(CallError::Breaker(BreakerError::ForcedOpen { .. }))
        ));
    }
    assert_eq!(ran.load(Relaxed), 0, "a rejected call never runs its body");
    b.close();
    succeed(&b);
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn disabled_lets_everything_through_and_records_nothing() {
    let b = CircuitBreaker::builder("port-disabled")
        .failure_threshold(1)
        .build();
    b.disable();
    for _ in 0..20 {
        let r = b.call(|| async { Err::<(), u8>(1) }).await;
        assert!(matches!(r, Err(CallError::Inner(1))));
    }
    drop(b.try_acquire().unwrap());
    let m = b.metrics();
    assert_eq!((m.calls, m.failures, m.cancelled), (0, 0, 0));
    assert_eq!(b.state(), State::Disabled);
}

#[tokio::test(start_paused = true)]
async fn metrics_only_records_everything_and_rejects_nothing() {
    let b = CircuitBreaker::builder("port-metrics-only")
        .failure_rate(0.5)
        .minimum_calls(2)
        .window(10)
        .failure_threshold(1)
        .build();
    b.metrics_only();
    for _ in 0..20 {
        fail(&b);
    }
    let m = b.metrics();
    assert_eq!((m.calls, m.failures, m.rejected), (20, 20, 0));
    assert_eq!(m.failure_rate, Some(1.0));
    assert_eq!(m.opened_count, 0);
    assert_eq!(b.state(), State::MetricsOnly);
}

#[tokio::test(start_paused = true)]
async fn a_late_result_from_before_a_transition_changes_nothing() {
    let b = CircuitBreaker::builder("port-late")
        .failure_threshold(2)
        .reset_timeout(SEC)
        .success_threshold(1)
        .build();
    // Admitted while closed; the breaker opens, probes and closes again meanwhile.
    let late_failure = b.try_acquire().unwrap();
    let late_failure_2 = b.try_acquire().unwrap();
    fail(&b);
    fail(&b);
    assert_eq!(b.state(), State::Open);
    advance(SEC).await;
    succeed(&b);
    assert_eq!(b.state(), State::Closed);
    // Two failures from the old closed period: counted, but the new streak is untouched.
    late_failure.failure();
    late_failure_2.record_outcome(Outcome::Failure);
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.metrics().failures, 4);
    // The new streak really is empty: it takes two fresh failures to open.
    fail(&b);
    assert_eq!(b.state(), State::Closed);
    fail(&b);
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn a_late_probe_result_does_not_close_a_re_opened_breaker() {
    let b = CircuitBreaker::builder("port-late-probe")
        .failure_threshold(1)
        .reset_timeout(SEC)
        .half_open_max_calls(2)
        .success_threshold(1)
        .build();
    fail(&b);
    advance(SEC).await;
    let slow_probe = b.try_acquire().unwrap();
    fail(&b); // the other probe fails: open again
    assert_eq!(b.state(), State::Open);
    slow_probe.success();
    assert_eq!(
        b.state(),
        State::Open,
        "a success from the old phase closes nothing"
    );
}

#[tokio::test(start_paused = true)]
async fn a_lost_probe_is_given_up_after_the_half_open_timeout() {
    let b = CircuitBreaker::builder("port-lost-probe")
        .failure_threshold(1)
        .reset_timeout(SEC)
        .half_open_max_calls(1)
        .success_threshold(1)
        .half_open_timeout(10 * SEC)
        .build();
    fail(&b);
    advance(SEC).await;
    // A probe that never reports (its task leaked, its permit forgotten).
    std::mem::forget(b.try_acquire().unwrap());
    advance(10 * SEC - MS).await;
    assert!(matches!(
        b.try_acquire(),
        Err(BreakerError::HalfOpenFull { .. })
    ));
    advance(MS).await;
    assert_eq!(b.state(), State::Open, "no verdict for 10 s: re-opened");
    // The next call re-opens it for another reset_timeout, and then it recovers.
    assert!(matches!(b.try_acquire(), Err(BreakerError::Open { .. })));
    advance(SEC).await;
    succeed(&b);
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn panicking_and_timed_out_probes_re_open_it() {
    let b = CircuitBreaker::builder("port-panic-probe")
        .failure_threshold(1)
        .reset_timeout(SEC)
        .call_timeout(SEC)
        .build();
    fail(&b);
    advance(SEC).await;
    let task_b = b.clone();
    let panicked =
        tokio::spawn(async move { task_b.call(|| async { probe_panics() }).await }).await;
    assert!(panicked.unwrap_err().is_panic());
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.metrics().failures, 2);

    advance(SEC).await;
    let r = b.call(std::future::pending::<Result<(), u8>>).await;
    assert!(matches!(
        r,
        Err(CallError::Breaker(BreakerError::TimedOut { .. }))
    ));
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.metrics().timeouts, 1);
}

#[tokio::test(start_paused = true)]
async fn reset_zeroes_every_metric_and_closes() {
    let b = CircuitBreaker::builder("port-reset")
        .failure_threshold(1)
        .reset_timeout(SEC)
        .build();
    succeed(&b);
    drop(b.try_acquire().unwrap());
    fail(&b);
    assert!(b.try_acquire().is_err());
    let m = b.metrics();
    assert_eq!(
        (
            m.successes,
            m.cancelled,
            m.failures,
            m.rejected,
            m.opened_count
        ),
        (1, 1, 1, 1, 1)
    );
    b.reset();
    let m = b.metrics();
    assert_eq!(
        (
            m.calls,
            m.successes,
            m.failures,
            m.ignored,
            m.rejected,
            m.cancelled,
            m.timeouts,
            m.slow_calls,
            m.opened_count
        ),
        (0, 0, 0, 0, 0, 0, 0, 0, 0)
    );
    assert_eq!(m.failure_rate, None);
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn backoff_grows_the_wait_with_each_re_open_and_closing_resets_it() {
    let b = CircuitBreaker::builder("port-backoff")
        .failure_threshold(1)
        .reset_timeout(10 * SEC)
        .success_threshold(1)
        .backoff(breaker_runtime::Backoff::exponential(2.0).max(35 * SEC))
        .build();
    fail(&b);
    for wait in [10, 20, 35, 35] {
        let retry = b.try_acquire().unwrap_err().retry_after();
        assert_eq!(retry, Some(wait * SEC));
        advance(wait * SEC).await;
        fail(&b); // the probe fails: re-open, one level up
    }
    advance(35 * SEC).await;
    succeed(&b);
    assert_eq!(b.state(), State::Closed);
    fail(&b);
    assert_eq!(b.try_acquire().unwrap_err().retry_after(), Some(10 * SEC));
}
