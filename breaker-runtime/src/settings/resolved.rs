//! [`Settings`]: a [`BreakerConfig`] resolved over the built-in defaults and checked.

use super::{BreakerConfig, ErasedPredicate, Window, MAX_WINDOW_CALLS};
use crate::backoff::{Backoff, MAX_WAIT};
use crate::error::{ConfigError, HumanDuration};
use crate::state::MAX_HALF_OPEN_COUNT;
use std::fmt;
use std::time::Duration;

impl BreakerConfig {
    /// Resolves this config over the built-in defaults and checks every value.
    pub(crate) fn resolve(&self, name: &str) -> Result<Settings, ConfigError> {
        let bad = |key: &str, value: &dyn fmt::Display, reason: &str| {
            ConfigError::invalid(name, key, value, reason)
        };
        let at_least_one = |key: &str, v: Option<u32>| match v {
            Some(0) => Err(bad(key, &0, "must be at least 1")),
            _ => Ok(()),
        };
        let rate = |key: &str, v: Option<f64>| match v {
            Some(r) if !(r > 0.0 && r <= 1.0) => Err(bad(key, &r, "must be above 0 and at most 1")),
            _ => Ok(()),
        };
        let positive = |key: &str, v: Option<Duration>| match v {
            Some(d) if d.is_zero() => Err(bad(key, &"\"0s\"", "must be longer than zero")),
            Some(d) if d > MAX_WAIT => Err(bad(
                key,
                &format_args!("\"{}\"", HumanDuration(d)),
                "must be at most a year",
            )),
            _ => Ok(()),
        };
        at_least_one("failure_threshold", self.failure_threshold)?;
        at_least_one("minimum_calls", self.minimum_calls)?;
        at_least_one("success_threshold", self.success_threshold)?;
        at_least_one("half_open_max_calls", self.half_open_max_calls)?;
        rate("failure_rate", self.failure_rate)?;
        rate("slow_call_rate", self.slow_call_rate)?;
        positive("slow_call", self.slow_call)?;
        positive("half_open_timeout", self.half_open_timeout)?;
        positive("call_timeout", self.call_timeout)?;
        if let Some(d) = self.reset_timeout {
            if d > MAX_WAIT {
                return Err(bad(
                    "reset_timeout",
                    &format_args!("\"{}\"", HumanDuration(d)),
                    "must be at most a year",
                ));
            }
        }
        for (key, v) in [
            ("success_threshold", self.success_threshold),
            ("half_open_max_calls", self.half_open_max_calls),
        ] {
            if let Some(n) = v.filter(|&n| n > MAX_HALF_OPEN_COUNT) {
                return Err(bad(key, &n, "must be at most 65535"));
            }
        }
        match self.window {
            Some(Window::Calls(0)) => return Err(bad("window", &0, "must hold at least 1 call")),
            Some(Window::Calls(n)) if n > MAX_WINDOW_CALLS => {
                return Err(bad("window", &n, "must be at most 65535 calls"))
            }
            Some(Window::Time(d)) if d < Duration::from_millis(10) => {
                return Err(bad(
                    "window",
                    &format_args!("\"{}\"", HumanDuration(d)),
                    "a time window must be at least 10ms",
                ))
            }
            Some(Window::Time(d)) if d > MAX_WAIT => {
                return Err(bad(
                    "window",
                    &format_args!("\"{}\"", HumanDuration(d)),
                    "must be at most a year",
                ))
            }
            _ => {}
        }
        if let Some(b) = &self.backoff {
            if let Err(reason) = b.check() {
                return Err(bad("backoff", &b.kind(), &reason));
            }
        }
        if self.slow_call_rate.is_some() && self.slow_call.is_none() {
            return Err(bad(
                "slow_call_rate",
                &self.slow_call_rate.unwrap_or_default(),
                "has no effect without `slow_call`: set `slow_call` to say how long a slow call takes",
            ));
        }

        let uses_window = self.failure_rate.is_some() || self.slow_call.is_some();
        let window = uses_window.then(|| self.window.unwrap_or(Window::Calls(100)));
        let minimum_calls = self.minimum_calls.unwrap_or(10);
        if let (Some(Window::Calls(n)), Some(m)) = (window, self.minimum_calls) {
            if m > n {
                return Err(bad(
                    "minimum_calls",
                    &m,
                    &format!("is more than the window of {n} calls, so no rate could ever open the breaker"),
                ));
            }
        }
        let success_threshold = self.success_threshold.unwrap_or(2);
        Ok(Settings {
            failure_threshold: self.failure_threshold.or(if self.failure_rate.is_none() {
                Some(5)
            } else {
                None
            }),
            failure_rate: self.failure_rate,
            slow_call: self.slow_call,
            slow_call_rate: self.slow_call.map(|_| self.slow_call_rate.unwrap_or(1.0)),
            minimum_calls: match window {
                Some(Window::Calls(n)) => minimum_calls.min(n),
                _ => minimum_calls,
            },
            window,
            success_threshold,
            half_open_max_calls: self.half_open_max_calls.unwrap_or(success_threshold),
            reset_timeout: self.reset_timeout.unwrap_or(Duration::from_secs(30)),
            backoff: self.backoff.unwrap_or_default(),
            half_open_timeout: self.half_open_timeout.unwrap_or(Duration::from_secs(60)),
            call_timeout: self.call_timeout,
            failure_if: self.failure_if.clone(),
            ignore_if: self.ignore_if.clone(),
        })
    }
}

/// The settings a breaker runs with: every value after the built-in defaults, config files,
/// the code and the environment were laid over each other and checked. Read it with
/// [`CircuitBreaker::settings`](crate::CircuitBreaker::settings).
///
/// ```
/// use breaker_runtime::CircuitBreaker;
/// use std::time::Duration;
///
/// let breaker = CircuitBreaker::builder("docs-settings").failure_threshold(3).build();
/// let s = breaker.settings();
/// assert_eq!(s.failure_threshold, Some(3));
/// assert_eq!(s.reset_timeout, Duration::from_secs(30)); // the default
/// assert_eq!(s.half_open_max_calls, s.success_threshold);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Settings {
    /// Consecutive failures that open the breaker; `None` when only rates do.
    pub failure_threshold: Option<u32>,
    /// The failure rate over the window that opens it.
    pub failure_rate: Option<f64>,
    /// How long a call takes to count as slow.
    pub slow_call: Option<Duration>,
    /// The slow-call rate over the window that opens it (set whenever `slow_call` is).
    pub slow_call_rate: Option<f64>,
    /// Calls the window must hold before a rate can open the breaker.
    pub minimum_calls: u32,
    /// The window the rates are measured over; present when a rate needs one.
    pub window: Option<Window>,
    /// Successful probes that close it.
    pub success_threshold: u32,
    /// Probes let through at once in half-open.
    pub half_open_max_calls: u32,
    /// How long it stays open before probing (before the backoff grows it).
    pub reset_timeout: Duration,
    /// How the reset timeout grows with re-opens.
    pub backoff: Backoff,
    /// How long a probe may go without a verdict.
    pub half_open_timeout: Duration,
    /// How long a call may run before it is cut (async calls).
    pub call_timeout: Option<Duration>,
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) failure_if: Option<ErasedPredicate>,
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) ignore_if: Option<ErasedPredicate>,
}

impl Settings {
    /// Whether a `failure_if` predicate decides which errors are failures.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-settings-fi").build();
    /// assert!(!breaker.settings().has_failure_if());
    /// ```
    pub fn has_failure_if(&self) -> bool {
        self.failure_if.is_some()
    }

    /// Whether an `ignore_if` predicate decides which errors are not recorded.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-settings-ii").build();
    /// assert!(!breaker.settings().has_ignore_if());
    /// ```
    pub fn has_ignore_if(&self) -> bool {
        self.ignore_if.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::BreakerConfigBuilder;

    fn resolve(c: BreakerConfigBuilder) -> Result<Settings, ConfigError> {
        c.build().resolve("t")
    }

    #[test]
    fn defaults_match_the_contract() {
        let s = resolve(BreakerConfig::builder()).unwrap();
        assert_eq!(s.failure_threshold, Some(5));
        assert_eq!(s.failure_rate, None);
        assert_eq!(s.window, None);
        assert_eq!(s.success_threshold, 2);
        assert_eq!(s.half_open_max_calls, 2);
        assert_eq!(s.reset_timeout, Duration::from_secs(30));
        assert_eq!(s.half_open_timeout, Duration::from_secs(60));
        assert_eq!(s.backoff, Backoff::fixed());
        assert_eq!(s.call_timeout, None);
    }

    #[test]
    fn a_failure_rate_replaces_the_default_threshold() {
        let s = resolve(BreakerConfig::builder().failure_rate(0.5)).unwrap();
        assert_eq!(s.failure_threshold, None);
        assert_eq!(s.window, Some(Window::Calls(100)));
        assert_eq!(s.minimum_calls, 10);
    }

    #[test]
    fn slow_call_enables_a_full_slow_rate_window() {
        let s = resolve(BreakerConfig::builder().slow_call(Duration::from_secs(1))).unwrap();
        assert_eq!(s.slow_call_rate, Some(1.0));
        assert_eq!(s.window, Some(Window::Calls(100)));
        assert_eq!(s.failure_threshold, Some(5));
    }

    #[test]
    fn out_of_range_values_name_key_and_value() {
        let cases = [
            (
                BreakerConfig::builder().failure_threshold(0),
                "`failure_threshold` = 0",
            ),
            (
                BreakerConfig::builder().failure_rate(0.0),
                "`failure_rate` = 0",
            ),
            (
                BreakerConfig::builder().minimum_calls(0),
                "`minimum_calls` = 0",
            ),
            (BreakerConfig::builder().window(0), "`window` = 0"),
            (BreakerConfig::builder().window(70_000), "`window` = 70000"),
            (
                BreakerConfig::builder().success_threshold(70_000),
                "`success_threshold` = 70000",
            ),
            (
                BreakerConfig::builder().half_open_timeout(Duration::ZERO),
                "`half_open_timeout`",
            ),
            (
                BreakerConfig::builder().slow_call_rate(0.5),
                "without `slow_call`",
            ),
            (
                BreakerConfig::builder()
                    .failure_rate(0.5)
                    .window(5)
                    .minimum_calls(6),
                "`minimum_calls` = 6",
            ),
            (
                BreakerConfig::builder().backoff(Backoff::fixed().jitter(2.0)),
                "jitter",
            ),
        ];
        for (builder, expected) in cases {
            let err = resolve(builder).unwrap_err().to_string();
            assert!(
                err.contains(expected),
                "{err:?} should contain {expected:?}"
            );
            assert!(err.starts_with("breaker `t`"), "{err}");
        }
    }

    #[test]
    fn predicates_apply_only_to_their_error_type() {
        let config = BreakerConfig::builder().failure_if(|e: &u8| *e > 3).build();
        let p = config.failure_if.unwrap();
        assert_eq!(p.test(&5u8), Some(true));
        assert_eq!(p.test(&1u8), Some(false));
        assert_eq!(p.test(&"other"), None);
    }
}
