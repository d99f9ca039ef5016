// Every argument at once, in every value form, compiles and builds a working breaker.
#![deny(warnings)]
use breaker_runtime::{circuit_breaker, registry, BreakerError, CallError};

#[derive(Debug)]
enum AppError {
    Transient,
    NotFound,
    Breaker(BreakerError),
}

impl From<BreakerError> for AppError {
    fn from(e: BreakerError) -> Self {
        AppError::Breaker(e)
    }
}

fn is_transient(e: &AppError) -> bool {
    matches!(e, AppError::Transient | AppError::Breaker(_))
}

fn is_not_found(e: &AppError) -> bool {
    matches!(e, AppError::NotFound)
}

#[circuit_breaker(
    name = "every-argument",
    failure_threshold = 5,
    failure_rate = 0.5,
    minimum_calls = 10,
    window = "1m30s",
    slow_call = "2s",
    slow_call_rate = 0.8,
    success_threshold = 3,
    half_open_max_calls = 4,
    reset_timeout = "30s",
    backoff = exponential(multiplier = 2.0, max = "5m", jitter = 0.1),
    half_open_timeout = "1m",
    call_timeout = "250ms",
    failure_if = is_transient,
    ignore_if = is_not_found,
    fallback = cached,
    crate = ::breaker_runtime,
)]
async fn fetch(id: u32) -> Result<u32, AppError> {
    Ok(id)
}

async fn cached(id: u32, _err: CallError<AppError>) -> Result<u32, AppError> {
    Ok(id)
}

#[circuit_breaker(window = 50, backoff = linear(step = "10s", max = "2m"))]
fn count_window() -> Result<(), AppError> {
    Ok(())
}

#[circuit_breaker(backoff = fixed(jitter = 0.2), reset_timeout = "1500ms")]
fn fixed_backoff() -> Result<(), AppError> {
    Err(AppError::NotFound)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(fetch(7).await.unwrap(), 7);
    count_window().unwrap();
    assert!(fixed_backoff().is_err());
    assert!(registry().get("every-argument").is_some());
}
