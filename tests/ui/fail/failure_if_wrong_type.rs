// failure_if takes fn(&E) -> bool; this one takes the wrong type.
use breaker_runtime::{circuit_breaker, BreakerError};

#[derive(Debug)]
struct AppError;

impl From<BreakerError> for AppError {
    fn from(_: BreakerError) -> Self {
        AppError
    }
}

fn is_transient(code: &u32) -> bool {
    *code > 500
}

#[circuit_breaker(failure_if = is_transient)]
fn fetch() -> Result<u32, AppError> {
    Ok(1)
}

fn main() {}
