// Out-of-range values are errors at the value, all of them at once.
use breaker_runtime::{circuit_breaker, BreakerError};

#[derive(Debug)]
struct AppError;

impl From<BreakerError> for AppError {
    fn from(_: BreakerError) -> Self {
        AppError
    }
}

#[circuit_breaker(failure_threshold = 0, failure_rate = 1.5, minimum_calls = 0, half_open_max_calls = 70000)]
fn fetch() -> Result<u32, AppError> {
    Ok(1)
}

fn main() {}
