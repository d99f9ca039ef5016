//! A fallback answers only for outages: a rejection, a timeout, or an `Err` the breaker records
//! as a failure. An `Err` that `ignore_if` ignores or `failure_if` says is no failure is an
//! answer (a 404 is not an outage) and reaches the caller as it is (CONTRACT "Outcomes";
//! issue 13, item 8).

use breaker_runtime::{circuit_breaker, BreakerError, CallError};
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Debug, PartialEq, Clone)]
enum Error {
    Down,
    NotFound,
    BadInput,
    Breaker(String),
}

impl From<BreakerError> for Error {
    fn from(e: BreakerError) -> Self {
        Error::Breaker(e.to_string())
    }
}

fn is_not_found(e: &Error) -> bool {
    *e == Error::NotFound
}

/// Only `Down` is an outage.
fn is_down(e: &Error) -> bool {
    *e == Error::Down
}

static CACHE_HITS: AtomicU32 = AtomicU32::new(0);

fn from_cache(_answer: &Error, _e: CallError<Error>) -> Result<&'static str, Error> {
    CACHE_HITS.fetch_add(1, Ordering::SeqCst);
    Ok("cached")
}

#[circuit_breaker(name = "fb-scope-ignore", ignore_if = is_not_found, fallback = from_cache)]
fn with_ignore(answer: &Error) -> Result<&'static str, Error> {
    Err(answer.clone())
}

#[circuit_breaker(name = "fb-scope-failure-if", failure_if = is_down, fallback = from_cache)]
fn with_failure_if(answer: &Error) -> Result<&'static str, Error> {
    Err(answer.clone())
}

async fn from_cache_async(_answer: &Error, _e: CallError<Error>) -> Result<&'static str, Error> {
    CACHE_HITS.fetch_add(1, Ordering::SeqCst);
    Ok("cached")
}

#[circuit_breaker(name = "fb-scope-async", ignore_if = is_not_found, failure_if = is_down, fallback = from_cache_async)]
async fn with_both_async(answer: &Error) -> Result<&'static str, Error> {
    Err(answer.clone())
}

#[tokio::test]
async fn only_recorded_failures_reach_the_fallback() {
    let hits = || CACHE_HITS.load(Ordering::SeqCst);
    let before = hits();
    // Ignored: returned as it is, no cache.
    assert_eq!(with_ignore(&Error::NotFound), Err(Error::NotFound));
    assert_eq!(hits(), before);
    // A failure: the cache answers.
    assert_eq!(with_ignore(&Error::Down), Ok("cached"));
    assert_eq!(hits(), before + 1);

    // `failure_if` says a bad input is no failure: returned as it is.
    assert_eq!(with_failure_if(&Error::BadInput), Err(Error::BadInput));
    assert_eq!(with_failure_if(&Error::Down), Ok("cached"));
    assert_eq!(hits(), before + 2);

    // Both predicates, async.
    assert_eq!(
        with_both_async(&Error::NotFound).await,
        Err(Error::NotFound)
    );
    assert_eq!(
        with_both_async(&Error::BadInput).await,
        Err(Error::BadInput)
    );
    assert_eq!(with_both_async(&Error::Down).await, Ok("cached"));
    assert_eq!(hits(), before + 3);
}
