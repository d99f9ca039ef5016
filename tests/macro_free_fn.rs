//! `#[circuit_breaker]` on free functions: async and sync, `Result` through aliases, and the
//! breaker's life cycle (opens, rejects without running the body, probes, recovers).

mod common;

use breaker_runtime::{circuit_breaker, registry, BreakerError, State};
use common::AppError;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

static ASYNC_RUNS: AtomicU32 = AtomicU32::new(0);

#[circuit_breaker(
    name = "free-async",
    failure_threshold = 2,
    reset_timeout = "10s",
    success_threshold = 1
)]
async fn fetch(up: bool) -> Result<u32, AppError> {
    ASYNC_RUNS.fetch_add(1, Ordering::SeqCst);
    tokio::task::yield_now().await;
    if up {
        Ok(7)
    } else {
        Err(AppError::Down)
    }
}

#[tokio::test(start_paused = true)]
async fn async_fn_opens_rejects_and_recovers() {
    assert_eq!(fetch(true).await, Ok(7));
    assert_eq!(fetch(false).await, Err(AppError::Down));
    assert_eq!(fetch(false).await, Err(AppError::Down));
    let breaker = registry()
        .get("free-async")
        .expect("registered on first call");
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(ASYNC_RUNS.load(Ordering::SeqCst), 3);

    // Rejected: the body does not run.
    match fetch(true).await {
        Err(AppError::Breaker(BreakerError::Open { name, retry_after })) => {
            assert_eq!(name, "free-async");
            assert_eq!(retry_after, Duration::from_secs(10));
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(ASYNC_RUNS.load(Ordering::SeqCst), 3);

    tokio::time::advance(Duration::from_secs(10)).await;
    assert_eq!(breaker.state(), State::HalfOpen);
    assert_eq!(fetch(true).await, Ok(7));
    assert_eq!(breaker.state(), State::Closed);
    assert_eq!(ASYNC_RUNS.load(Ordering::SeqCst), 4);
    let m = breaker.metrics();
    assert_eq!((m.successes, m.failures, m.rejected), (2, 2, 1));
}

static SYNC_RUNS: AtomicU32 = AtomicU32::new(0);

/// A crate's own alias, as many crates have.
mod app {
    pub type Result<T> = std::result::Result<T, super::AppError>;
}

#[circuit_breaker(name = "free-sync", failure_threshold = 1, reset_timeout = "1m")]
fn parse(text: &str) -> app::Result<u32> {
    SYNC_RUNS.fetch_add(1, Ordering::SeqCst);
    text.parse().map_err(|_| AppError::Down)
}

#[tokio::test(start_paused = true)]
async fn sync_fn_through_a_crate_alias() {
    assert_eq!(parse("5"), Ok(5));
    assert_eq!(parse("x"), Err(AppError::Down));
    assert!(matches!(
        parse("5"),
        Err(AppError::Breaker(BreakerError::Open { name, .. })) if name == "free-sync"
    ));
    assert_eq!(SYNC_RUNS.load(Ordering::SeqCst), 2);
    tokio::time::advance(Duration::from_secs(60)).await;
    assert_eq!(parse("6"), Ok(6));
    assert_eq!(SYNC_RUNS.load(Ordering::SeqCst), 3);
}

/// `io::Error` has no `From<BreakerError>`, so an `io::Result` function takes a fallback.
#[circuit_breaker(name = "free-io", failure_threshold = 1, fallback = read_cached)]
fn read_config(path: &str) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

fn read_cached(
    path: &str,
    err: breaker_runtime::CallError<std::io::Error>,
) -> std::io::Result<String> {
    Ok(format!(
        "cached {path} ({})",
        if err.is_circuit_open() {
            "open"
        } else {
            "failed"
        }
    ))
}

#[tokio::test(start_paused = true)]
async fn io_result_with_a_fallback() {
    assert_eq!(
        read_config("/nonexistent/a").unwrap(),
        "cached /nonexistent/a (failed)"
    );
    assert_eq!(
        read_config("/nonexistent/b").unwrap(),
        "cached /nonexistent/b (open)"
    );
}

/// The default name is the function's path.
#[circuit_breaker]
async fn default_named() -> anyhow::Result<()> {
    Ok(())
}

#[tokio::test]
async fn default_name_is_the_module_path() {
    default_named().await.unwrap();
    assert!(
        registry().get("macro_free_fn::default_named").is_some(),
        "{:?}",
        registry().names()
    );
}

#[circuit_breaker(name = "shared-dependency", failure_threshold = 2)]
async fn read_user(id: u32) -> Result<u32, AppError> {
    if id == 0 {
        Err(AppError::Down)
    } else {
        Ok(id)
    }
}

#[circuit_breaker(name = "shared-dependency", failure_threshold = 2)]
fn write_user(id: u32) -> Result<u32, AppError> {
    if id == 0 {
        Err(AppError::Down)
    } else {
        Ok(id)
    }
}

#[tokio::test(start_paused = true)]
async fn the_same_name_shares_one_breaker() {
    assert_eq!(read_user(0).await, Err(AppError::Down));
    assert_eq!(write_user(0), Err(AppError::Down));
    // One failure each, two in a row for the one breaker they share: both are rejected now.
    assert!(matches!(
        read_user(1).await,
        Err(AppError::Breaker(BreakerError::Open { .. }))
    ));
    assert!(matches!(
        write_user(1),
        Err(AppError::Breaker(BreakerError::Open { .. }))
    ));
    let m = registry().get("shared-dependency").unwrap().metrics();
    assert_eq!((m.failures, m.rejected), (2, 2));
}
