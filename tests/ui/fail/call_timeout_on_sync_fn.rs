// A blocking call can't be cut short: call_timeout needs an async fn.
use breaker_runtime::{circuit_breaker, BreakerError};

#[derive(Debug)]
struct AppError;

impl From<BreakerError> for AppError {
    fn from(_: BreakerError) -> Self {
        AppError
    }
}

#[circuit_breaker(call_timeout = "1s")]
fn fetch() -> Result<u32, AppError> {
    Ok(1)
}

fn main() {}
