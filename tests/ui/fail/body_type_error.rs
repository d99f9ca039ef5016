// A type error in the body still points into the body, not at the attribute.
use breaker_runtime::{circuit_breaker, BreakerError};

#[derive(Debug)]
struct AppError;

impl From<BreakerError> for AppError {
    fn from(_: BreakerError) -> Self {
        AppError
    }
}

#[circuit_breaker(failure_threshold = 3)]
async fn fetch(id: u32) -> Result<u32, AppError> {
    let text: String = id;
    Ok(text.len() as u32)
}

fn main() {}
