// The fallback takes the function's arguments and then a CallError<E>; this one forgets the error.
use breaker_runtime::{circuit_breaker, BreakerError};

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

fn cached(id: u32) -> Result<u32, AppError> {
    Ok(id)
}

fn main() {}
