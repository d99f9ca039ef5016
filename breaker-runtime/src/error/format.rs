//! How durations and retry waits are written for people: settings as written (`250ms`,
//! `1m30s`), and retry waits rounded up, to whole seconds for messages and `Retry-After`, to
//! whole milliseconds for `retry_after_ms`.

use std::fmt;
use std::time::Duration;

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
/// [`BreakerError`](super::BreakerError)'s `Display` shows. The one place that rounds a
/// retry to seconds.
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

/// The edges of the one rounding: (milliseconds, whole seconds up, milliseconds up). Shared
/// with [`BreakerError`](super::BreakerError)'s tests, whose message shows the same seconds.
#[cfg(test)]
pub(super) const ROUNDING: [(u64, u64, u64); 7] = [
    (0, 0, 0),
    (1, 1, 1),
    (999, 1, 999),
    (1_000, 1, 1_000),
    (4_488, 5, 4_488),
    (5_000, 5, 5_000),
    (5_001, 6, 5_001),
];

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
}
