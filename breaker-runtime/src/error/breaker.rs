//! [`BreakerError`]: why a breaker did not let a call finish.

use super::format::{HumanDuration, RetryIn};
use crate::name::Name;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::format::ROUNDING;

    #[test]
    fn a_timeout_names_the_breaker_and_the_timeout() {
        let e = BreakerError::TimedOut {
            name: "db".into(),
            after: Duration::from_millis(500),
        };
        assert_eq!(
            e.to_string(),
            "call through circuit breaker `db` timed out after 500ms"
        );
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
