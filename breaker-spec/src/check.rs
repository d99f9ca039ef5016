//! The value checks. Each returns the reason a value is refused, worded to follow the
//! setting's name: the attribute reports "`` `key` `` *reason*" at the value, the runtime
//! "`` `key` = value is invalid: `` *reason*", so both say the same thing.
//!
//! ```
//! assert_eq!(breaker_spec::check::count(0, 5).unwrap_err(), "must be at least 1");
//! ```

use crate::limits::{MAX_CALLS, MAX_DURATION, MIN_TIME_WINDOW};
use std::time::Duration;

/// A count in `1..=max`. A negative count is checked as 0 and one too large for `u64` as
/// `u64::MAX`.
///
/// ```
/// use breaker_spec::check::count;
/// assert_eq!(count(0, 10), Err("must be at least 1".to_owned()));
/// assert_eq!(count(11, 10), Err("must be at most 10".to_owned()));
/// assert!(count(10, 10).is_ok());
/// ```
pub fn count(n: u64, max: u64) -> Result<(), String> {
    if n == 0 {
        Err("must be at least 1".to_owned())
    } else if n > max {
        Err(format!("must be at most {max}"))
    } else {
        Ok(())
    }
}

/// A rate: a fraction in (0, 1]. A value that looks like a percentage gets the fraction to
/// write instead.
///
/// ```
/// use breaker_spec::check::rate;
/// assert!(rate(0.5).is_ok() && rate(1.0).is_ok());
/// assert_eq!(
///     rate(50.0).unwrap_err(),
///     "must be a fraction in (0, 1], not a percentage: for 50% write 0.5"
/// );
/// assert!(rate(f64::NAN).is_err() && rate(0.0).is_err() && rate(-0.5).is_err());
/// ```
pub fn rate(r: f64) -> Result<(), String> {
    const RANGE: &str = "must be a fraction in (0, 1]";
    if r > 0.0 && r <= 1.0 {
        Ok(())
    } else if r.is_nan() {
        Err(format!("{RANGE}, e.g. 0.5"))
    } else if r < 0.0 {
        Err(format!("{RANGE}; it can't be negative"))
    } else if r == 0.0 {
        Err(format!("{RANGE}; 0 would open on no failures at all"))
    } else if (2.0..=100.0).contains(&r) {
        Err(format!(
            "{RANGE}, not a percentage: for {r}% write {}",
            r / 100.0
        ))
    } else {
        Err(format!("{RANGE}; {r} is above 1"))
    }
}

/// A duration setting: at most a year ([`MAX_DURATION`]) and, unless `zero_allowed`, longer
/// than zero. Only `reset_timeout` may be zero (an open breaker then probes at once; see
/// [`Kind::Duration`](crate::settings::Kind::Duration)).
///
/// ```
/// use breaker_spec::check::duration;
/// use std::time::Duration;
/// assert_eq!(duration(Duration::ZERO, false), Err("must be longer than zero".to_owned()));
/// assert!(duration(Duration::ZERO, true).is_ok());
/// assert!(duration(Duration::from_secs(400 * 86_400), true).is_err());
/// ```
pub fn duration(d: Duration, zero_allowed: bool) -> Result<(), String> {
    if d.is_zero() && !zero_allowed {
        Err("must be longer than zero".to_owned())
    } else if d > MAX_DURATION {
        Err("must be at most a year (\"365d\")".to_owned())
    } else {
        Ok(())
    }
}

/// A count window: `1..=`[`MAX_CALLS`] calls.
///
/// ```
/// use breaker_spec::check::window_calls;
/// assert!(window_calls(100).is_ok());
/// assert_eq!(window_calls(0), Err("must hold at least 1 call".to_owned()));
/// assert_eq!(window_calls(70_000), Err("must be at most 65535 calls".to_owned()));
/// ```
pub fn window_calls(n: u64) -> Result<(), String> {
    if n == 0 {
        Err("must hold at least 1 call".to_owned())
    } else if n > u64::from(MAX_CALLS) {
        Err(format!("must be at most {MAX_CALLS} calls"))
    } else {
        Ok(())
    }
}

/// A time window: from [`MIN_TIME_WINDOW`] to a year.
///
/// ```
/// use breaker_spec::check::window_time;
/// use std::time::Duration;
/// assert!(window_time(Duration::from_secs(60)).is_ok());
/// assert!(window_time(Duration::from_millis(9)).unwrap_err().starts_with("must be at least \"10ms\""));
/// ```
pub fn window_time(d: Duration) -> Result<(), String> {
    if d < MIN_TIME_WINDOW {
        Err("must be at least \"10ms\" as a time window: it keeps ten buckets of at least a millisecond each".to_owned())
    } else {
        duration(d, false)
    }
}

/// A backoff's `jitter`: a fraction in [0, 1].
///
/// ```
/// use breaker_spec::check::jitter;
/// assert!(jitter(0.0).is_ok() && jitter(1.0).is_ok());
/// assert_eq!(jitter(2.0), Err("must be a fraction in [0, 1], e.g. 0.1".to_owned()));
/// ```
pub fn jitter(j: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&j) {
        Ok(())
    } else {
        Err("must be a fraction in [0, 1], e.g. 0.1".to_owned())
    }
}

/// An exponential backoff's `multiplier`: finite and at least 1, so a wait never shrinks.
///
/// ```
/// use breaker_spec::check::multiplier;
/// assert!(multiplier(2.0).is_ok());
/// assert!(multiplier(0.5).is_err() && multiplier(f64::INFINITY).is_err());
/// ```
pub fn multiplier(m: f64) -> Result<(), String> {
    if m >= 1.0 && m.is_finite() {
        Ok(())
    } else {
        Err("must be a finite number of at least 1, e.g. 2.0".to_owned())
    }
}

/// Why `slow_call_rate` is refused without `slow_call`: the rate of slow calls means nothing
/// until something says how long a slow call takes.
///
/// ```
/// assert!(breaker_spec::check::SLOW_CALL_RATE_ALONE.starts_with("needs `slow_call`"));
/// ```
pub const SLOW_CALL_RATE_ALONE: &str =
    "needs `slow_call`, the duration that makes a call slow: add `slow_call = \"2s\"`";

/// `classify` beside `failure_if` or `ignore_if`: the verdict is `classify`'s alone, so the
/// predicates would be ignored; written after "`classify` " by the attribute and the runtime.
///
/// ```
/// assert!(breaker_spec::check::CLASSIFY_WITH_PREDICATES.starts_with("decides the whole verdict"));
/// ```
pub const CLASSIFY_WITH_PREDICATES: &str = "decides the whole verdict, so it can't be combined with `failure_if` or `ignore_if`: fold them into the `classify` function (return `Outcome::Ignored` for what `ignore_if` ignored)";

/// `minimum_calls` against a count window of `window_calls` calls (`window_given` false for
/// the default window): a minimum the window can't hold could never let a rate open the
/// breaker.
///
/// ```
/// use breaker_spec::check::minimum_calls_within;
/// assert!(minimum_calls_within(10, 100, false).is_ok());
/// assert_eq!(
///     minimum_calls_within(20, 10, true).unwrap_err(),
///     "can never be reached: `window` holds only the last 10 calls; lower `minimum_calls` or raise `window`"
/// );
/// ```
pub fn minimum_calls_within(
    minimum: u32,
    window_calls: u32,
    window_given: bool,
) -> Result<(), String> {
    if minimum <= window_calls {
        return Ok(());
    }
    let window = if window_given {
        "`window`"
    } else {
        "the default `window`"
    };
    Err(format!(
        "can never be reached: {window} holds only the last {window_calls} calls; \
         lower `minimum_calls` or raise `window`"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges() {
        assert!(count(1, 1).is_ok());
        assert!(count(u64::MAX, u64::MAX).is_ok());
        assert!(rate(f64::MIN_POSITIVE).is_ok());
        assert_eq!(
            rate(1.5).unwrap_err(),
            "must be a fraction in (0, 1]; 1.5 is above 1"
        );
        assert!(rate(f64::INFINITY).unwrap_err().contains("inf is above 1"));
        assert!(rate(-0.0).is_err());
        assert!(duration(MAX_DURATION, false).is_ok());
        assert!(duration(MAX_DURATION + Duration::from_nanos(1), false).is_err());
        assert!(duration(Duration::from_nanos(1), false).is_ok());
        assert!(window_calls(u64::from(MAX_CALLS)).is_ok());
        assert!(window_time(MIN_TIME_WINDOW).is_ok());
        assert!(window_time(Duration::MAX).is_err());
        assert!(jitter(f64::NAN).is_err() && jitter(-0.1).is_err());
        assert!(multiplier(1.0).is_ok() && multiplier(f64::NAN).is_err());
    }
}
