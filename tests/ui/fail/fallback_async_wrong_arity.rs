// An async method's fallback takes the receiver, the arguments and a CallError<E>: this one
// forgets the error.
use breaker_runtime::{circuit_breaker, BreakerError};

#[derive(Debug)]
struct AppError;

impl From<BreakerError> for AppError {
    fn from(_: BreakerError) -> Self {
        AppError
    }
}

struct Client;

impl Client {
    #[circuit_breaker(fallback = Self::cached)]
    async fn fetch(&self, key: &str) -> Result<usize, AppError> {
        Ok(key.len())
    }

    async fn cached(&self, key: &str) -> Result<usize, AppError> {
        Ok(key.len())
    }
}

fn main() {}
