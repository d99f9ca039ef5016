//! Breaker settings: [`BreakerConfig`] in code, and (feature `config`) loading them from TOML
//! and `BREAKER_<NAME>_<KEY>` environment variables.
//!
//! A config records only what was set, so layers can be stacked, low to high: built-in
//! defaults, a config file's `[default]` table, the attribute's arguments (or the builder's
//! calls), the breaker's own `[breakers."name"]` table, the environment. The stack is resolved
//! once into concrete, validated settings when a breaker is created, and again when a load
//! reconfigures it.

#[cfg(feature = "config")]
mod duration;
#[cfg(feature = "config")]
mod env;
#[cfg(feature = "config")]
mod file;
#[cfg(feature = "config")]
mod load;
#[cfg(feature = "config")]
mod suggest;
#[cfg(feature = "config")]
mod value;

#[cfg(feature = "config")]
pub use load::{
    load_env, load_env_into, load_file, load_file_into, load_str, load_str_into, load_vars_into,
};

use crate::backoff::{Backoff, MAX_WAIT};
use crate::error::{ConfigError, HumanDuration};
use crate::state::MAX_HALF_OPEN_COUNT;
use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The window the failure and slow-call rates are measured over.
///
/// ```
/// use breaker_runtime::Window;
/// use std::time::Duration;
///
/// assert_eq!(Window::from(100), Window::Calls(100));
/// assert_eq!(Window::from(Duration::from_secs(60)), Window::Time(Duration::from_secs(60)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Window {
    /// The last `n` recorded calls (at most 65,535).
    Calls(u32),
    /// The calls recorded in the last duration, kept in ten buckets of a tenth each.
    Time(Duration),
}

impl From<u32> for Window {
    fn from(n: u32) -> Window {
        Window::Calls(n)
    }
}

impl From<Duration> for Window {
    fn from(d: Duration) -> Window {
        Window::Time(d)
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Window::Calls(n) => write!(f, "{n}"),
            Window::Time(d) => write!(f, "\"{}\"", HumanDuration(*d)),
        }
    }
}

/// The largest count window.
pub(crate) const MAX_WINDOW_CALLS: u32 = 65_535;

/// A predicate on a call's error type, stored without the type so a config can carry it.
#[derive(Clone)]
pub(crate) struct ErasedPredicate(Arc<ErasedFn>);

type ErasedFn = dyn Fn(&dyn Any) -> Option<bool> + Send + Sync;

impl ErasedPredicate {
    pub(crate) fn new<E: 'static>(f: impl Fn(&E) -> bool + Send + Sync + 'static) -> Self {
        ErasedPredicate(Arc::new(move |e: &dyn Any| e.downcast_ref::<E>().map(&f)))
    }

    /// `None` when the predicate was written for another error type.
    pub(crate) fn test(&self, err: &dyn Any) -> Option<bool> {
        (self.0)(err)
    }
}

impl PartialEq for ErasedPredicate {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for ErasedPredicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<predicate>")
    }
}

/// Settings for a breaker, each either set or left to a lower layer.
///
/// Built with [`BreakerConfig::builder`]; every `#[circuit_breaker]` argument is a builder
/// method of the same name. [`CircuitBreaker::builder`](crate::CircuitBreaker::builder)
/// takes the same methods.
///
/// ```
/// use breaker_runtime::{registry, BreakerConfig, Backoff};
/// use std::time::Duration;
///
/// let config = BreakerConfig::builder()
///     .failure_rate(0.5)
///     .minimum_calls(20)
///     .window(Duration::from_secs(60))
///     .reset_timeout(Duration::from_secs(10))
///     .backoff(Backoff::exponential(2.0).max(Duration::from_secs(300)))
///     .build();
/// let breaker = registry().get_or_create("docs-config", config);
/// assert_eq!(breaker.name(), "docs-config");
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BreakerConfig {
    pub(crate) failure_threshold: Option<u32>,
    pub(crate) failure_rate: Option<f64>,
    pub(crate) minimum_calls: Option<u32>,
    pub(crate) window: Option<Window>,
    pub(crate) slow_call: Option<Duration>,
    pub(crate) slow_call_rate: Option<f64>,
    pub(crate) success_threshold: Option<u32>,
    pub(crate) half_open_max_calls: Option<u32>,
    pub(crate) reset_timeout: Option<Duration>,
    pub(crate) backoff: Option<Backoff>,
    pub(crate) half_open_timeout: Option<Duration>,
    pub(crate) call_timeout: Option<Duration>,
    pub(crate) failure_if: Option<ErasedPredicate>,
    pub(crate) ignore_if: Option<ErasedPredicate>,
}

/// Generates the setter methods shared by both builders, so the two cannot drift apart.
macro_rules! setters {
    ($($path:ident).+) => {
        /// Consecutive failures that open the breaker (at least 1; default 5 when no
        /// `failure_rate` is set).
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().failure_threshold(3).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").failure_threshold(3).try_build().unwrap();
        /// ```
        pub fn failure_threshold(mut self, n: u32) -> Self {
            self.$($path).+.failure_threshold = Some(n);
            self
        }
        /// Opens when failures / recorded calls in the window reach this, in (0, 1].
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().failure_rate(0.5).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").failure_rate(0.5).try_build().unwrap();
        /// ```
        pub fn failure_rate(mut self, rate: f64) -> Self {
            self.$($path).+.failure_rate = Some(rate);
            self
        }
        /// Calls the window must hold before a rate can open the breaker (default 10).
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().failure_rate(0.5).minimum_calls(20).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").failure_rate(0.5).minimum_calls(20).try_build().unwrap();
        /// ```
        pub fn minimum_calls(mut self, n: u32) -> Self {
            self.$($path).+.minimum_calls = Some(n);
            self
        }
        /// The window for the rates: a call count (`100`, the default) or a `Duration`.
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().failure_rate(0.5).window(std::time::Duration::from_secs(60)).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").failure_rate(0.5).window(std::time::Duration::from_secs(60)).try_build().unwrap();
        /// ```
        pub fn window(mut self, window: impl Into<$crate::Window>) -> Self {
            self.$($path).+.window = Some(window.into());
            self
        }
        /// A call that takes at least this long is slow.
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().slow_call(std::time::Duration::from_secs(2)).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").slow_call(std::time::Duration::from_secs(2)).try_build().unwrap();
        /// ```
        pub fn slow_call(mut self, threshold: Duration) -> Self {
            self.$($path).+.slow_call = Some(threshold);
            self
        }
        /// Opens when slow calls / recorded calls in the window reach this (default 1.0
        /// once `slow_call` is set).
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().slow_call(std::time::Duration::from_secs(2)).slow_call_rate(0.8).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").slow_call(std::time::Duration::from_secs(2)).slow_call_rate(0.8).try_build().unwrap();
        /// ```
        pub fn slow_call_rate(mut self, rate: f64) -> Self {
            self.$($path).+.slow_call_rate = Some(rate);
            self
        }
        /// Successes in half-open that close the breaker (default 2).
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().success_threshold(3).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").success_threshold(3).try_build().unwrap();
        /// ```
        pub fn success_threshold(mut self, n: u32) -> Self {
            self.$($path).+.success_threshold = Some(n);
            self
        }
        /// Calls let through at once in half-open (default: `success_threshold`).
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().half_open_max_calls(1).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").half_open_max_calls(1).try_build().unwrap();
        /// ```
        pub fn half_open_max_calls(mut self, n: u32) -> Self {
            self.$($path).+.half_open_max_calls = Some(n);
            self
        }
        /// How long the breaker stays open before letting probes through (default 30 s).
        /// Breakers keep time in whole milliseconds: a wait with a fraction of a millisecond
        /// (after the backoff) is rounded up to the next one, so it never ends early.
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().reset_timeout(std::time::Duration::from_secs(10)).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").reset_timeout(std::time::Duration::from_secs(10)).try_build().unwrap();
        /// ```
        pub fn reset_timeout(mut self, timeout: Duration) -> Self {
            self.$($path).+.reset_timeout = Some(timeout);
            self
        }
        /// How `reset_timeout` grows with each re-open (default [`Backoff::fixed`](crate::Backoff::fixed)).
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().backoff(breaker_runtime::Backoff::exponential(2.0)).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").backoff(breaker_runtime::Backoff::exponential(2.0)).try_build().unwrap();
        /// ```
        pub fn backoff(mut self, backoff: $crate::Backoff) -> Self {
            self.$($path).+.backoff = Some(backoff);
            self
        }
        /// A probe with no verdict this long after it was let in re-opens the breaker at that
        /// instant (default 60 s), so a probe that never finishes cannot wedge it. Each probe's
        /// timeout runs from its own admission; the new open period counts from the timeout.
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().half_open_timeout(std::time::Duration::from_secs(30)).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").half_open_timeout(std::time::Duration::from_secs(30)).try_build().unwrap();
        /// ```
        pub fn half_open_timeout(mut self, timeout: Duration) -> Self {
            self.$($path).+.half_open_timeout = Some(timeout);
            self
        }
        /// Cuts an async call running this long; it counts as a failure and ends in
        /// [`BreakerError::TimedOut`](crate::BreakerError::TimedOut). Needs a tokio runtime
        /// with timers.
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().call_timeout(std::time::Duration::from_millis(500)).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").call_timeout(std::time::Duration::from_millis(500)).try_build().unwrap();
        /// ```
        pub fn call_timeout(mut self, timeout: Duration) -> Self {
            self.$($path).+.call_timeout = Some(timeout);
            self
        }
        /// Which errors count as failures; the others count as successes, since the
        /// dependency answered. Applies to calls whose error type is `E`.
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().failure_if(|e: &std::io::Error| e.kind() != std::io::ErrorKind::NotFound).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").failure_if(|e: &std::io::Error| e.kind() != std::io::ErrorKind::NotFound).try_build().unwrap();
        /// ```
        pub fn failure_if<E: 'static>(
            mut self,
            predicate: impl Fn(&E) -> bool + Send + Sync + 'static,
        ) -> Self {
            self.$($path).+.failure_if = Some($crate::config::ErasedPredicate::new(predicate));
            self
        }
        /// Errors that are not recorded at all (a half-open permit is given back). Applies
        /// to calls whose error type is `E`.
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().ignore_if(|e: &std::io::Error| e.kind() == std::io::ErrorKind::InvalidInput).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").ignore_if(|e: &std::io::Error| e.kind() == std::io::ErrorKind::InvalidInput).try_build().unwrap();
        /// ```
        pub fn ignore_if<E: 'static>(
            mut self,
            predicate: impl Fn(&E) -> bool + Send + Sync + 'static,
        ) -> Self {
            self.$($path).+.ignore_if = Some($crate::config::ErasedPredicate::new(predicate));
            self
        }
    };
}
pub(crate) use setters;

/// Builds a [`BreakerConfig`]; see there for an example.
#[derive(Debug, Clone, Default)]
pub struct BreakerConfigBuilder {
    config: BreakerConfig,
}

impl BreakerConfigBuilder {
    setters!(config);

    /// The finished config. Values are checked when a breaker is made from it.
    pub fn build(self) -> BreakerConfig {
        self.config
    }
}

impl BreakerConfig {
    /// A builder with nothing set.
    ///
    /// ```
    /// let config = breaker_runtime::BreakerConfig::builder().failure_threshold(3).build();
    /// assert_eq!(config.get_failure_threshold(), Some(3));
    /// ```
    pub fn builder() -> BreakerConfigBuilder {
        BreakerConfigBuilder::default()
    }

    /// The `failure_threshold` set on this layer, if any.
    ///
    /// ```
    /// assert_eq!(breaker_runtime::BreakerConfig::default().get_failure_threshold(), None);
    /// ```
    pub fn get_failure_threshold(&self) -> Option<u32> {
        self.failure_threshold
    }

    /// This config with every setting of `higher` laid over it.
    ///
    /// ```
    /// use breaker_runtime::BreakerConfig;
    /// let base = BreakerConfig::builder().failure_threshold(3).success_threshold(4).build();
    /// let top = BreakerConfig::builder().failure_threshold(9).build();
    /// let merged = base.overlay(&top);
    /// assert_eq!(merged, BreakerConfig::builder().failure_threshold(9).success_threshold(4).build());
    /// ```
    pub fn overlay(&self, higher: &BreakerConfig) -> BreakerConfig {
        macro_rules! pick {
            ($($field:ident),*) => {
                BreakerConfig { $($field: higher.$field.clone().or_else(|| self.$field.clone()),)* }
            };
        }
        pick!(
            failure_threshold,
            failure_rate,
            minimum_calls,
            window,
            slow_call,
            slow_call_rate,
            success_threshold,
            half_open_max_calls,
            reset_timeout,
            backoff,
            half_open_timeout,
            call_timeout,
            failure_if,
            ignore_if
        )
    }

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
