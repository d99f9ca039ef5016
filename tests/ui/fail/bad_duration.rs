// Durations are checked when the macro expands; the message lists the units.
use breaker_runtime::{circuit_breaker, BreakerError};

#[derive(Debug)]
struct AppError;

impl From<BreakerError> for AppError {
    fn from(_: BreakerError) -> Self {
        AppError
    }
}

#[circuit_breaker(reset_timeout = "30 parsecs")]
fn fetch() -> Result<u32, AppError> {
    Ok(1)
}

fn main() {}
