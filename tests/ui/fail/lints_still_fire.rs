// dead_code and unused_must_use still fire on annotated functions (denied here to show them).
#![deny(dead_code, unused_must_use)]
use breaker_runtime::{circuit_breaker, BreakerError};

#[derive(Debug)]
struct AppError;

impl From<BreakerError> for AppError {
    fn from(_: BreakerError) -> Self {
        AppError
    }
}

#[circuit_breaker]
fn never_called() -> Result<u32, AppError> {
    Ok(1)
}

#[circuit_breaker]
fn result_ignored() -> Result<u32, AppError> {
    Ok(2)
}

fn main() {
    result_ignored();
}
