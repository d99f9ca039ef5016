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
        #[circuit_breaker(name = $name, failure_threshold = $threshold, fallback = $fb, failure_if = $p, backoff = $backoff)]
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

/// Two functions one outer macro invocation writes, with the same default name (an inherent
/// and a trait method `get` of one type): both sit at the invocation's `file:line:column`,
/// yet each gets a breaker of its own (issue 13, item 5).
mod one_invocation_two_functions {
    use breaker_runtime::{circuit_breaker, BreakerError};

    #[derive(Debug)]
    pub struct Down;

    impl From<BreakerError> for Down {
        fn from(_: BreakerError) -> Self {
            Down
        }
    }

    pub struct Store;

    pub trait Get {
        fn get(&self, fail: bool) -> Result<u8, Down>;
    }

    macro_rules! both {
        () => {
            impl Store {
                #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
                pub fn get(&self, fail: bool) -> Result<u8, Down> {
                    if fail {
                        Err(Down)
                    } else {
                        Ok(1)
                    }
                }
            }

            impl Get for Store {
                #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
                fn get(&self, fail: bool) -> Result<u8, Down> {
                    if fail {
                        Err(Down)
                    } else {
                        Ok(2)
                    }
                }
            }
        };
    }

    both!();

    #[test]
    fn each_function_has_its_own_breaker() {
        let store = Store;
        assert_eq!(Store::get(&store, false).unwrap(), 1);
        assert_eq!(Get::get(&store, false).unwrap(), 2);
        // The inherent method fails once and opens its breaker...
        assert!(Store::get(&store, true).is_err());
        assert!(Store::get(&store, false).is_err(), "open");
        // ...and the trait method's breaker is not that one.
        assert_eq!(Get::get(&store, false).unwrap(), 2);
    }
}
