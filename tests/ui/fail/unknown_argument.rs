// An unknown argument is an error that suggests the argument meant: `timeout` -> the timeouts.
use breaker_runtime::{circuit_breaker, BreakerError};

#[derive(Debug)]
struct AppError;

impl From<BreakerError> for AppError {
    fn from(_: BreakerError) -> Self {
        AppError
    }
}

#[circuit_breaker(timeout = "5s")]
async fn fetch() -> Result<u32, AppError> {
    Ok(1)
}

fn main() {}
