// The body consumes `key`, so on failure there is no `key` left to hand to the fallback.
use breaker_runtime::{circuit_breaker, BreakerError, CallError};

#[derive(Debug)]
struct AppError;

impl From<BreakerError> for AppError {
    fn from(_: BreakerError) -> Self {
        AppError
    }
}

#[circuit_breaker(fallback = cached)]
async fn fetch(key: String) -> Result<String, AppError> {
    Ok(key)
}

async fn cached(key: String, _: CallError<AppError>) -> Result<String, AppError> {
    Ok(key)
}

fn main() {}
