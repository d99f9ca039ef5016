// A plain fallback for an async function: the function awaits its fallback.
use breaker_runtime::{circuit_breaker, BreakerError, CallError};

#[derive(Debug)]
struct AppError;

impl From<BreakerError> for AppError {
    fn from(_: BreakerError) -> Self {
        AppError
    }
}

#[circuit_breaker(fallback = cached)]
async fn fetch(id: u32) -> Result<u32, AppError> {
    Ok(id)
}

fn cached(id: u32, _: CallError<AppError>) -> Result<u32, AppError> {
    Ok(id)
}

fn main() {}
