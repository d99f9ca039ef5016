// The attribute needs a body to wrap: on a trait's declaration it says to put it on the impl.
use breaker_runtime::{circuit_breaker, BreakerError};

trait Api {
    #[circuit_breaker]
    fn get(&self) -> Result<u32, BreakerError>;
}

fn main() {}
