//! What the runtime's integration tests share, written once: calls that succeed or fail, the
//! error values the random tests draw, quiet panics, how long the long runs are, a paused
//! runtime. Plumbing only: each model keeps its own rules in its own files.
// Each test file is a crate of its own and uses only some of these; without this, each would
// warn about the rest.
#![allow(dead_code)]

pub mod logs;
pub mod verdict;

use breaker_runtime::{CallError, CircuitBreaker, State};

/// The result of a protected call whose error is a `&str`.
pub type R = Result<(), CallError<&'static str>>;

/// A call that succeeds.
pub async fn ok(b: &CircuitBreaker) -> R {
    b.call(|| async { Ok(()) }).await
}

/// A call that fails.
pub async fn fail(b: &CircuitBreaker) -> R {
    b.call(|| async { Err("down") }).await
}

/// Fails calls until the breaker opens; how many it took.
pub fn failures_to_open(b: &CircuitBreaker) -> u32 {
    for n in 1..=100 {
        let _ = b.call_sync(|| Err::<(), _>("down"));
        if b.state() == State::Open {
            return n;
        }
    }
    panic!("`{}` did not open after 100 failures", b.name());
}

/// The error values of the random tests' calls (`u8` errors): any value but these two is a
/// failure; `FAILED` is the one they use.
pub const FAILED: u8 = 1;
/// The error value `ignore_if` matches.
pub const IGNORED: u8 = 2;
/// The error value `failure_if` says is not a failure (the dependency answered).
pub const NOT_A_FAILURE: u8 = 3;

/// Keeps the panics a test provokes on purpose (payload `message`) out of the output; any
/// other panic still prints.
pub fn quiet_panics(message: &'static str) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() != Some(&message) {
                default(info);
            }
        }));
    });
}

/// `BREAKER_LONG_TESTS=1` (anything but `0`): the long runs of `.ci/run`.
pub fn long_tests() -> bool {
    std::env::var_os("BREAKER_LONG_TESTS").is_some_and(|v| v != "0")
}

/// How many times more calls the stress runs make: 20 in the long runs, else 1.
pub fn scale() -> u64 {
    if long_tests() {
        20
    } else {
        1
    }
}

/// How many cases a property runs: `PROPTEST_CASES` if set, else `default`, or `long` in the
/// long runs.
pub fn cases(default: u32, long: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if long_tests() { long } else { default })
}

/// A current-thread runtime on tokio's paused clock, for tests that are no `#[tokio::test]`.
pub fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}
