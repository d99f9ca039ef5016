// Integers are Rust tokens, not strings: the message shows how to write it.
use breaker_runtime::{circuit_breaker, BreakerError};

#[derive(Debug)]
struct AppError;

impl From<BreakerError> for AppError {
    fn from(_: BreakerError) -> Self {
        AppError
    }
}

#[circuit_breaker(failure_threshold = "5")]
fn fetch() -> Result<u32, AppError> {
    Ok(1)
}

fn main() {}
