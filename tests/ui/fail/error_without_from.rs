// Without a fallback a rejection becomes E::from(BreakerError): the error is at E and says what to implement.
use breaker_runtime::circuit_breaker;

#[derive(Debug)]
struct PlainError;

#[circuit_breaker]
async fn fetch() -> Result<u32, PlainError> {
    Ok(1)
}

fn main() {}
