//! [`Metrics`]: what a breaker has counted, read at one moment.

use crate::state::State;

/// A breaker's counts since it was created or last [`reset`](crate::CircuitBreaker::reset).
///
/// Every finished call lands in exactly one of `successes`, `failures`, `ignored`,
/// `rejected` and `cancelled`, and `calls` is their sum: nothing is lost. `timeouts` are also
/// failures; `slow_calls` are also successes or failures. Calls still running are in none.
/// A [`Disabled`](State::Disabled) breaker counts nothing.
///
/// ```
/// use breaker_runtime::CircuitBreaker;
///
/// let breaker = CircuitBreaker::builder("docs-metrics").build();
/// let _ = breaker.call_sync(|| Ok::<_, std::io::Error>(1));
/// let _ = breaker.call_sync(|| Err::<(), _>(std::io::Error::other("down")));
/// let m = breaker.metrics();
/// assert_eq!((m.calls, m.successes, m.failures), (2, 1, 1));
/// assert_eq!(m.failure_rate, None); // fewer than `minimum_calls` (10) recorded
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Metrics {
    /// Every counted call: the sum of the five outcomes below.
    pub calls: u64,
    /// Calls that returned `Ok`, or an error `failure_if` does not count.
    pub successes: u64,
    /// Calls that failed, panicked or timed out.
    pub failures: u64,
    /// Calls whose error `ignore_if` matched.
    pub ignored: u64,
    /// Calls rejected without running.
    pub rejected: u64,
    /// Calls dropped before they finished.
    pub cancelled: u64,
    /// Failures that were calls cut by `call_timeout`.
    pub timeouts: u64,
    /// Calls that took at least `slow_call`.
    pub slow_calls: u64,
    /// Failures / recorded calls over the window (or, with no rate window, over all calls
    /// since the last reset); `None` until `minimum_calls` are recorded.
    pub failure_rate: Option<f64>,
    /// Slow calls / recorded calls over the window; `None` without `slow_call` or until
    /// `minimum_calls` are recorded.
    pub slow_call_rate: Option<f64>,
    /// The state when the metrics were read.
    pub state: State,
    /// How many times the breaker opened on its own (re-opens from half-open included).
    pub opened_count: u64,
}
