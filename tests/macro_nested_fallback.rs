//! A nested call (run under its outer call's permit, not recorded again) that has a fallback
//! routes its error by its own verdict, never by one left over from another call on the
//! thread (regression: the verdict an earlier, unrelated call left behind decided it).

use breaker_runtime::{circuit_breaker, BreakerError, CallError};

#[derive(Debug, PartialEq, Clone)]
enum Error {
    Down,
    NotFound,
    Breaker,
}

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error::Breaker
    }
}

fn is_not_found(e: &Error) -> bool {
    *e == Error::NotFound
}

/// Fails with `Down`, no fallback: its verdict (a failure) is never consumed.
#[circuit_breaker(name = "nested-fb-other", failure_threshold = 100)]
fn other() -> Result<u8, Error> {
    Err(Error::Down)
}

fn cached(_depth: u8, _e: CallError<Error>) -> Result<u8, Error> {
    Ok(99)
}

/// Recurses once; the inner call answers `NotFound`, which `ignore_if` makes an answer, not
/// an outage: it must come back as it is, not from the cache.
#[circuit_breaker(name = "nested-fb-recursive", failure_threshold = 100, ignore_if = is_not_found, fallback = cached)]
fn recursive(depth: u8) -> Result<u8, Error> {
    if depth == 0 {
        let _ = other(); // leaves a failure verdict on this thread
        return Err(Error::NotFound);
    }
    match recursive(depth - 1) {
        Err(Error::NotFound) => Ok(1),
        other => other,
    }
}

#[test]
fn a_nested_call_routes_its_error_by_its_own_verdict() {
    assert_eq!(
        recursive(1),
        Ok(1),
        "the inner NotFound is an answer, not served from the cache"
    );
}

async fn cached_async(_depth: u8, _e: CallError<Error>) -> Result<u8, Error> {
    Ok(99)
}

#[circuit_breaker(name = "nested-fb-async-other", failure_threshold = 100)]
async fn other_async() -> Result<u8, Error> {
    Err(Error::Down)
}

/// The async twin: the nested call is polled inside the outer one's poll.
#[circuit_breaker(name = "nested-fb-async", failure_threshold = 100, ignore_if = is_not_found, fallback = cached_async)]
async fn recursive_async(depth: u8) -> Result<u8, Error> {
    if depth == 0 {
        let _ = other_async().await;
        return Err(Error::NotFound);
    }
    match Box::pin(recursive_async(depth - 1)).await {
        Err(Error::NotFound) => Ok(1),
        other => other,
    }
}

#[tokio::test]
async fn a_nested_async_call_routes_its_error_by_its_own_verdict() {
    assert_eq!(recursive_async(1).await, Ok(1));
}
