// The fallback takes the function's arguments, in order, then a CallError<E>: these are swapped.
use breaker_runtime::{circuit_breaker, BreakerError, CallError};

#[derive(Debug)]
struct AppError;

impl From<BreakerError> for AppError {
    fn from(_: BreakerError) -> Self {
        AppError
    }
}

#[circuit_breaker(fallback = cached)]
async fn fetch(key: &str, id: u32) -> Result<u32, AppError> {
    Ok(id + key.len() as u32)
}

async fn cached(id: u32, key: &str, _: CallError<AppError>) -> Result<u32, AppError> {
    Ok(id + key.len() as u32)
}

fn main() {}
