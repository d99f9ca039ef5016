//! `call_classified` and `call_sync_classified`: the caller's verdict on the whole result,
//! as the attribute's `classify` gives (issue 13, item 14, for code without the attribute).

use breaker_runtime::{CallError, CircuitBreaker, Outcome, State};

mod common;

use common::verdict::{by_status, Response};

#[test]
fn an_ok_can_be_a_failure_and_an_err_an_answer() {
    let b = CircuitBreaker::builder("classified-sync")
        .failure_threshold(2)
        .build();
    let answer = b.call_sync_classified(by_status, || Ok(Response { status: 503 }));
    assert_eq!(
        answer.unwrap(),
        Response { status: 503 },
        "returned as it is"
    );
    assert_eq!(b.metrics().failures, 1);
    let answer = b.call_sync_classified(by_status, || Ok(Response { status: 404 }));
    assert!(answer.is_ok());
    assert_eq!(b.metrics().ignored, 1);
    let answer = b.call_sync_classified(by_status, || Err::<Response, _>("not found".into()));
    assert!(matches!(answer, Err(CallError::Inner(ref e)) if e == "not found"));
    assert_eq!(
        b.metrics().successes,
        1,
        "an Err the verdict calls a success"
    );
    assert_eq!(b.state(), State::Closed, "the success ended the streak");
    let _ = b.call_sync_classified(by_status, || Ok(Response { status: 500 }));
    let _ = b.call_sync_classified(by_status, || Err::<Response, _>("refused".into()));
    assert_eq!(b.state(), State::Open);
    assert_eq!(
        b.open_cause().as_deref(),
        Some("refused"),
        "the Err that opened it"
    );
    let rejected = b.call_sync_classified(by_status, || Ok(Response { status: 200 }));
    assert!(matches!(rejected, Err(CallError::Breaker(_))));
}

#[test]
fn the_builders_predicates_are_not_asked() {
    let b = CircuitBreaker::builder("classified-predicates")
        .failure_threshold(1)
        .ignore_if(|_: &String| true)
        .build();
    let _ = b.call_sync_classified(by_status, || Err::<Response, _>("refused".into()));
    assert_eq!(b.state(), State::Open, "the verdict, not ignore_if");
}

#[test]
fn a_result_may_borrow() {
    let b = CircuitBreaker::builder("classified-borrow").build();
    let buffer = vec![b'o', b'k'];
    let text = b.call_sync_classified(
        |r: &Result<&str, std::str::Utf8Error>| match r {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        },
        || std::str::from_utf8(&buffer),
    );
    assert_eq!(text.unwrap(), "ok");
}

#[tokio::test(start_paused = true)]
async fn async_calls_and_probes_take_the_verdict_too() {
    let b = CircuitBreaker::builder("classified-async")
        .failure_threshold(1)
        .success_threshold(1)
        .reset_timeout(std::time::Duration::from_secs(1))
        .build();
    let answer = b
        .call_classified(by_status, || async { Ok(Response { status: 502 }) })
        .await;
    assert_eq!(answer.unwrap().status, 502);
    assert_eq!(b.state(), State::Open);
    tokio::time::advance(std::time::Duration::from_secs(1)).await;
    assert_eq!(b.state(), State::HalfOpen);
    // A 503 probe fails the phase; a 200 probe closes it.
    let _ = b
        .call_classified(by_status, || async { Ok(Response { status: 503 }) })
        .await;
    assert_eq!(b.state(), State::Open);
    tokio::time::advance(std::time::Duration::from_secs(1)).await;
    let _ = b
        .call_classified(by_status, || async { Ok(Response { status: 200 }) })
        .await;
    assert_eq!(b.state(), State::Closed);
}
