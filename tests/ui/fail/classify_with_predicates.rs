// `classify` decides the whole verdict: it can't be combined with `failure_if` or `ignore_if`.
use breaker_runtime::{circuit_breaker, Outcome};

type Error = Box<dyn std::error::Error + Send + Sync>;

fn verdict(_: &Result<u8, Error>) -> Outcome {
    Outcome::Success
}

fn is_down(_: &Error) -> bool {
    true
}

#[circuit_breaker(classify = verdict, failure_if = is_down)]
fn get() -> Result<u8, Error> {
    Ok(1)
}

fn main() {
    let _ = get();
}
