//! Every outcome of the contract's "Outcomes" list.

use breaker_runtime::{BreakerError, CallError, CircuitBreaker, State};
use std::future::pending;
use std::panic::AssertUnwindSafe;
use std::time::Duration;
use tokio::time::advance;

#[derive(Debug, PartialEq)]
enum AppError {
    Unavailable,
    NotFound,
    BadRequest,
}

#[tokio::test(start_paused = true)]
async fn ok_is_a_success_and_err_a_failure() {
    let b = CircuitBreaker::builder("o-basic").build();
    let _ = b.call(|| async { Ok::<_, AppError>(()) }).await;
    let _ = b
        .call(|| async { Err::<(), _>(AppError::Unavailable) })
        .await;
    let m = b.metrics();
    assert_eq!((m.calls, m.successes, m.failures), (2, 1, 1));
}

#[tokio::test(start_paused = true)]
async fn failure_if_decides_which_errors_are_failures() {
    let b = CircuitBreaker::builder("o-failure-if")
        .failure_threshold(1)
        .failure_if(|e: &AppError| *e == AppError::Unavailable)
        .build();
    let r = b.call(|| async { Err::<(), _>(AppError::NotFound) }).await;
    assert!(matches!(r, Err(CallError::Inner(AppError::NotFound))));
    assert_eq!(
        b.state(),
        State::Closed,
        "NotFound means the dependency answered"
    );
    assert_eq!(b.metrics().successes, 1);
    let _ = b
        .call(|| async { Err::<(), _>(AppError::Unavailable) })
        .await;
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn ignore_if_records_nothing_and_returns_the_half_open_permit() {
    let b = CircuitBreaker::builder("o-ignore-if")
        .failure_threshold(1)
        .success_threshold(1)
        .half_open_max_calls(1)
        .reset_timeout(Duration::from_secs(1))
        .ignore_if(|e: &AppError| *e == AppError::BadRequest)
        .build();
    let _ = b
        .call(|| async { Err::<(), _>(AppError::BadRequest) })
        .await;
    assert_eq!(b.state(), State::Closed);
    let _ = b
        .call(|| async { Err::<(), _>(AppError::Unavailable) })
        .await;
    advance(Duration::from_secs(1)).await;
    // The only probe slot is used by an ignored call, and given back.
    let _ = b
        .call(|| async { Err::<(), _>(AppError::BadRequest) })
        .await;
    assert_eq!(b.state(), State::HalfOpen);
    b.call(|| async { Ok::<_, AppError>(()) }).await.unwrap();
    assert_eq!(b.state(), State::Closed);
    let m = b.metrics();
    assert_eq!((m.ignored, m.failures, m.successes), (2, 1, 1));
}

#[test]
fn a_panic_is_a_failure_and_keeps_unwinding() {
    let b = CircuitBreaker::builder("o-panic-sync")
        .failure_threshold(1)
        .build();
    let caught = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let _ = b.call_sync(|| -> Result<(), AppError> { panic!("bug in the body") });
    }));
    assert!(caught.is_err(), "the panic reached the caller");
    assert_eq!(b.metrics().failures, 1);
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_a_spawned_call_is_a_failure_not_a_cancellation() {
    let b = CircuitBreaker::builder("o-panic-async")
        .failure_threshold(1)
        .build();
    let b2 = b.clone();
    let joined = tokio::spawn(async move {
        b2.call(|| async {
            tokio::task::yield_now().await;
            if true {
                panic!("bug in the body");
            }
            Ok::<(), AppError>(())
        })
        .await
    })
    .await;
    assert!(joined.unwrap_err().is_panic());
    let m = b.metrics();
    assert_eq!((m.failures, m.cancelled), (1, 0));
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_call_is_counted_once_and_gives_back_its_permit() {
    let b = CircuitBreaker::builder("o-cancel")
        .failure_threshold(1)
        .success_threshold(1)
        .half_open_max_calls(1)
        .reset_timeout(Duration::from_secs(1))
        .build();
    let _ = b
        .call(|| async { Err::<(), _>(AppError::Unavailable) })
        .await;
    advance(Duration::from_secs(1)).await;
    for _ in 0..3 {
        let probe = b.call(pending::<Result<(), AppError>>);
        let r = tokio::time::timeout(Duration::from_millis(10), probe).await;
        assert!(r.is_err(), "the probe never finishes; the timeout drops it");
    }
    assert_eq!(b.state(), State::HalfOpen, "cancellations are not verdicts");
    b.call(|| async { Ok::<_, AppError>(()) }).await.unwrap();
    assert_eq!(b.state(), State::Closed);
    let m = b.metrics();
    assert_eq!(
        (m.cancelled, m.successes, m.failures, m.calls),
        (3, 1, 1, 5)
    );
}

#[tokio::test(start_paused = true)]
async fn call_timeout_cuts_the_call_and_counts_a_failure() {
    let b = CircuitBreaker::builder("o-timeout")
        .failure_threshold(1)
        .call_timeout(Duration::from_millis(200))
        .build();
    let r = b.call(pending::<Result<(), AppError>>).await;
    match r {
        Err(CallError::Breaker(BreakerError::TimedOut { name, after })) => {
            assert_eq!(
                (name.as_str(), after),
                ("o-timeout", Duration::from_millis(200))
            );
        }
        other => panic!("expected TimedOut, got {other:?}"),
    }
    let m = b.metrics();
    assert_eq!((m.failures, m.timeouts, m.cancelled), (1, 1, 0));
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn a_late_result_does_not_touch_the_new_state() {
    let b = CircuitBreaker::builder("o-late")
        .failure_threshold(2)
        .success_threshold(1)
        .reset_timeout(Duration::from_secs(1))
        .build();
    let early = b.try_acquire().unwrap();
    b.try_acquire().unwrap().failure();
    b.try_acquire().unwrap().failure();
    assert_eq!(b.state(), State::Open);
    advance(Duration::from_secs(1)).await;
    b.try_acquire().unwrap().success();
    assert_eq!(b.state(), State::Closed);
    b.try_acquire().unwrap().failure(); // streak of 1 in the new phase
    early.failure(); // admitted two phases ago
    assert_eq!(
        b.state(),
        State::Closed,
        "the late failure must not count in the new streak"
    );
    assert_eq!(b.metrics().failures, 4, "but it is still counted");
}

#[tokio::test(start_paused = true)]
async fn a_rejected_call_never_runs_its_body() {
    let b = CircuitBreaker::builder("o-never-runs").build();
    b.force_open();
    let r = b
        .call(|| async {
            unreachable!("rejected calls never run");
            #[allow(unreachable_code)]
            Ok::<(), AppError>(())
        })
        .await;
    assert!(r.unwrap_err().is_circuit_open());
    let r = b.call_sync(|| -> Result<(), AppError> { unreachable!("rejected calls never run") });
    assert!(matches!(
        r,
        Err(CallError::Breaker(BreakerError::ForcedOpen { .. }))
    ));
}

#[tokio::test(start_paused = true)]
async fn every_call_lands_in_exactly_one_bucket() {
    let b = CircuitBreaker::builder("o-buckets")
        .failure_threshold(3)
        .ignore_if(|e: &AppError| *e == AppError::BadRequest)
        .build();
    let _ = b.call(|| async { Ok::<_, AppError>(()) }).await;
    let _ = b
        .call(|| async { Err::<(), _>(AppError::Unavailable) })
        .await;
    let _ = b
        .call(|| async { Err::<(), _>(AppError::BadRequest) })
        .await;
    let _ = tokio::time::timeout(
        Duration::from_millis(1),
        b.call(pending::<Result<(), AppError>>),
    )
    .await;
    b.force_open();
    let _ = b.call(|| async { Ok::<_, AppError>(()) }).await;
    let m = b.metrics();
    assert_eq!(
        (m.successes, m.failures, m.ignored, m.cancelled, m.rejected),
        (1, 1, 1, 1, 1)
    );
    assert_eq!(m.calls, 5);
}
