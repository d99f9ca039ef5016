//! Every setting at its extremes: 0, 1 and `u32::MAX`; zero, one nanosecond, a year, a year
//! and a nanosecond, `Duration::MAX`; rates at 0, the smallest positive float, 1, just above
//! 1, NaN and the infinities; multipliers 1 to `f64::MAX` and NaN; jitter 0, -0.0, 1, just
//! above 1 and NaN; windows of 1 to 65,536 calls, 10 ms and a year.
//!
//! Through the builder's `try_build`, and (feature `config`) through config files and
//! `BREAKER_<NAME>_<KEY>` variables, each must give `Ok` or an error naming the key, as the
//! README's tables say, and never panic. Every breaker that builds is then driven on the
//! paused clock: opened, waited out, probed, re-opened, probed again, a silent probe given up
//! after `half_open_timeout`. No step may panic, every rate must be in [0, 1] or `None`, and
//! `retry_after` must never exceed the reset timeout in force nor the time left before the
//! breaker lets a probe in.
//!
//! Each case runs on a paused runtime of its own, so a case that waits out a year starts the
//! next one from a fresh clock; every failing case is reported, not only the first.

#[path = "../common/mod.rs"]
mod common;

use breaker_runtime::{
    Backoff, BreakerError, CircuitBreaker, CircuitBreakerBuilder, Permit, State, Window,
};
use common::paused_runtime;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::advance;

const MS: Duration = Duration::from_millis(1);
const NS: Duration = Duration::from_nanos(1);
const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
/// A year and a nanosecond: the first duration past the longest allowed.
const YEAR_1NS: Duration = Duration::from_nanos(YEAR.as_secs() * 1_000_000_000 + 1);
/// The built-in defaults.
const RESET: Duration = Duration::from_secs(30);
const HALF_OPEN_TIMEOUT: Duration = Duration::from_secs(60);
/// The next float above 1.
const ABOVE_ONE: f64 = 1.0 + f64::EPSILON;

/// What the README says a setting's value gives.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Accepted,
    /// An error whose message names the key.
    Refused,
}
use Expect::{Accepted, Refused};

mod builder;
mod drive;
#[cfg(feature = "config")]
mod from_config;

use drive::*;

/// The timings a breaker built from a case runs with, to check `retry_after` against.
#[derive(Debug, Clone, Copy)]
struct Timing {
    /// The reset timeout in force at the first open (`reset_timeout`, capped by a backoff's
    /// `max`).
    first: Duration,
    /// The longest a re-open may wait: `reset_timeout` for a fixed backoff, zero for an
    /// exponential one from zero, else the backoff's cap (`max`, at most a year).
    reopen: Duration,
    half_open_timeout: Duration,
    call_timeout: Option<Duration>,
    slow_call: Option<Duration>,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            first: RESET,
            reopen: RESET,
            half_open_timeout: HALF_OPEN_TIMEOUT,
            call_timeout: None,
            slow_call: None,
        }
    }
}

impl Timing {
    fn reset(reset: Duration, backoff: Option<Backoff>) -> Timing {
        let backoff = backoff.unwrap_or_default();
        let cap = backoff.max_wait().unwrap_or(YEAR).min(YEAR);
        Timing {
            first: reset.min(cap),
            reopen: match backoff.kind() {
                "fixed" => reset.min(cap),
                // Any multiple of zero is zero.
                "exponential" if reset.is_zero() => Duration::ZERO,
                _ => cap,
            },
            ..Timing::default()
        }
    }
}

type Set = Box<dyn Fn(CircuitBreakerBuilder) -> CircuitBreakerBuilder>;

/// One setting at one value.
struct Case {
    key: &'static str,
    value: String,
    expect: Expect,
    timing: Timing,
    set: Set,
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {}", self.key, self.value)
    }
}

fn case(
    key: &'static str,
    value: impl fmt::Debug,
    expect: Expect,
    set: impl Fn(CircuitBreakerBuilder) -> CircuitBreakerBuilder + 'static,
) -> Case {
    Case {
        key,
        value: format!("{value:?}"),
        expect,
        timing: Timing::default(),
        set: Box::new(set),
    }
}

impl Case {
    fn timing(mut self, timing: Timing) -> Case {
        self.timing = timing;
        self
    }
}
