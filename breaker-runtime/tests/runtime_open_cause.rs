//! The cause of an open breaker: the `Display` text of the failure that opened it, formatted
//! once per transition, in the snapshot and in the open's log line.

use breaker_runtime::{BreakerEvent, CircuitBreaker, State, TransitionReason};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

/// An error that counts how often it is formatted.
struct Counted<'a>(&'a str, &'a AtomicUsize);

impl fmt::Display for Counted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.1.fetch_add(1, SeqCst);
        f.write_str(self.0)
    }
}

fn events(rx: &mut breaker_runtime::EventReceiver) -> Vec<BreakerEvent> {
    std::iter::from_fn(|| rx.try_recv()).collect()
}

#[tokio::test(start_paused = true)]
async fn the_failure_that_opens_is_kept_formatted_once_and_announced() {
    let b = CircuitBreaker::builder("cause-threshold")
        .failure_threshold(3)
        .success_threshold(1)
        .reset_timeout(Duration::from_secs(10))
        .build();
    let mut rx = b.subscribe();
    let formats = AtomicUsize::new(0);
    for text in ["first", "second"] {
        b.try_acquire()
            .unwrap()
            .failure_because(&Counted(text, &formats));
    }
    assert_eq!(
        formats.load(SeqCst),
        0,
        "a failure that opens nothing is not formatted"
    );
    assert_eq!(b.snapshot().open_cause, None);
    b.try_acquire()
        .unwrap()
        .failure_because(&Counted("db down: connection refused", &formats));
    assert_eq!(b.state(), State::Open);
    assert_eq!(
        formats.load(SeqCst),
        1,
        "formatted once, for the transition"
    );
    assert_eq!(
        b.open_cause().as_deref(),
        Some("db down: connection refused")
    );
    assert_eq!(
        b.snapshot().open_cause.as_deref(),
        Some("db down: connection refused")
    );
    let seen = events(&mut rx);
    assert_eq!(
        seen,
        vec![BreakerEvent::StateTransition {
            name: "cause-threshold".into(),
            from: State::Closed,
            to: State::Open,
            reason: TransitionReason::FailureThreshold,
        },]
    );

    // Kept through half-open; a failed probe's own failure replaces it.
    tokio::time::advance(Duration::from_secs(10)).await;
    assert_eq!(b.state(), State::HalfOpen);
    assert_eq!(
        b.snapshot().open_cause.as_deref(),
        Some("db down: connection refused")
    );
    b.try_acquire()
        .unwrap()
        .failure_because(&Counted("still down", &formats));
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.open_cause().as_deref(), Some("still down"));
    assert_eq!(formats.load(SeqCst), 2);

    // Closing forgets it; an open by hand has none.
    tokio::time::advance(Duration::from_secs(60)).await;
    b.try_acquire().unwrap().success();
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.snapshot().open_cause, None);
    b.open_for(Duration::from_secs(5));
    assert_eq!(b.snapshot().open_cause, None);
}

#[tokio::test(start_paused = true)]
async fn a_rate_keeps_the_failure_that_reached_it_and_plain_failures_keep_none() {
    let b = CircuitBreaker::builder("cause-rate")
        .failure_rate(0.5)
        .minimum_calls(4)
        .window(4)
        .build();
    b.try_acquire().unwrap().success();
    b.try_acquire().unwrap().success();
    b.try_acquire()
        .unwrap()
        .failure_because(&"timeout talking to shard 3");
    assert_eq!(b.state(), State::Closed);
    b.try_acquire()
        .unwrap()
        .failure_because(&"shard 7 unreachable");
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.open_cause().as_deref(), Some("shard 7 unreachable"));

    // A failure recorded without text opens with no cause.
    let plain = CircuitBreaker::builder("cause-plain")
        .failure_threshold(1)
        .build();
    plain.try_acquire().unwrap().failure();
    assert_eq!(plain.state(), State::Open);
    assert_eq!(plain.open_cause(), None);
}

#[tokio::test(start_paused = true)]
async fn a_call_timeout_and_a_panic_say_so() {
    let b = CircuitBreaker::builder("cause-timeout")
        .failure_threshold(1)
        .call_timeout(Duration::from_secs(2))
        .build();
    let r = b
        .call(|| async {
            std::future::pending::<()>().await;
            Ok::<(), std::io::Error>(())
        })
        .await;
    assert!(r.is_err());
    assert_eq!(b.state(), State::Open);
    let cause = b.open_cause().unwrap();
    assert!(cause.contains("timed out after 2s"), "{cause}");

    let p = CircuitBreaker::builder("cause-panic")
        .failure_threshold(1)
        .build();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = p.call_sync(|| -> Result<(), ()> { panic!("boom") });
    }));
    assert!(caught.is_err());
    assert_eq!(p.state(), State::Open);
    assert_eq!(p.open_cause().as_deref(), Some("the call panicked"));
}

#[cfg(feature = "serde")]
#[test]
fn the_snapshot_serializes_the_cause() {
    let b = CircuitBreaker::builder("cause-serde")
        .failure_threshold(1)
        .build();
    b.try_acquire().unwrap().failure_because(&"quota exceeded");
    let json = serde_json::to_value(b.snapshot()).unwrap();
    assert_eq!(json["open_cause"], "quota exceeded");
}
