//! Every transition of the contract's "States" list, on tokio's paused clock.

mod common;

use breaker_runtime::{
    BreakerError, BreakerEvent, CallError, CircuitBreaker, CircuitBreakerBuilder, State,
    TransitionReason,
};
use common::{fail, ok, R};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::advance;

/// A breaker that opens on its first failure and probes 1 s later, with `configure`'s
/// settings besides: opened by one failure, then half-open once that second has passed.
async fn half_open(
    name: &str,
    configure: impl FnOnce(CircuitBreakerBuilder) -> CircuitBreakerBuilder,
) -> Arc<CircuitBreaker> {
    let b = configure(
        CircuitBreaker::builder(name)
            .failure_threshold(1)
            .reset_timeout(Duration::from_secs(1)),
    )
    .build();
    fail(&b).await.unwrap_err();
    advance(Duration::from_secs(1)).await;
    b
}

#[tokio::test(start_paused = true)]
async fn closed_opens_after_failure_threshold_in_a_row() {
    let b = CircuitBreaker::builder("s-threshold")
        .failure_threshold(3)
        .build();
    fail(&b).await.unwrap_err();
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Closed);
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.metrics().opened_count, 1);
}

#[tokio::test(start_paused = true)]
async fn a_success_ends_the_failure_streak() {
    let b = CircuitBreaker::builder("s-streak")
        .failure_threshold(3)
        .build();
    for _ in 0..5 {
        fail(&b).await.unwrap_err();
        fail(&b).await.unwrap_err();
        ok(&b).await.unwrap();
    }
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.metrics().failures, 10);
}

#[tokio::test(start_paused = true)]
async fn open_rejects_without_running_the_call_and_says_when_to_retry() {
    let b = CircuitBreaker::builder("s-reject")
        .failure_threshold(1)
        .reset_timeout(Duration::from_secs(30))
        .build();
    fail(&b).await.unwrap_err();
    advance(Duration::from_secs(10)).await;
    let ran = AtomicU32::new(0);
    let r: R = b
        .call(|| async {
            ran.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .await;
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    match r {
        Err(CallError::Breaker(BreakerError::Open { name, retry_after })) => {
            assert_eq!(name, "s-reject");
            assert_eq!(retry_after, Duration::from_secs(20));
        }
        other => panic!("expected Open, got {other:?}"),
    }
    assert_eq!(b.metrics().rejected, 1);
}

#[tokio::test(start_paused = true)]
async fn open_becomes_half_open_once_reset_timeout_passes_without_a_call() {
    let b = CircuitBreaker::builder("s-half-open")
        .failure_threshold(1)
        .reset_timeout(Duration::from_secs(30))
        .build();
    fail(&b).await.unwrap_err();
    advance(Duration::from_millis(29_999)).await;
    assert_eq!(b.state(), State::Open);
    advance(Duration::from_millis(1)).await;
    assert_eq!(b.state(), State::HalfOpen);
}

#[tokio::test(start_paused = true)]
async fn half_open_closes_after_success_threshold() {
    let b = half_open("s-close", |b| b.success_threshold(3)).await;
    ok(&b).await.unwrap();
    ok(&b).await.unwrap();
    assert_eq!(b.state(), State::HalfOpen);
    ok(&b).await.unwrap();
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn any_failure_in_half_open_reopens() {
    let b = half_open("s-reopen", |b| b.success_threshold(3)).await;
    ok(&b).await.unwrap();
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.metrics().opened_count, 2);
}

#[tokio::test(start_paused = true)]
async fn half_open_admits_exactly_half_open_max_calls_at_once() {
    let b = half_open("s-permits", |b| {
        b.success_threshold(5).half_open_max_calls(2)
    })
    .await;
    let p1 = b.try_acquire().expect("first probe");
    let p2 = b.try_acquire().expect("second probe");
    assert!(matches!(
        b.try_acquire().unwrap_err(),
        BreakerError::HalfOpenFull { name } if name == "s-permits"
    ));
    p1.success();
    let p3 = b.try_acquire().expect("a finished probe frees its slot");
    p2.success();
    p3.success();
    assert_eq!(b.state(), State::HalfOpen);
    assert_eq!(b.metrics().rejected, 1);
}

#[tokio::test(start_paused = true)]
async fn half_open_max_calls_defaults_to_success_threshold() {
    let b = half_open("s-default-permits", |b| b.success_threshold(3)).await;
    let permits: Vec<_> = (0..3).map(|_| b.try_acquire().unwrap()).collect();
    assert!(b.try_acquire().is_err());
    drop(permits);
}

#[tokio::test(start_paused = true)]
async fn probes_without_verdict_reopen_after_half_open_timeout() {
    let b = half_open("s-ho-timeout", |b| {
        b.success_threshold(1)
            .half_open_timeout(Duration::from_secs(5))
    })
    .await;
    let stuck = b.try_acquire().expect("probe");
    advance(Duration::from_millis(4_999)).await;
    assert!(matches!(
        b.try_acquire(),
        Err(BreakerError::HalfOpenFull { .. })
    ));
    advance(Duration::from_millis(1)).await;
    assert_eq!(b.state(), State::Open);
    assert!(matches!(b.try_acquire(), Err(BreakerError::Open { .. })));
    // The stuck probe's late success must not close the newer phase.
    stuck.success();
    assert_eq!(b.state(), State::Open);
    advance(Duration::from_secs(1)).await;
    ok(&b).await.unwrap();
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn closing_clears_the_failure_streak_and_the_backoff() {
    let b = CircuitBreaker::builder("s-clear")
        .failure_threshold(2)
        .success_threshold(1)
        .reset_timeout(Duration::from_secs(10))
        .backoff(breaker_runtime::Backoff::exponential(2.0))
        .build();
    fail(&b).await.unwrap_err();
    fail(&b).await.unwrap_err();
    advance(Duration::from_secs(10)).await;
    fail(&b).await.unwrap_err(); // re-open: waits 20 s
    advance(Duration::from_secs(20)).await;
    ok(&b).await.unwrap(); // closes
    assert_eq!(b.state(), State::Closed);
    fail(&b).await.unwrap_err();
    assert_eq!(
        b.state(),
        State::Closed,
        "the streak restarted at the close"
    );
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Open);
    advance(Duration::from_secs(10)).await;
    assert_eq!(
        b.state(),
        State::HalfOpen,
        "the backoff restarted at the close"
    );
}

#[tokio::test(start_paused = true)]
async fn every_transition_is_an_event_after_the_fact() {
    let b = CircuitBreaker::builder("s-events")
        .failure_threshold(1)
        .success_threshold(1)
        .reset_timeout(Duration::from_secs(1))
        .build();
    let mut events = b.subscribe();
    fail(&b).await.unwrap_err();
    ok(&b).await.unwrap_err(); // rejected
    advance(Duration::from_secs(1)).await;
    ok(&b).await.unwrap();
    let mut seen = Vec::new();
    while let Some(e) = events.try_recv() {
        seen.push(e);
    }
    let t = |from, to, reason| BreakerEvent::StateTransition {
        name: "s-events".into(),
        from,
        to,
        reason,
    };
    assert_eq!(
        seen,
        vec![
            t(
                State::Closed,
                State::Open,
                TransitionReason::FailureThreshold
            ),
            BreakerEvent::Rejected {
                name: "s-events".into(),
                state: State::Open
            },
            t(
                State::Open,
                State::HalfOpen,
                TransitionReason::ResetTimeoutElapsed
            ),
            t(
                State::HalfOpen,
                State::Closed,
                TransitionReason::ProbesSucceeded
            ),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_probe_reopens_while_other_probes_are_in_flight() {
    let b = half_open("s-probe-race", |b| {
        b.success_threshold(3).half_open_max_calls(3)
    })
    .await;
    // Two probes in flight; one fails.
    let failing = b.try_acquire().unwrap();
    let other = b.try_acquire().unwrap();
    failing.failure();
    assert_eq!(b.state(), State::Open);
    other.success();
    assert_eq!(
        b.state(),
        State::Open,
        "a probe of the old phase changes nothing"
    );
}

/// `snapshot().retry_after_ms` has one meaning: the wait of an open breaker. Half-open, before
/// its first probe as after it, there is no wait: `None` (issue 13, item 13).
#[tokio::test(start_paused = true)]
async fn retry_after_ms_is_none_once_half_open_probe_or_not() {
    let b = CircuitBreaker::builder("states-retry-after-ms")
        .failure_threshold(1)
        .reset_timeout(Duration::from_secs(10))
        .success_threshold(2)
        .build();
    let _ = fail(&b).await;
    assert_eq!(b.snapshot().retry_after_ms, Some(10_000));
    advance(Duration::from_secs(4)).await;
    assert_eq!(b.snapshot().retry_after_ms, Some(6_000));
    advance(Duration::from_secs(6)).await;
    let before_probe = b.snapshot();
    assert_eq!(before_probe.state, State::HalfOpen);
    assert_eq!(
        before_probe.retry_after_ms, None,
        "half-open before its first probe"
    );
    ok(&b).await.unwrap();
    let after_probe = b.snapshot();
    assert_eq!(after_probe.state, State::HalfOpen);
    assert_eq!(after_probe.retry_after_ms, None, "half-open after a probe");
}

/// In a manual state, `computed_state` is what the contract's Closed → Open rule would make
/// of the counts: `failure_threshold` failures in a row open (a success ends the run), as they
/// would a closed breaker. Metrics-only counts the run from when it was entered.
#[tokio::test(start_paused = true)]
async fn computed_state_opens_on_failure_threshold_failures_in_a_row() {
    let b = CircuitBreaker::builder("states-computed-threshold")
        .failure_threshold(3)
        .build();
    b.metrics_only();
    let computed = |b: &CircuitBreaker| b.snapshot().computed_state;
    for _ in 0..2 {
        let _ = fail(&b).await;
    }
    assert_eq!(computed(&b), Some(State::Closed), "2 failures of 3");
    ok(&b).await.unwrap();
    for _ in 0..2 {
        let _ = fail(&b).await;
    }
    assert_eq!(computed(&b), Some(State::Closed), "a success ended the run");
    let _ = fail(&b).await;
    assert_eq!(computed(&b), Some(State::Open), "3 failures in a row");
    for _ in 0..2 {
        let _ = fail(&b).await;
    }
    assert_eq!(computed(&b), Some(State::Open), "5 failures in a row");
    ok(&b).await.unwrap();
    assert_eq!(computed(&b), Some(State::Closed), "the run ended");
    assert_eq!(b.state(), State::MetricsOnly, "metrics-only never rejects");

    let forced = CircuitBreaker::builder("states-computed-forced")
        .failure_threshold(3)
        .build();
    forced.force_open();
    assert_eq!(computed(&forced), Some(State::Closed), "no failures");
}

/// The rates' half of the rule: a rate at its threshold opens once the window holds
/// `minimum_calls`, not before.
#[tokio::test(start_paused = true)]
async fn computed_state_opens_on_a_rate_once_the_window_holds_minimum_calls() {
    let b = CircuitBreaker::builder("states-computed-rate")
        .failure_rate(0.5)
        .minimum_calls(4)
        .build();
    b.metrics_only();
    for _ in 0..3 {
        let _ = fail(&b).await;
    }
    assert_eq!(
        b.snapshot().computed_state,
        Some(State::Closed),
        "3 calls of the 4 minimum_calls, all failed"
    );
    ok(&b).await.unwrap();
    assert_eq!(
        b.snapshot().computed_state,
        Some(State::Open),
        "3 of 4 failed >= 0.5"
    );

    let slow = CircuitBreaker::builder("states-computed-slow")
        .slow_call(Duration::from_millis(100))
        .slow_call_rate(0.5)
        .minimum_calls(2)
        .build();
    slow.metrics_only();
    let slow_ok = || {
        slow.call(|| async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok::<_, &str>(())
        })
    };
    slow_ok().await.unwrap();
    assert_eq!(
        slow.snapshot().computed_state,
        Some(State::Closed),
        "1 call of 2"
    );
    ok(&slow).await.unwrap();
    assert_eq!(
        slow.snapshot().computed_state,
        Some(State::Open),
        "1 slow of 2 >= 0.5"
    );
}
