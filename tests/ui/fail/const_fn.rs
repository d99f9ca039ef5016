// A breaker is runtime state, so a const fn can't have one.
use breaker_runtime::{circuit_breaker, BreakerError};

#[derive(Debug)]
struct AppError;

impl From<BreakerError> for AppError {
    fn from(_: BreakerError) -> Self {
        AppError
    }
}

#[circuit_breaker]
const fn fetch() -> Result<u32, AppError> {
    Ok(1)
}

fn main() {}
