// `crate = path` points generated code at a re-export of the runtime.
#![deny(warnings)]

mod reexport {
    pub use breaker_runtime as rt;
}

use reexport::rt::circuit_breaker;

#[circuit_breaker(crate = crate::reexport::rt, failure_threshold = 2)]
fn fetch() -> Result<u32, reexport::rt::BreakerError> {
    Ok(1)
}

fn main() {
    assert_eq!(fetch().unwrap(), 1);
}
