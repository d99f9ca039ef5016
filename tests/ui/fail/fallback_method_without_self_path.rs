// On a method, the fallback is a path: `Self::cached`, not `cached`.
use breaker_runtime::{circuit_breaker, BreakerError, CallError};

#[derive(Debug)]
struct AppError;

impl From<BreakerError> for AppError {
    fn from(_: BreakerError) -> Self {
        AppError
    }
}

struct Client;

impl Client {
    #[circuit_breaker(fallback = cached)]
    async fn fetch(&self, id: u32) -> Result<u32, AppError> {
        Ok(id)
    }

    async fn cached(&self, id: u32, _: CallError<AppError>) -> Result<u32, AppError> {
        Ok(id)
    }
}

fn main() {}
