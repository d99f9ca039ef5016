//! The limits every setting is checked against.
//!
//! ```
//! use breaker_spec::{check, limits};
//! assert!(check::duration(limits::MAX_DURATION, false).is_ok());
//! ```

use std::time::Duration;

/// The most calls a count window holds, and the most `success_threshold` and
/// `half_open_max_calls` may be: the runtime keeps these counts in 16 bits of a word.
///
/// ```
/// assert_eq!(breaker_spec::limits::MAX_CALLS, 65_535);
/// ```
pub const MAX_CALLS: u32 = 65_535;

/// The longest duration a setting may be: a year. No breaker waits longer before probing,
/// whatever its backoff says.
///
/// ```
/// assert_eq!(breaker_spec::limits::MAX_DURATION.as_secs(), 365 * 24 * 3600);
/// ```
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// The shortest time window: its ten buckets must each span at least the millisecond the
/// breakers keep time in.
///
/// ```
/// assert_eq!(breaker_spec::limits::MIN_TIME_WINDOW.as_millis(), 10);
/// ```
pub const MIN_TIME_WINDOW: Duration = Duration::from_millis(10);
