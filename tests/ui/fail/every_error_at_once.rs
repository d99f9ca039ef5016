// Every problem is reported in one pass, each at its own token, and the function is still emitted.
use breaker_runtime::{circuit_breaker, BreakerError};

#[derive(Debug)]
struct AppError;

impl From<BreakerError> for AppError {
    fn from(_: BreakerError) -> Self {
        AppError
    }
}

#[circuit_breaker(name = 5, falure_threshold = 2, window = "1 fortnight", backoff = exponentail(multiplier = 2.0), fallback)]
fn fetch() -> Result<u32, AppError> {
    Ok(1)
}

fn main() {
    let _ = fetch();
}
