//! `classify = f`: the whole verdict on a result, so an `Ok` can be a failure, as an HTTP
//! client's `Ok(response)` with status 503 is (CONTRACT, the argument table; issue 13, item 14).

use breaker_runtime::{circuit_breaker, registry, BreakerError, CallError, Outcome, State};

#[derive(Debug, PartialEq)]
struct Response {
    status: u16,
}

#[derive(Debug, PartialEq)]
enum Error {
    Connect,
    Breaker(String),
}

impl From<BreakerError> for Error {
    fn from(e: BreakerError) -> Self {
        Error::Breaker(e.to_string())
    }
}

/// 5xx and connection errors are outages; 4xx is the caller's fault, not counted at all.
fn http_verdict(result: &Result<Response, Error>) -> Outcome {
    match result {
        Ok(r) if r.status >= 500 => Outcome::Failure,
        Ok(r) if r.status >= 400 => Outcome::Ignored,
        Ok(_) => Outcome::Success,
        Err(_) => Outcome::Failure,
    }
}

#[circuit_breaker(name = "classify-sync", failure_threshold = 2, reset_timeout = "1h", classify = http_verdict)]
fn get(status: u16) -> Result<Response, Error> {
    Ok(Response { status })
}

#[circuit_breaker(name = "classify-async", failure_threshold = 2, reset_timeout = "1h", classify = http_verdict)]
async fn get_async(status: u16) -> Result<Response, Error> {
    Ok(Response { status })
}

fn stale(_status: u16, _e: CallError<Error>) -> Result<Response, Error> {
    Ok(Response { status: 299 })
}

/// A connection error is an outage; a `NotFound`-like `Err` would be judged by `classify` too.
fn connect_verdict(result: &Result<Response, Error>) -> Outcome {
    match result {
        Err(Error::Connect) => Outcome::Failure,
        Err(_) => Outcome::Ignored,
        Ok(r) if r.status >= 500 => Outcome::Failure,
        Ok(_) => Outcome::Success,
    }
}

#[circuit_breaker(name = "classify-fallback", failure_threshold = 5, classify = connect_verdict, fallback = stale)]
fn get_with_fallback(status: u16) -> Result<Response, Error> {
    match status {
        0 => Err(Error::Connect),
        1 => Err(Error::Breaker("an answer from upstream".into())),
        s => Ok(Response { status: s }),
    }
}

#[test]
fn an_ok_can_be_a_failure() {
    let breaker = registry().get("classify-sync").unwrap();
    assert_eq!(get(404).unwrap().status, 404);
    assert_eq!(breaker.metrics().ignored, 1);
    assert_eq!(
        get(503).unwrap().status,
        503,
        "the caller still gets the response"
    );
    assert_eq!(get(503).unwrap().status, 503);
    assert_eq!(breaker.state(), State::Open, "two 503s in a row open it");
    assert!(matches!(get(200), Err(Error::Breaker(_))));
    assert_eq!(breaker.metrics().failures, 2);
}

#[tokio::test]
async fn the_async_path_classifies_too() {
    let breaker = registry().get("classify-async").unwrap();
    assert_eq!(get_async(200).await.unwrap().status, 200);
    assert_eq!(breaker.metrics().successes, 1);
    let _ = get_async(500).await;
    let _ = get_async(500).await;
    assert_eq!(breaker.state(), State::Open);
}

#[test]
fn only_what_classify_calls_a_failure_reaches_the_fallback() {
    // An `Err` that classify ignores is an answer: back as it is.
    assert!(
        matches!(get_with_fallback(1), Err(Error::Breaker(m)) if m == "an answer from upstream")
    );
    // A failing `Err` goes to the fallback.
    assert_eq!(get_with_fallback(0).unwrap().status, 299);
    // An `Ok` is always returned, whatever its verdict.
    assert_eq!(get_with_fallback(503).unwrap().status, 503);
    let breaker = registry().get("classify-fallback").unwrap();
    assert_eq!(breaker.metrics().failures, 2);
    assert_eq!(breaker.metrics().ignored, 1);
}
