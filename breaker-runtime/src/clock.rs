//! The time source of every breaker.
//!
//! Breakers decide state in whole milliseconds on a monotonic clock. Two readings exist:
//! `now_ms` (precise) and `coarse_now_ms`, which on Linux reads `CLOCK_MONOTONIC_COARSE`
//! (a few nanoseconds instead of ~25, updated every kernel tick). The coarse reading lags the
//! precise one by at most one tick and never runs ahead of it, so a rejection can use it and
//! only pays for a precise read when the deadline is within [`COARSE_SLACK_MS`].
//!
//! With the `test-util` feature both readings come from tokio's clock, so
//! `tokio::time::pause` / `advance` drive every breaker. Without it nothing on the hot path
//! checks for a paused clock.

pub(crate) use source::COARSE_SLACK_MS;

/// A start stamp for measuring a call's duration: precise nanoseconds, never 0, so that 0
/// can mean "not timed" and a ticket stays two plain words that travel in registers.
#[inline]
pub(crate) fn stamp() -> u64 {
    now_ns().max(1)
}

#[cfg(all(
    not(loom),
    not(feature = "test-util"),
    any(target_os = "linux", target_os = "android")
))]
mod source {
    /// Upper bound on how far the coarse clock may lag the precise one (a Linux tick is at
    /// most 10 ms at `HZ=100`).
    pub(crate) const COARSE_SLACK_MS: u64 = 16;

    #[inline]
    fn read(clock: libc::clockid_t) -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec and both clock ids exist on every Linux
        // since 2.6.32; clock_gettime on them cannot fail with valid arguments.
        unsafe { libc::clock_gettime(clock, &mut ts) };
        ts.tv_sec as u64 * 1_000 + ts.tv_nsec as u64 / 1_000_000
    }

    #[inline]
    pub(crate) fn now_ns() -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: as in `read`.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    }

    #[inline]
    pub(crate) fn now_ms() -> u64 {
        read(libc::CLOCK_MONOTONIC)
    }

    #[inline]
    pub(crate) fn coarse_now_ms() -> u64 {
        read(libc::CLOCK_MONOTONIC_COARSE)
    }
}

#[cfg(all(
    not(loom),
    any(
        feature = "test-util",
        not(any(target_os = "linux", target_os = "android"))
    )
))]
mod source {
    use std::sync::OnceLock;

    /// The coarse reading is the precise one here: it never lags.
    pub(crate) const COARSE_SLACK_MS: u64 = 0;

    #[cfg(not(feature = "test-util"))]
    use std::time::Instant;
    #[cfg(feature = "test-util")]
    use tokio::time::Instant;

    /// Nanoseconds added to every reading so that instants taken a little before the epoch
    /// was fixed (a paused tokio runtime started earlier) still map to positive values. A
    /// whole number of milliseconds (2^32 ms), so milliseconds round the same way on both
    /// sides of the epoch.
    const BIAS_NS: u64 = (1 << 32) * 1_000_000;

    fn epoch() -> Instant {
        static EPOCH: OnceLock<Instant> = OnceLock::new();
        *EPOCH.get_or_init(Instant::now)
    }

    #[inline]
    pub(crate) fn now_ns() -> u64 {
        let epoch = epoch();
        let now = Instant::now();
        if now >= epoch {
            BIAS_NS + (now - epoch).as_nanos() as u64
        } else {
            BIAS_NS.saturating_sub((epoch - now).as_nanos() as u64)
        }
    }

    /// Whole milliseconds, rounded down, so that moving the clock by exactly `n` ms always
    /// moves the reading by exactly `n`.
    #[inline]
    pub(crate) fn now_ms() -> u64 {
        now_ns() / 1_000_000
    }

    #[inline]
    pub(crate) fn coarse_now_ms() -> u64 {
        now_ms()
    }
}

/// Under loom time moves only when a model sets it, outside the threads it races: the model
/// checker replays each interleaving and needs every run to take the same path, which a clock
/// moving between two reads would break. Loom runs a model's threads as coroutines on the test's
/// own thread, so a thread-local keeps tests that run side by side apart; not a loom object, so
/// it outlives each run, and every model sets it first.
#[cfg(loom)]
mod source {
    use std::cell::Cell;

    pub(crate) const COARSE_SLACK_MS: u64 = 0;

    pub(crate) const START_MS: u64 = 1 << 32;

    std::thread_local!(static NOW_MS: Cell<u64> = const { Cell::new(START_MS) });

    pub(crate) fn set_now_ms(ms: u64) {
        NOW_MS.with(|n| n.set(ms));
    }

    pub(crate) fn now_ms() -> u64 {
        NOW_MS.with(Cell::get)
    }

    pub(crate) fn now_ns() -> u64 {
        now_ms() * 1_000_000
    }

    pub(crate) fn coarse_now_ms() -> u64 {
        now_ms()
    }
}

pub(crate) use source::{coarse_now_ms, now_ms, now_ns};
#[cfg(loom)]
pub(crate) use source::{set_now_ms, START_MS};

/// Rounds a duration up to whole milliseconds, so a timeout never fires early.
pub(crate) fn ceil_ms(d: std::time::Duration) -> u64 {
    let ms = d.as_millis();
    let ms = if !d.subsec_nanos().is_multiple_of(1_000_000) {
        ms + 1
    } else {
        ms
    };
    u64::try_from(ms).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    // The slack is 0 where the coarse reading is the precise one.
    #[allow(clippy::absurd_extreme_comparisons)]
    fn coarse_never_runs_ahead_of_precise_nor_lags_past_the_slack() {
        for _ in 0..1000 {
            let before = now_ms();
            let coarse = coarse_now_ms();
            let after = now_ms();
            assert!(coarse <= after, "coarse {coarse} > precise {after}");
            assert!(before.saturating_sub(coarse) <= COARSE_SLACK_MS);
        }
    }

    #[test]
    fn ceil_ms_rounds_up_partial_milliseconds() {
        assert_eq!(ceil_ms(Duration::from_millis(30)), 30);
        assert_eq!(ceil_ms(Duration::from_micros(30_001)), 31);
        assert_eq!(ceil_ms(Duration::ZERO), 0);
    }
}
