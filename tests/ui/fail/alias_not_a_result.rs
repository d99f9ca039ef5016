// Through an alias the macro can't see, the type checker says the type is not a Result.
use breaker_runtime::circuit_breaker;

type Count = u32;

#[circuit_breaker]
fn count() -> Count {
    1
}

fn main() {}
