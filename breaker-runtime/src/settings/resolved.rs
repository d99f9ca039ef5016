//! [`Settings`]: a [`BreakerConfig`] resolved over the built-in defaults and checked.

use super::{BreakerConfig, ErasedClassifier, ErasedPredicate, Window};
use crate::backoff::Backoff;
use crate::error::ConfigError;
use breaker_spec::defaults;
use std::fmt;
use std::time::Duration;

impl BreakerConfig {
    /// Resolves this config over the built-in defaults and checks every value, by the rules
    /// of `breaker_spec` (the attribute checks the same ones at compile time).
    pub(crate) fn resolve(&self, name: &str) -> Result<Settings, ConfigError> {
        let bad = |key: &str, value: &dyn fmt::Display, reason: &str| {
            ConfigError::invalid(name, key, value, reason)
        };
        macro_rules! check_each {
            ($($field:ident: $kind:ident),*) => {$(
                if let Some(value) = &self.$field {
                    check::$kind(stringify!($field), value)
                        .map_err(|(shown, reason)| bad(stringify!($field), &shown, &reason))?;
                }
            )*};
        }
        breaker_spec::for_each_setting!(check_each);
        if self.classify.is_some() && (self.failure_if.is_some() || self.ignore_if.is_some()) {
            return Err(bad(
                "classify",
                &"<function>",
                breaker_spec::check::CLASSIFY_WITH_PREDICATES,
            ));
        }
        if self.slow_call_rate.is_some() && self.slow_call.is_none() {
            return Err(bad(
                "slow_call_rate",
                &self.slow_call_rate.unwrap_or_default(),
                breaker_spec::check::SLOW_CALL_RATE_ALONE,
            ));
        }

        let uses_window = self.failure_rate.is_some() || self.slow_call.is_some();
        let window =
            uses_window.then(|| self.window.unwrap_or(Window::Calls(defaults::WINDOW_CALLS)));
        let minimum_calls = self.minimum_calls.unwrap_or(defaults::MINIMUM_CALLS);
        if let (Some(Window::Calls(n)), Some(m)) = (window, self.minimum_calls) {
            breaker_spec::check::minimum_calls_within(m, n, self.window.is_some())
                .map_err(|reason| bad("minimum_calls", &m, &reason))?;
        }
        let success_threshold = self
            .success_threshold
            .unwrap_or(defaults::SUCCESS_THRESHOLD);
        Ok(Settings {
            failure_threshold: self.failure_threshold.or(if self.failure_rate.is_none() {
                Some(defaults::FAILURE_THRESHOLD)
            } else {
                None
            }),
            failure_rate: self.failure_rate,
            slow_call: self.slow_call,
            slow_call_rate: self
                .slow_call
                .map(|_| self.slow_call_rate.unwrap_or(defaults::SLOW_CALL_RATE)),
            minimum_calls: match window {
                Some(Window::Calls(n)) => minimum_calls.min(n),
                _ => minimum_calls,
            },
            window,
            success_threshold,
            half_open_max_calls: self.half_open_max_calls.unwrap_or(success_threshold),
            reset_timeout: self.reset_timeout.unwrap_or(defaults::RESET_TIMEOUT),
            backoff: self.backoff.unwrap_or_default(),
            half_open_timeout: self
                .half_open_timeout
                .unwrap_or(defaults::HALF_OPEN_TIMEOUT),
            call_timeout: self.call_timeout,
            failure_if: self.failure_if.clone(),
            ignore_if: self.ignore_if.clone(),
            classify: self.classify.clone(),
        })
    }
}

/// One check per kind of setting (the kinds `breaker_spec::for_each_setting!` names): the
/// spec's rule, and the value as a message shows it when the rule refuses it.
mod check {
    use super::Window;
    use crate::backoff::Backoff;
    use crate::error::HumanDuration;
    use breaker_spec::check;
    use breaker_spec::settings::{find, Kind};
    use std::time::Duration;

    type Refused = (String, String);

    fn kind(key: &str) -> Option<Kind> {
        find(key).map(|s| s.kind)
    }

    fn quoted(d: Duration) -> String {
        format!("\"{}\"", HumanDuration(d))
    }

    pub(super) fn count(key: &str, n: &u32) -> Result<(), Refused> {
        let max = match kind(key) {
            Some(Kind::Count { max }) => max,
            _ => u64::from(u32::MAX),
        };
        check::count(u64::from(*n), max).map_err(|reason| (n.to_string(), reason))
    }

    pub(super) fn rate(_key: &str, r: &f64) -> Result<(), Refused> {
        check::rate(*r).map_err(|reason| (r.to_string(), reason))
    }

    pub(super) fn duration(key: &str, d: &Duration) -> Result<(), Refused> {
        let zero_allowed = matches!(kind(key), Some(Kind::Duration { zero_allowed: true }));
        check::duration(*d, zero_allowed).map_err(|reason| (quoted(*d), reason))
    }

    pub(super) fn window(_key: &str, w: &Window) -> Result<(), Refused> {
        match *w {
            Window::Calls(n) => check::window_calls(u64::from(n)).map_err(|r| (n.to_string(), r)),
            Window::Time(d) => check::window_time(d).map_err(|r| (quoted(d), r)),
        }
    }

    pub(super) fn backoff(_key: &str, b: &Backoff) -> Result<(), Refused> {
        b.check().map_err(|reason| (b.kind().to_owned(), reason))
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
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) classify: Option<ErasedClassifier>,
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

    /// Whether a `classify` function gives the verdict on whole results.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-settings-cl").build();
    /// assert!(!breaker.settings().has_classify());
    /// ```
    pub fn has_classify(&self) -> bool {
        self.classify.is_some()
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
                "needs `slow_call`",
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
