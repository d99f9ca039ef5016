//! The errors a breaker returns: [`BreakerError`] when it does not run a call, [`CallError`]
//! around the call's own error, and [`ConfigError`] for settings that make no sense.

use crate::name::Name;
use std::fmt;
use std::time::Duration;

/// Why a breaker did not let a call finish.
///
/// `Display` names the breaker and says when to retry:
///
/// ```
/// use breaker_runtime::BreakerError;
/// use std::time::Duration;
///
/// let err = BreakerError::Open { name: "quotes".into(), retry_after: Duration::from_secs(12) };
/// assert_eq!(err.to_string(), "circuit breaker `quotes` is open; retry in 12s");
/// assert_eq!(err.name(), "quotes");
/// assert!(err.is_circuit_open());
/// ```
///
/// The wait is shown in whole seconds, rounded up, the same figure as the `Retry-After`
/// header of the rejection's HTTP response (feature `axum`): never earlier than the breaker
/// will let a probe in, and never a smaller number than the header. Above a minute it is
/// written in hours, minutes and seconds. `snapshot().retry_after_ms` and the response body's
/// `retry_after_ms` round the same duration up to whole milliseconds.
///
/// ```
/// use breaker_runtime::BreakerError;
/// use std::time::Duration;
///
/// let open = |ms| BreakerError::Open { name: "quotes".into(), retry_after: Duration::from_millis(ms) };
/// assert_eq!(open(4_488).to_string(), "circuit breaker `quotes` is open; retry in 5s");
/// assert_eq!(open(250).to_string(), "circuit breaker `quotes` is open; retry in 1s");
/// assert_eq!(open(90_001).to_string(), "circuit breaker `quotes` is open; retry in 1m31s");
/// assert_eq!(open(0).to_string(), "circuit breaker `quotes` is open; retry in 0s");
/// ```
///
/// The `name` fields are [`Name`]s, which compare with a `str`, also in a pattern's guard:
///
/// ```
/// # use breaker_runtime::BreakerError;
/// let err = BreakerError::ForcedOpen { name: String::from("quotes").into() };
/// assert!(matches!(&err, BreakerError::ForcedOpen { name } if name == "quotes"));
/// assert_eq!(err, BreakerError::ForcedOpen { name: "quotes".into() });
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum BreakerError {
    /// The breaker is open; probes are let through after `retry_after`.
    #[error("circuit breaker `{name}` is open; retry in {}", RetryIn(*retry_after))]
    Open {
        /// The breaker's name.
        name: Name,
        /// How long until the breaker lets a probe through.
        retry_after: Duration,
    },
    /// The breaker is half-open and as many probes as it allows are already running.
    #[error("circuit breaker `{name}` is half-open and its probe slots are taken; retry shortly")]
    HalfOpenFull {
        /// The breaker's name.
        name: Name,
    },
    /// The breaker was opened by hand and stays open until closed or reset.
    #[error("circuit breaker `{name}` is forced open; it stays open until closed or reset")]
    ForcedOpen {
        /// The breaker's name.
        name: Name,
    },
    /// The call ran longer than the breaker's `call_timeout` and was cut.
    #[error("call through circuit breaker `{name}` timed out after {}", HumanDuration(*after))]
    TimedOut {
        /// The breaker's name.
        name: Name,
        /// The `call_timeout` that elapsed.
        after: Duration,
    },
}

impl BreakerError {
    /// The name of the breaker that produced this error.
    ///
    /// ```
    /// let err = breaker_runtime::BreakerError::ForcedOpen { name: "db".into() };
    /// assert_eq!(err.name(), "db");
    /// ```
    pub fn name(&self) -> &str {
        match self {
            BreakerError::Open { name, .. }
            | BreakerError::HalfOpenFull { name }
            | BreakerError::ForcedOpen { name }
            | BreakerError::TimedOut { name, .. } => name,
        }
    }

    /// When a retry may succeed: the time left before probing for `Open`, `None` otherwise.
    ///
    /// ```
    /// use std::time::Duration;
    /// let err = breaker_runtime::BreakerError::Open { name: "db".into(), retry_after: Duration::from_secs(3) };
    /// assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            BreakerError::Open { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// Whether the call was rejected without running (`Open`, `HalfOpenFull`, `ForcedOpen`),
    /// as opposed to cut by a timeout.
    ///
    /// ```
    /// use std::time::Duration;
    /// let err = breaker_runtime::BreakerError::TimedOut { name: "db".into(), after: Duration::from_secs(1) };
    /// assert!(!err.is_circuit_open());
    /// ```
    pub fn is_circuit_open(&self) -> bool {
        !matches!(self, BreakerError::TimedOut { .. })
    }

    /// Whether the call was cut by the breaker's `call_timeout`.
    ///
    /// ```
    /// let err = breaker_runtime::BreakerError::HalfOpenFull { name: "db".into() };
    /// assert!(!err.is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, BreakerError::TimedOut { .. })
    }
}

impl BreakerError {
    /// The breaker's error in `err` or in its chain of [`source`](std::error::Error::source)s:
    /// how a handler of boxed errors (tower's `BoxError`, behind a `Buffer` or a `Timeout`)
    /// tells a rejection from a failure without knowing the exact `CallError<E>`.
    ///
    /// ```
    /// use breaker_runtime::{BreakerError, CallError};
    ///
    /// type BoxError = Box<dyn std::error::Error + Send + Sync>;
    /// let rejected: BoxError = Box::new(CallError::<std::io::Error>::Breaker(
    ///     BreakerError::ForcedOpen { name: "db".into() },
    /// ));
    /// assert_eq!(BreakerError::find_in(&*rejected).map(|e| e.name()), Some("db"));
    ///
    /// let failed: BoxError = Box::new(CallError::<std::io::Error>::Inner(std::io::Error::other("reset")));
    /// assert!(BreakerError::find_in(&*failed).is_none());
    /// ```
    pub fn find_in<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a BreakerError> {
        let mut next = Some(err);
        while let Some(e) = next {
            if let Some(found) = e.downcast_ref::<BreakerError>() {
                return Some(found);
            }
            next = e.source();
        }
        None
    }
}

/// Lets functions returning `std::io::Result` sit behind a breaker: a timeout becomes
/// [`ErrorKind::TimedOut`](std::io::ErrorKind::TimedOut), a rejection
/// [`ErrorKind::Other`](std::io::ErrorKind::Other), each carrying the [`BreakerError`] to
/// downcast.
///
/// ```
/// use breaker_runtime::BreakerError;
///
/// let io: std::io::Error = BreakerError::ForcedOpen { name: "disk".into() }.into();
/// assert_eq!(io.kind(), std::io::ErrorKind::Other);
/// let inner = io.get_ref().and_then(|e| e.downcast_ref::<BreakerError>());
/// assert_eq!(inner, Some(&BreakerError::ForcedOpen { name: "disk".into() }));
/// ```
impl From<BreakerError> for std::io::Error {
    fn from(err: BreakerError) -> Self {
        let kind = if err.is_timeout() {
            std::io::ErrorKind::TimedOut
        } else {
            std::io::ErrorKind::Other
        };
        std::io::Error::new(kind, err)
    }
}

/// The error of a call made through a breaker: the breaker's own, or the call's.
///
/// ```
/// use breaker_runtime::{BreakerError, CallError};
///
/// let inner: CallError<std::io::Error> = CallError::Inner(std::io::Error::other("boom"));
/// assert!(!inner.is_circuit_open());
/// assert_eq!(inner.into_inner().unwrap().to_string(), "boom");
///
/// let rejected: CallError<std::io::Error> = BreakerError::ForcedOpen { name: "db".into() }.into();
/// assert!(rejected.is_circuit_open());
/// ```
///
/// A rejection stays recognisable once the error is boxed (behind tower's `Buffer` or
/// `Timeout`, as a `BoxError`) without naming `E`: `CallError::Breaker` shows the
/// [`BreakerError`]'s message and gives the [`BreakerError`] itself as its
/// [`source`](std::error::Error::source), which [`BreakerError::find_in`] looks for.
///
/// ```
/// use breaker_runtime::{BreakerError, CallError};
/// use std::error::Error;
///
/// let boxed: Box<dyn Error + Send + Sync> =
///     Box::new(CallError::<std::io::Error>::Breaker(BreakerError::ForcedOpen { name: "db".into() }));
/// assert_eq!(boxed.to_string(), "circuit breaker `db` is forced open; it stays open until closed or reset");
/// assert!(boxed.source().unwrap().is::<BreakerError>());
/// assert!(BreakerError::find_in(&*boxed).unwrap().is_circuit_open());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError<E> {
    /// The breaker rejected the call or cut it short.
    #[error("{0}")]
    Breaker(#[source] BreakerError),
    /// The call ran and returned this error.
    #[error(transparent)]
    Inner(E),
}

impl<E> CallError<E> {
    /// Whether the breaker rejected the call without running it.
    ///
    /// ```
    /// let err: breaker_runtime::CallError<()> = breaker_runtime::CallError::Inner(());
    /// assert!(!err.is_circuit_open());
    /// ```
    pub fn is_circuit_open(&self) -> bool {
        matches!(self, CallError::Breaker(b) if b.is_circuit_open())
    }

    /// The call's own error, if it ran and failed.
    ///
    /// ```
    /// let err: breaker_runtime::CallError<u8> = breaker_runtime::CallError::Inner(7);
    /// assert_eq!(err.into_inner(), Some(7));
    /// ```
    pub fn into_inner(self) -> Option<E> {
        match self {
            CallError::Inner(e) => Some(e),
            CallError::Breaker(_) => None,
        }
    }

    /// The breaker's error, if the breaker rejected or cut the call.
    ///
    /// ```
    /// let err: breaker_runtime::CallError<u8> = breaker_runtime::CallError::Inner(7);
    /// assert!(err.breaker_error().is_none());
    /// ```
    pub fn breaker_error(&self) -> Option<&BreakerError> {
        match self {
            CallError::Breaker(b) => Some(b),
            CallError::Inner(_) => None,
        }
    }

    /// Turns the error into the call's own error type, converting a breaker error with `From`.
    ///
    /// ```
    /// use breaker_runtime::{BreakerError, CallError};
    /// let err: CallError<Box<dyn std::error::Error + Send + Sync>> =
    ///     CallError::Breaker(BreakerError::ForcedOpen { name: "db".into() });
    /// assert!(err.flatten().to_string().contains("forced open"));
    /// ```
    pub fn flatten(self) -> E
    where
        E: From<BreakerError>,
    {
        match self {
            CallError::Breaker(b) => E::from(b),
            CallError::Inner(e) => e,
        }
    }
}

impl<E> From<BreakerError> for CallError<E> {
    fn from(err: BreakerError) -> Self {
        CallError::Breaker(err)
    }
}

/// A setting that makes no sense: names the breaker, the key and the value.
///
/// ```
/// use breaker_runtime::CircuitBreaker;
///
/// let err = CircuitBreaker::builder("quotes").failure_rate(1.5).try_build().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "breaker `quotes`: `failure_rate` = 1.5 is invalid: must be a fraction in (0, 1]; 1.5 is above 1"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A key has a value out of range or of the wrong kind.
    #[error("breaker `{breaker}`: `{key}` = {value} is invalid: {reason}")]
    Invalid {
        /// The breaker the setting is for (`default` for the `[default]` table).
        breaker: String,
        /// The setting's name.
        key: String,
        /// The value as written.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A key that is not a setting.
    #[error("breaker `{breaker}`: unknown key `{key}`{}", Suggestion(suggestion.as_deref()))]
    UnknownKey {
        /// The breaker the table is for.
        breaker: String,
        /// The key as written.
        key: String,
        /// The closest known key, if one is close.
        suggestion: Option<String>,
    },
    /// A document or variable that could not be read at all.
    #[error("{source_name}: {message}")]
    Parse {
        /// Where the text came from: a path, `<string>` or an environment variable.
        source_name: String,
        /// What the parser said.
        message: String,
    },
    /// `base` names a table that leads back to itself.
    #[error("breaker `{breaker}`: `base` chain loops: {}", chain.join(" -> "))]
    BaseCycle {
        /// The breaker whose table starts the loop.
        breaker: String,
        /// The names along the loop.
        chain: Vec<String>,
    },
    /// `base` names a breaker that has no table.
    #[error("breaker `{breaker}`: `base` = \"{base}\" names no `[breakers.\"{base}\"]` table")]
    UnknownBase {
        /// The breaker whose table has the `base` key.
        breaker: String,
        /// The missing table's name.
        base: String,
    },
    /// A config file that could not be read.
    #[error("cannot read config file {path}: {message}")]
    Io {
        /// The path as given.
        path: String,
        /// What the operating system said.
        message: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(
        breaker: &str,
        key: &str,
        value: impl fmt::Display,
        reason: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            breaker: breaker.to_owned(),
            key: key.to_owned(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

struct Suggestion<'a>(Option<&'a str>);

impl fmt::Display for Suggestion<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(s) => write!(f, "; did you mean `{s}`?"),
            None => Ok(()),
        }
    }
}

/// Formats a duration the way people write them: `12s`, `250ms`, `1m30s`. For settings shown
/// as written; a retry hint goes through [`RetryIn`].
pub(crate) struct HumanDuration(pub(crate) Duration);

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        let ms = d.as_millis();
        if ms == 0 {
            return if d.is_zero() {
                f.write_str("0s")
            } else {
                write!(f, "{}us", d.as_micros().max(1))
            };
        }
        if ms < 1_000 {
            return write!(f, "{ms}ms");
        }
        // Round to whole seconds above a second: a setting needs no more precision here.
        write_hms(f, (ms + 500) / 1_000)
    }
}

/// A retry wait in whole seconds, rounded up: what `Retry-After` says and what
/// [`BreakerError`]'s `Display` shows. The one place that rounds a retry to seconds.
pub(crate) fn retry_after_secs(d: Duration) -> u64 {
    d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0))
}

/// A retry wait in whole milliseconds, rounded up: `retry_after_ms` of snapshots and of
/// rejection bodies. The one place that rounds a retry to milliseconds.
pub(crate) fn retry_after_ms(d: Duration) -> u64 {
    crate::clock::ceil_ms(d)
}

/// Shows a retry wait as [`retry_after_secs`] rounds it: `5s`, `1m31s`, `8760h`.
pub(crate) struct RetryIn(pub(crate) Duration);

impl fmt::Display for RetryIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hms(f, u128::from(retry_after_secs(self.0)))
    }
}

/// Whole seconds as hours, minutes and seconds, leaving out zero parts: `1h`, `1m30s`, `0s`.
fn write_hms(f: &mut fmt::Formatter<'_>, secs: u128) -> fmt::Result {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        write!(f, "{h}h")?;
    }
    if m > 0 {
        write!(f, "{m}m")?;
    }
    if s > 0 || (h == 0 && m == 0) {
        write!(f, "{s}s")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_people_write_them() {
        let h = |d| HumanDuration(d).to_string();
        assert_eq!(h(Duration::ZERO), "0s");
        assert_eq!(h(Duration::from_micros(30)), "30us");
        assert_eq!(h(Duration::from_millis(250)), "250ms");
        assert_eq!(h(Duration::from_millis(11_600)), "12s");
        assert_eq!(h(Duration::from_secs(90)), "1m30s");
        assert_eq!(h(Duration::from_secs(3600)), "1h");
    }

    #[test]
    fn messages_name_breaker_and_key() {
        let e = ConfigError::UnknownKey {
            breaker: "quotes".into(),
            key: "timeout".into(),
            suggestion: Some("reset_timeout".into()),
        };
        assert_eq!(
            e.to_string(),
            "breaker `quotes`: unknown key `timeout`; did you mean `reset_timeout`?"
        );
        let e = BreakerError::TimedOut {
            name: "db".into(),
            after: Duration::from_millis(500),
        };
        assert_eq!(
            e.to_string(),
            "call through circuit breaker `db` timed out after 500ms"
        );
    }

    const MS: u64 = 1;

    /// The edges of the one rounding: (milliseconds, whole seconds up, milliseconds up).
    const ROUNDING: [(u64, u64, u64); 7] = [
        (0, 0, 0),
        (MS, 1, 1),
        (999, 1, 999),
        (1_000, 1, 1_000),
        (4_488, 5, 4_488),
        (5_000, 5, 5_000),
        (5_001, 6, 5_001),
    ];

    #[test]
    fn a_retry_rounds_up_to_whole_seconds_and_milliseconds() {
        for (ms, secs, ms_up) in ROUNDING {
            let d = Duration::from_millis(ms);
            assert_eq!(retry_after_secs(d), secs, "{ms} ms");
            assert_eq!(retry_after_ms(d), ms_up, "{ms} ms");
        }
        // Below a millisecond, and at the very end of the range: up, and saturating.
        assert_eq!(retry_after_ms(Duration::from_nanos(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_nanos(1)), 1);
        assert_eq!(retry_after_ms(Duration::from_nanos(4_488_000_001)), 4_489);
        assert_eq!(retry_after_secs(Duration::MAX), u64::MAX);
        assert_eq!(retry_after_ms(Duration::MAX), u64::MAX);
    }

    #[test]
    fn display_shows_the_same_whole_seconds_as_the_header() {
        for (ms, secs, _) in ROUNDING {
            let err = BreakerError::Open {
                name: "db".into(),
                retry_after: Duration::from_millis(ms),
            };
            assert_eq!(
                err.to_string(),
                format!("circuit breaker `db` is open; retry in {secs}s"),
                "{ms} ms"
            );
        }
        let retry_in = |ms| RetryIn(Duration::from_millis(ms)).to_string();
        assert_eq!(retry_in(59_001), "1m");
        assert_eq!(retry_in(90_001), "1m31s");
        assert_eq!(retry_in(3_599_001), "1h");
        assert_eq!(retry_in(365 * 24 * 3_600_000), "8760h");
        assert_eq!(
            RetryIn(Duration::MAX).to_string(),
            format!("{}h15s", u64::MAX / 3600)
        );
    }
}
