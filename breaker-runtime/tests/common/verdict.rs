//! A verdict on whole results, as an HTTP client's caller writes one: the tests of `classify`
//! (the builder's and `call_classified`'s) judge these.

use breaker_runtime::Outcome;

/// What the dependency answered.
#[derive(Debug, PartialEq)]
pub struct Response {
    pub status: u16,
}

/// A 5xx is a failure, a 4xx ignored, other answers successes; the error "not found" is an
/// answer, any other a failure.
pub fn by_status(result: &Result<Response, String>) -> Outcome {
    match result {
        Ok(r) if r.status >= 500 => Outcome::Failure,
        Ok(r) if r.status >= 400 => Outcome::Ignored,
        Ok(_) => Outcome::Success,
        Err(e) if e == "not found" => Outcome::Success,
        Err(_) => Outcome::Failure,
    }
}
