//! The values the runtime uses for a setting nobody set.
//!
//! ```
//! use breaker_spec::defaults;
//! assert_eq!(defaults::WINDOW_CALLS, 100);
//! assert_eq!(defaults::RESET_TIMEOUT.as_secs(), 30);
//! ```

use std::time::Duration;

/// The count window, in calls, when a rate needs a window and none is set.
///
/// ```
/// assert_eq!(breaker_spec::defaults::WINDOW_CALLS, 100);
/// ```
pub const WINDOW_CALLS: u32 = 100;

/// Calls the window must hold before a rate can open the breaker.
///
/// ```
/// assert_eq!(breaker_spec::defaults::MINIMUM_CALLS, 10);
/// ```
pub const MINIMUM_CALLS: u32 = 10;

/// Consecutive failures that open the breaker, when no `failure_rate` is set.
///
/// ```
/// assert_eq!(breaker_spec::defaults::FAILURE_THRESHOLD, 5);
/// ```
pub const FAILURE_THRESHOLD: u32 = 5;

/// Successful probes that close the breaker. `half_open_max_calls` defaults to the
/// `success_threshold` in force, so a breaker lets through as many probes as it needs.
///
/// ```
/// assert_eq!(breaker_spec::defaults::SUCCESS_THRESHOLD, 2);
/// ```
pub const SUCCESS_THRESHOLD: u32 = 2;

/// How long an open breaker waits before probing (before the backoff grows it).
///
/// ```
/// assert_eq!(breaker_spec::defaults::RESET_TIMEOUT.as_secs(), 30);
/// ```
pub const RESET_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a probe may go without a verdict before the breaker re-opens.
///
/// ```
/// assert_eq!(breaker_spec::defaults::HALF_OPEN_TIMEOUT.as_secs(), 60);
/// ```
pub const HALF_OPEN_TIMEOUT: Duration = Duration::from_secs(60);

/// The slow-call rate that opens the breaker once `slow_call` is set: every call slow.
///
/// ```
/// assert_eq!(breaker_spec::defaults::SLOW_CALL_RATE, 1.0);
/// ```
pub const SLOW_CALL_RATE: f64 = 1.0;
