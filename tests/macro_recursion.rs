//! An annotated function that calls itself (or another function of the same breaker): the
//! nested call runs under the outer call's permit, neither admitted nor recorded again.

use breaker_runtime::{circuit_breaker, registry, BreakerError, CircuitBreaker, State};
use std::time::Duration;

#[derive(Debug, PartialEq)]
enum Error {
    Down,
    Breaker(BreakerError),
}

impl From<BreakerError> for Error {
    fn from(e: BreakerError) -> Self {
        Error::Breaker(e)
    }
}

#[circuit_breaker(name = "rec-sync-closed", failure_threshold = 5, reset_timeout = "60s")]
fn sync_fails(depth: u32) -> Result<u32, Error> {
    if depth > 0 {
        return sync_fails(depth - 1);
    }
    Err(Error::Down)
}

#[circuit_breaker(
    name = "rec-sync-half-open",
    success_threshold = 1,
    half_open_max_calls = 1,
    reset_timeout = "60s"
)]
fn sync_sums(depth: u32) -> Result<u32, Error> {
    if depth == 0 {
        return Ok(0);
    }
    Ok(depth + sync_sums(depth - 1)?)
}

#[circuit_breaker(
    name = "rec-async-closed",
    failure_threshold = 5,
    reset_timeout = "60s"
)]
async fn async_fails(depth: u32) -> Result<u32, Error> {
    if depth > 0 {
        return Box::pin(async_fails(depth - 1)).await;
    }
    tokio::task::yield_now().await;
    Err(Error::Down)
}

#[circuit_breaker(
    name = "rec-async-half-open",
    success_threshold = 1,
    half_open_max_calls = 1,
    reset_timeout = "60s"
)]
async fn async_sums(depth: u32) -> Result<u32, Error> {
    if depth == 0 {
        tokio::task::yield_now().await;
        return Ok(0);
    }
    tokio::task::yield_now().await;
    Ok(depth + Box::pin(async_sums(depth - 1)).await?)
}

/// Opens `name`'s breaker and waits until it is half-open.
fn half_open(name: &str) {
    let breaker = registry().get(name).expect("declared");
    breaker.open_for(Duration::from_millis(20));
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(breaker.state(), State::HalfOpen);
}

#[test]
fn sync_recursion_counts_one_failure_in_closed() {
    assert_eq!(sync_fails(2), Err(Error::Down));
    let metrics = registry().get("rec-sync-closed").unwrap().metrics();
    assert_eq!((metrics.calls, metrics.failures), (1, 1), "{metrics:?}");
}

#[test]
fn sync_recursion_runs_in_half_open_and_closes_the_breaker() {
    assert_eq!(sync_sums(1), Ok(1));
    half_open("rec-sync-half-open");
    assert_eq!(sync_sums(3), Ok(6));
    let breaker = registry().get("rec-sync-half-open").unwrap();
    assert_eq!(breaker.state(), State::Closed);
    assert_eq!(breaker.metrics().rejected, 0);
}

#[tokio::test]
async fn async_recursion_counts_one_failure_in_closed() {
    assert_eq!(async_fails(2).await, Err(Error::Down));
    let metrics = registry().get("rec-async-closed").unwrap().metrics();
    assert_eq!((metrics.calls, metrics.failures), (1, 1), "{metrics:?}");
}

#[tokio::test]
async fn async_recursion_runs_in_half_open_and_closes_the_breaker() {
    assert_eq!(async_sums(1).await, Ok(1));
    half_open("rec-async-half-open");
    assert_eq!(async_sums(3).await, Ok(6));
    let breaker = registry().get("rec-async-half-open").unwrap();
    assert_eq!(breaker.state(), State::Closed);
    assert_eq!(breaker.metrics().rejected, 0);
}

#[circuit_breaker(name = "rec-two-threads", failure_threshold = 5, reset_timeout = "60s")]
fn from_another_thread(depth: u32) -> Result<u32, Error> {
    if depth > 0 {
        // On a thread of its own: a call of its own, admitted and recorded.
        return std::thread::spawn(move || from_another_thread(depth - 1))
            .join()
            .unwrap();
    }
    Err(Error::Down)
}

#[test]
fn a_call_on_another_thread_is_not_nested() {
    assert_eq!(from_another_thread(1), Err(Error::Down));
    let metrics = registry().get("rec-two-threads").unwrap().metrics();
    assert_eq!((metrics.calls, metrics.failures), (2, 2), "{metrics:?}");
}

/// `call_sync` and `call` nest the same way, without the attribute.
#[tokio::test]
async fn explicit_nested_calls_run_under_the_outer_permit() {
    let breaker = CircuitBreaker::builder("rec-explicit")
        .success_threshold(1)
        .half_open_max_calls(1)
        .build();
    breaker.open_for(Duration::from_millis(20));
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(breaker.state(), State::HalfOpen);
    let sync = breaker.call_sync(|| {
        breaker
            .call_sync(|| Ok::<u32, Error>(1))
            .map_err(|_| Error::Down)
    });
    assert_eq!(sync.unwrap(), 1);
    assert_eq!(breaker.state(), State::Closed);
    let nested = breaker
        .call(|| async {
            tokio::task::yield_now().await;
            breaker
                .call(|| async { Err::<u32, Error>(Error::Down) })
                .await
                .map_err(|_| Error::Down)
        })
        .await;
    assert!(nested.is_err());
    let metrics = breaker.metrics();
    assert_eq!((metrics.calls, metrics.failures), (2, 1), "{metrics:?}");
}
