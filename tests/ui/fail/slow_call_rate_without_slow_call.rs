// slow_call_rate means nothing without slow_call, the duration that makes a call slow.
use breaker_runtime::{circuit_breaker, BreakerError};

#[derive(Debug)]
struct AppError;

impl From<BreakerError> for AppError {
    fn from(_: BreakerError) -> Self {
        AppError
    }
}

#[circuit_breaker(slow_call_rate = 0.5)]
async fn fetch() -> Result<u32, AppError> {
    Ok(1)
}

fn main() {}
