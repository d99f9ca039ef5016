// The breaker records Ok and Err, so the function must return a Result.
use breaker_runtime::circuit_breaker;

#[circuit_breaker]
fn count() -> u32 {
    1
}

#[circuit_breaker]
async fn nothing() {}

fn main() {}
