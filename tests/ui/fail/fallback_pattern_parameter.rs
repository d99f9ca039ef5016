// A fallback gets every argument by name; a destructured parameter has none.
use breaker_runtime::{circuit_breaker, BreakerError, CallError};

#[derive(Debug)]
struct AppError;

impl From<BreakerError> for AppError {
    fn from(_: BreakerError) -> Self {
        AppError
    }
}

#[circuit_breaker(fallback = cached)]
fn fetch((a, b): (u32, u32)) -> Result<u32, AppError> {
    Ok(a + b)
}

fn cached(pair: (u32, u32), _: CallError<AppError>) -> Result<u32, AppError> {
    Ok(pair.0)
}

fn main() {}
