//! `#[circuit_breaker]` written by a `macro_rules!` macro, with its arguments passed in as
//! fragments (`$fb:path`, `$p:expr`, `$n:literal`, `$b:expr`): each arrives in an invisible
//! group and is read as if written in place (issue 13, item 6).

use breaker_runtime::{circuit_breaker, registry, BreakerError, CallError, State};

#[derive(Debug)]
enum AppError {
    Down,
    Breaker,
}

impl From<BreakerError> for AppError {
    fn from(_: BreakerError) -> Self {
        AppError::Breaker
    }
}

fn is_down(e: &AppError) -> bool {
    matches!(e, AppError::Down)
}

fn cached(_fail: bool, _error: CallError<AppError>) -> Result<u32, AppError> {
    Ok(7)
}

macro_rules! guarded {
    ($name:literal, $threshold:expr, $fb:path, $p:expr, $backoff:expr) => {
        #[circuit_breaker(
                    name = $name,
                    failure_threshold = $threshold,
                    fallback = $fb,
                    failure_if = $p,
                    backoff = $backoff
                )]
        fn lookup(fail: bool) -> Result<u32, AppError> {
            if fail {
                Err(AppError::Down)
            } else {
                Ok(1)
            }
        }
    };
}

guarded!(
    "macro-fragments",
    2,
    cached,
    is_down,
    exponential(multiplier = 2.0)
);

#[test]
fn fragments_are_read_as_written() {
    assert_eq!(lookup(false).unwrap(), 1);
    // Two failures open it (threshold from `$threshold`); the fallback from `$fb` answers.
    assert_eq!(lookup(true).unwrap(), 7);
    assert_eq!(lookup(true).unwrap(), 7);
    let breaker = registry()
        .get("macro-fragments")
        .expect("registered under `$name`");
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(
        lookup(false).unwrap(),
        7,
        "rejected, so the fallback answers"
    );
}
