// A fallback that does not exist is an error at its path.
use breaker_runtime::{circuit_breaker, BreakerError};

#[derive(Debug)]
struct AppError;

impl From<BreakerError> for AppError {
    fn from(_: BreakerError) -> Self {
        AppError
    }
}

#[circuit_breaker(fallback = cached_value)]
fn fetch(id: u32) -> Result<u32, AppError> {
    Ok(id)
}

fn main() {}
