//! Failure-rate and slow-call-rate policies over count and time windows.

mod common;

use breaker_runtime::{CircuitBreaker, State};
use common::{fail, ok, R};
use std::time::Duration;
use tokio::time::{advance, sleep};

async fn slow_ok(b: &CircuitBreaker, took: Duration) -> R {
    b.call(|| async move {
        sleep(took).await;
        Ok(())
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn failure_rate_waits_for_minimum_calls() {
    let b = CircuitBreaker::builder("r-minimum")
        .failure_rate(0.5)
        .minimum_calls(4)
        .window(10)
        .build();
    for _ in 0..3 {
        fail(&b).await.unwrap_err();
    }
    assert_eq!(b.state(), State::Closed, "3 calls are below minimum_calls");
    assert_eq!(b.metrics().failure_rate, None);
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn failure_rate_threshold_is_inclusive() {
    let b = CircuitBreaker::builder("r-inclusive")
        .failure_rate(0.5)
        .minimum_calls(4)
        .window(4)
        .build();
    ok(&b).await.unwrap();
    ok(&b).await.unwrap();
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Closed);
    fail(&b).await.unwrap_err(); // 2 of 4 = 0.5
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn failure_rate_below_the_threshold_stays_closed() {
    let b = CircuitBreaker::builder("r-below")
        .failure_rate(0.5)
        .minimum_calls(10)
        .window(10)
        .build();
    for i in 0..100 {
        if i % 3 == 0 {
            fail(&b).await.unwrap_err();
        } else {
            ok(&b).await.unwrap();
        }
    }
    assert_eq!(b.state(), State::Closed);
    let rate = b.metrics().failure_rate.expect("window is full");
    assert!((0.3..=0.4).contains(&rate), "{rate}");
}

#[tokio::test(start_paused = true)]
async fn a_count_window_forgets_calls_older_than_its_size() {
    let b = CircuitBreaker::builder("r-count-forget")
        .failure_rate(0.5)
        .minimum_calls(4)
        .window(4)
        .build();
    fail(&b).await.unwrap_err();
    for _ in 0..3 {
        ok(&b).await.unwrap();
    }
    // The window holds [F, S, S, S]; a failure now pushes the old failure out.
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.metrics().failure_rate, Some(0.25));
}

#[tokio::test(start_paused = true)]
async fn a_time_window_forgets_calls_older_than_its_span() {
    let b = CircuitBreaker::builder("r-time-forget")
        .failure_rate(0.5)
        .minimum_calls(4)
        .window(Duration::from_secs(10))
        .build();
    for _ in 0..3 {
        fail(&b).await.unwrap_err();
    }
    advance(Duration::from_secs(11)).await;
    // The three old failures have left the window: one more is 1 of 1, below minimum.
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Closed);
    ok(&b).await.unwrap();
    ok(&b).await.unwrap();
    fail(&b).await.unwrap_err(); // 2 of 4 within the span
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn slow_calls_open_it_even_when_nothing_fails() {
    let b = CircuitBreaker::builder("r-slow")
        .slow_call(Duration::from_millis(500))
        .slow_call_rate(0.5)
        .minimum_calls(4)
        .window(4)
        .build();
    ok(&b).await.unwrap();
    ok(&b).await.unwrap();
    slow_ok(&b, Duration::from_millis(499)).await.unwrap();
    assert_eq!(b.state(), State::Closed, "499 ms is not slow");
    slow_ok(&b, Duration::from_millis(500)).await.unwrap();
    assert_eq!(b.state(), State::Closed, "1 slow of 4");
    slow_ok(&b, Duration::from_secs(2)).await.unwrap();
    assert_eq!(b.state(), State::Open, "2 slow of the last 4");
    let m = b.metrics();
    assert_eq!((m.slow_calls, m.failures, m.successes), (2, 0, 5));
}

#[tokio::test(start_paused = true)]
async fn closing_empties_the_window() {
    let b = CircuitBreaker::builder("r-close-clears")
        .failure_rate(0.5)
        .minimum_calls(2)
        .window(10)
        .success_threshold(1)
        .reset_timeout(Duration::from_secs(1))
        .build();
    fail(&b).await.unwrap_err();
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Open);
    advance(Duration::from_secs(1)).await;
    ok(&b).await.unwrap();
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.metrics().failure_rate, None, "the window starts empty");
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Closed, "1 call is below minimum_calls");
}
