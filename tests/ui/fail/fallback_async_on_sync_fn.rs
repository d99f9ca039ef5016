// A sync function's fallback is a plain fn: this one is `async`.
use breaker_runtime::{circuit_breaker, BreakerError, CallError};

#[derive(Debug)]
struct AppError;

impl From<BreakerError> for AppError {
    fn from(_: BreakerError) -> Self {
        AppError
    }
}

#[circuit_breaker(fallback = cached)]
fn fetch(id: u32) -> Result<u32, AppError> {
    Ok(id)
}

async fn cached(id: u32, _: CallError<AppError>) -> Result<u32, AppError> {
    Ok(id)
}

fn main() {}
