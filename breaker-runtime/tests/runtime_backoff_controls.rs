//! Each backoff, each manual control, and the registry's first-config-wins rule.

use breaker_runtime::{registry, Backoff, BreakerConfig, CircuitBreaker, State};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::advance;

mod common;
use common::logs::with_logs;

/// Opens the breaker from half-open: one failing probe.
fn fail_probe(b: &CircuitBreaker) {
    b.try_acquire().expect("probe admitted").failure();
}

/// How long the breaker stays open, found by advancing 1 ms at a time.
async fn open_for(b: &CircuitBreaker) -> Duration {
    let mut waited = Duration::ZERO;
    while b.state() == State::Open {
        advance(Duration::from_millis(1)).await;
        waited += Duration::from_millis(1);
    }
    waited
}

fn breaker(name: &str, backoff: Backoff) -> Arc<CircuitBreaker> {
    CircuitBreaker::builder(name)
        .failure_threshold(1)
        .reset_timeout(Duration::from_millis(100))
        .backoff(backoff)
        .build()
}

#[tokio::test(start_paused = true)]
async fn fixed_backoff_waits_the_same_each_time() {
    let b = breaker("b-fixed", Backoff::fixed());
    b.try_acquire().unwrap().failure();
    let mut waits = vec![open_for(&b).await];
    for _ in 0..3 {
        fail_probe(&b);
        waits.push(open_for(&b).await);
    }
    assert_eq!(waits, [100, 100, 100, 100].map(Duration::from_millis));
}

#[tokio::test(start_paused = true)]
async fn linear_backoff_adds_a_step_per_reopen_up_to_its_max() {
    let b = breaker(
        "b-linear",
        Backoff::linear(Duration::from_millis(50)).max(Duration::from_millis(220)),
    );
    b.try_acquire().unwrap().failure();
    let mut waits = vec![open_for(&b).await];
    for _ in 0..4 {
        fail_probe(&b);
        waits.push(open_for(&b).await);
    }
    assert_eq!(waits, [100, 150, 200, 220, 220].map(Duration::from_millis));
}

#[tokio::test(start_paused = true)]
async fn exponential_backoff_multiplies_per_reopen_up_to_its_max() {
    let b = breaker(
        "b-exponential",
        Backoff::exponential(2.0).max(Duration::from_millis(500)),
    );
    b.try_acquire().unwrap().failure();
    let mut waits = vec![open_for(&b).await];
    for _ in 0..4 {
        fail_probe(&b);
        waits.push(open_for(&b).await);
    }
    assert_eq!(waits, [100, 200, 400, 500, 500].map(Duration::from_millis));
}

/// Regression: with a zero reset timeout, `0 s × 1e200^n` was NaN from n = 2 (1e400 is
/// infinite) and fell back to the one-year cap, so from the second failed probe on the breaker
/// stayed open for a year ("retry in 8760h"). Any multiple of zero is zero: every re-open's
/// wait is zero, and the next call is a probe at once.
#[tokio::test(start_paused = true)]
async fn a_zero_reset_timeout_stays_zero_under_a_huge_exponential_backoff() {
    let b = CircuitBreaker::builder("b-zero-huge-exponential")
        .failure_threshold(1)
        .reset_timeout(Duration::ZERO)
        .backoff(Backoff::exponential(1e200))
        .build();
    b.try_acquire().unwrap().failure();
    for reopen in 1..=5u64 {
        assert_eq!(b.state(), State::HalfOpen, "after re-open {reopen}");
        let retry_ms = b.snapshot().retry_after_ms;
        assert!(
            retry_ms.unwrap_or(0) == 0,
            "re-open {reopen}: retry_after_ms {retry_ms:?} exceeds the zero reset timeout"
        );
        // The next call is a probe, at once; it fails and re-opens the breaker.
        fail_probe(&b);
        assert_eq!(b.metrics().opened_count, reopen + 1);
    }
    assert_eq!(b.state(), State::HalfOpen);
    let m = b.metrics();
    assert_eq!((m.failures, m.rejected), (6, 0));
}

#[tokio::test(start_paused = true)]
async fn jitter_shortens_waits_within_its_fraction() {
    let b = breaker("b-jitter", Backoff::exponential(2.0).jitter(0.5));
    b.try_acquire().unwrap().failure();
    let first = open_for(&b).await;
    assert!(
        (50..=100).contains(&(first.as_millis() as u64)),
        "{first:?}"
    );
    fail_probe(&b);
    let second = open_for(&b).await;
    assert!(
        (100..=200).contains(&(second.as_millis() as u64)),
        "{second:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn force_open_rejects_until_closed_and_never_recovers_alone() {
    let b = CircuitBreaker::builder("c-force")
        .reset_timeout(Duration::from_secs(1))
        .build();
    b.force_open();
    advance(Duration::from_secs(3600)).await;
    assert_eq!(b.state(), State::ForcedOpen);
    assert!(b.try_acquire().is_err());
    b.close();
    assert_eq!(b.state(), State::Closed);
    assert!(b.try_acquire().is_ok());
}

#[tokio::test(start_paused = true)]
async fn disabled_lets_everything_through_and_records_nothing() {
    let b = CircuitBreaker::builder("c-disable")
        .failure_threshold(1)
        .build();
    b.disable();
    for _ in 0..10 {
        let r = b.call_sync(|| Err::<(), _>("down"));
        assert!(r.unwrap_err().into_inner().is_some(), "the call ran");
    }
    assert_eq!(b.state(), State::Disabled);
    assert_eq!(b.metrics().calls, 0);
}

#[tokio::test(start_paused = true)]
async fn metrics_only_records_everything_and_never_rejects() {
    let b = CircuitBreaker::builder("c-metrics-only")
        .failure_rate(0.5)
        .minimum_calls(2)
        .build();
    b.metrics_only();
    for _ in 0..10 {
        let r = b.call_sync(|| Err::<(), _>("down"));
        assert!(r.unwrap_err().into_inner().is_some(), "the call ran");
    }
    let m = b.metrics();
    assert_eq!(
        (m.state, m.failures, m.rejected),
        (State::MetricsOnly, 10, 0)
    );
    assert_eq!(m.failure_rate, Some(1.0));
}

#[tokio::test(start_paused = true)]
async fn reset_closes_and_zeroes_the_metrics() {
    let b = CircuitBreaker::builder("c-reset")
        .failure_threshold(1)
        .build();
    let _ = b.call_sync(|| Err::<(), _>("down"));
    let _ = b.call_sync(|| Ok::<_, &str>(()));
    assert_eq!(b.state(), State::Open);
    b.reset();
    let m = b.metrics();
    assert_eq!(
        (m.state, m.calls, m.failures, m.rejected, m.opened_count),
        (State::Closed, 0, 0, 0, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn close_from_open_lets_calls_through_again() {
    let b = CircuitBreaker::builder("c-close")
        .failure_threshold(1)
        .build();
    let _ = b.call_sync(|| Err::<(), _>("down"));
    b.close();
    assert_eq!(b.call_sync(|| Ok::<_, &str>(7)).unwrap(), 7);
    assert_eq!(b.metrics().failures, 1, "close keeps the metrics");
}

#[test]
fn the_first_config_wins_and_a_different_one_is_a_warning() {
    let ((), logs) = with_logs(tracing::Level::TRACE, |captured| {
        let first = BreakerConfig::builder().failure_threshold(1).build();
        let a = registry().get_or_create("reg-first-wins", first.clone());
        let b = registry().get_or_create("reg-first-wins", first);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(captured.take().is_empty(), "the same config is no warning");

        let other = BreakerConfig::builder().failure_threshold(9).build();
        let c = registry().get_or_create("reg-first-wins", other);
        assert!(Arc::ptr_eq(&a, &c));
        let _ = c.call_sync(|| Err::<(), _>("down"));
        assert_eq!(
            c.state(),
            State::Open,
            "threshold 1 from the first config applies"
        );
    });
    let text = logs.take();
    assert!(text.contains("WARN"), "{text}");
    assert!(text.contains("reg-first-wins"), "{text}");
    assert!(
        text.contains("failure_threshold: Some(1)"),
        "names the first config: {text}"
    );
    assert!(
        text.contains("failure_threshold: Some(9)"),
        "names the ignored config: {text}"
    );
}

#[test]
fn registry_snapshot_and_health_see_every_state() {
    let reg = breaker_runtime::Registry::new();
    let open = reg.get_or_create(
        "h-open",
        BreakerConfig::builder().failure_threshold(1).build(),
    );
    let _ = open.call_sync(|| Err::<(), _>("down"));
    reg.get_or_create("h-closed", BreakerConfig::default());
    reg.get_or_create("h-forced", BreakerConfig::default())
        .force_open();
    let health = reg.health();
    assert_eq!(
        (health.total, health.closed, health.open, health.forced_open),
        (3, 1, 1, 1)
    );
    assert!(!health.is_healthy());
    let snap = reg.snapshot();
    let names: Vec<_> = snap.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["h-closed", "h-forced", "h-open"]);
    assert_eq!(snap[2].state, State::Open);
    assert_eq!(snap[2].metrics.failures, 1);
    assert!(snap[2].retry_after_ms.is_some());
    let json = serde_json::to_value(&snap[2]).unwrap();
    assert_eq!(json["state"], "open");
    assert_eq!(json["metrics"]["failures"], 1);
}
