//! How the reset timeout grows with each re-open that has no close in between.

use crate::error::HumanDuration;
use breaker_spec::check;
use std::time::Duration;

/// How the reset timeout grows when a breaker re-opens from half-open without having closed.
///
/// The first open always waits `reset_timeout`; the `n`-th re-open in a row waits:
/// - `fixed`: `reset_timeout`;
/// - `linear(step)`: `reset_timeout + n * step`;
/// - `exponential(multiplier)`: `reset_timeout * multiplier^n`;
///
/// each capped at [`max`](Backoff::max) when one is set, and never longer than a year. A wait
/// too long to compute (a huge multiplier or step) saturates at that cap, and any multiple of
/// a zero `reset_timeout` is zero. With [`jitter`](Backoff::jitter) `j`,
/// the wait is then multiplied by a random factor in `[1 - j, 1]`, so breakers that opened
/// together do not all probe at once. Closing the breaker starts the count again.
///
/// ```
/// use breaker_runtime::Backoff;
/// use std::time::Duration;
///
/// let backoff = Backoff::exponential(2.0).max(Duration::from_secs(300)).jitter(0.1);
/// assert_eq!(backoff.multiplier(), Some(2.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Backoff {
    kind: Kind,
    max: Option<Duration>,
    jitter: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
enum Kind {
    Fixed,
    Linear { step: Duration },
    Exponential { multiplier: f64 },
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::fixed()
    }
}

impl Backoff {
    /// Every open waits the same `reset_timeout` (the default).
    ///
    /// ```
    /// assert_eq!(breaker_runtime::Backoff::fixed(), Default::default());
    /// ```
    pub const fn fixed() -> Backoff {
        Backoff {
            kind: Kind::Fixed,
            max: None,
            jitter: 0.0,
        }
    }

    /// Each re-open waits `step` longer than the one before.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = breaker_runtime::Backoff::linear(Duration::from_secs(10));
    /// assert_eq!(b.step(), Some(Duration::from_secs(10)));
    /// ```
    pub const fn linear(step: Duration) -> Backoff {
        Backoff {
            kind: Kind::Linear { step },
            max: None,
            jitter: 0.0,
        }
    }

    /// Each re-open waits `multiplier` times longer than the one before.
    ///
    /// ```
    /// let b = breaker_runtime::Backoff::exponential(1.5);
    /// assert_eq!(b.multiplier(), Some(1.5));
    /// ```
    pub const fn exponential(multiplier: f64) -> Backoff {
        Backoff {
            kind: Kind::Exponential { multiplier },
            max: None,
            jitter: 0.0,
        }
    }

    /// Caps the wait, before jitter.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = breaker_runtime::Backoff::exponential(2.0).max(Duration::from_secs(60));
    /// assert_eq!(b.max_wait(), Some(Duration::from_secs(60)));
    /// ```
    pub const fn max(mut self, max: Duration) -> Backoff {
        self.max = Some(max);
        self
    }

    /// Shortens each wait by a random fraction up to `jitter` (between 0 and 1).
    ///
    /// ```
    /// let b = breaker_runtime::Backoff::fixed().jitter(0.2);
    /// assert_eq!(b.jitter_fraction(), 0.2);
    /// ```
    pub const fn jitter(mut self, jitter: f64) -> Backoff {
        self.jitter = jitter;
        self
    }

    /// The kind's name: `"fixed"`, `"linear"` or `"exponential"`.
    ///
    /// ```
    /// assert_eq!(breaker_runtime::Backoff::fixed().kind(), "fixed");
    /// ```
    pub const fn kind(&self) -> &'static str {
        match self.kind {
            Kind::Fixed => "fixed",
            Kind::Linear { .. } => "linear",
            Kind::Exponential { .. } => "exponential",
        }
    }

    /// The step of a linear backoff.
    ///
    /// ```
    /// assert_eq!(breaker_runtime::Backoff::fixed().step(), None);
    /// ```
    pub const fn step(&self) -> Option<Duration> {
        match self.kind {
            Kind::Linear { step } => Some(step),
            _ => None,
        }
    }

    /// The multiplier of an exponential backoff.
    ///
    /// ```
    /// assert_eq!(breaker_runtime::Backoff::fixed().multiplier(), None);
    /// ```
    pub const fn multiplier(&self) -> Option<f64> {
        match self.kind {
            Kind::Exponential { multiplier } => Some(multiplier),
            _ => None,
        }
    }

    /// The cap set with [`max`](Backoff::max).
    ///
    /// ```
    /// assert_eq!(breaker_runtime::Backoff::fixed().max_wait(), None);
    /// ```
    pub const fn max_wait(&self) -> Option<Duration> {
        self.max
    }

    /// The jitter fraction set with [`jitter`](Backoff::jitter).
    ///
    /// ```
    /// assert_eq!(breaker_runtime::Backoff::fixed().jitter_fraction(), 0.0);
    /// ```
    pub const fn jitter_fraction(&self) -> f64 {
        self.jitter
    }

    /// Checks the parameters by the spec's rules; the message says which one is wrong.
    pub(crate) fn check(&self) -> Result<(), String> {
        check::jitter(self.jitter).map_err(|r| format!("`jitter` = {}: {r}", self.jitter))?;
        match self.kind {
            // From code a step or cap past a year is allowed: every wait stops at a year.
            Kind::Linear { step } => check::duration(step.min(MAX_WAIT), false)
                .map_err(|r| format!("`step` = \"{}\": {r}", HumanDuration(step))),
            Kind::Exponential { multiplier } => check::multiplier(multiplier)
                .map_err(|r| format!("`multiplier` = {multiplier}: {r}")),
            Kind::Fixed => Ok(()),
        }
    }

    /// The wait before probing after the `level`-th re-open in a row (0 for the first open).
    /// `random` is a uniform sample in `[0, 1)`, used only for jitter.
    ///
    /// Total and NaN-free for every input: any multiple of a zero `reset_timeout` is zero, a
    /// wait that overflows (a huge multiplier, step or level) saturates at the cap (`max`
    /// when set, never more than [`MAX_WAIT`]), and jitter only ever shortens the wait, at
    /// most to zero.
    pub(crate) fn wait(&self, reset_timeout: Duration, level: u8, random: f64) -> Duration {
        let cap = self.max.map_or(MAX_WAIT, |max| max.min(MAX_WAIT));
        let n = u32::from(level);
        let grown = match self.kind {
            Kind::Fixed => reset_timeout,
            Kind::Linear { step } => reset_timeout.saturating_add(step.saturating_mul(n)),
            Kind::Exponential { multiplier } => {
                scale(reset_timeout, multiplier.powi(n as i32), cap)
            }
        };
        shorten(grown.min(cap), self.jitter * random)
    }
}

/// `d * factor`, saturating at `cap`. Zero times anything (even an infinite factor) is zero;
/// a factor that is NaN or below 1 (never after [`Backoff::check`]) leaves `d` as it is, so
/// the wait never shrinks with a re-open.
fn scale(d: Duration, factor: f64, cap: Duration) -> Duration {
    if d.is_zero() || factor.is_nan() || factor <= 1.0 {
        // For exactly 1.0 this also spares `d` a round trip through floating point.
        return d;
    }
    // `factor` is above 1 here, so `secs` is positive: infinite (an overflowed power) or past
    // the cap saturates.
    let secs = d.as_secs_f64() * factor;
    if secs >= cap.as_secs_f64() {
        return cap;
    }
    Duration::try_from_secs_f64(secs).map_or(cap, |grown| grown.min(cap))
}

/// `d` shortened by `fraction` of itself: unchanged for 0, -0.0 or NaN, zero for 1 or more.
fn shorten(d: Duration, fraction: f64) -> Duration {
    if fraction.is_nan() || fraction <= 0.0 {
        return d;
    }
    if fraction >= 1.0 {
        return Duration::ZERO;
    }
    // A factor in (0, 1): the product is below `d`, finite and positive. `try_` anyway, so no
    // rounding at the edge can make `mul_f64` panic.
    Duration::try_from_secs_f64(d.as_secs_f64() * (1.0 - fraction)).map_or(d, |s| s.min(d))
}

/// No breaker waits longer than a year before probing, whatever the backoff says: the
/// longest duration a setting may be.
pub(crate) const MAX_WAIT: Duration = breaker_spec::limits::MAX_DURATION;

/// A cheap, lock-free source of jitter: not cryptographic, just spread out.
pub(crate) fn random_unit() -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0x9E37_79B9_7F4A_7C15);
    let mut z = STATE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    // splitmix64 finaliser
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(10);

    #[test]
    fn fixed_never_grows() {
        assert_eq!(Backoff::fixed().wait(BASE, 0, 0.5), BASE);
        assert_eq!(Backoff::fixed().wait(BASE, 9, 0.5), BASE);
    }

    #[test]
    fn linear_adds_a_step_per_reopen_up_to_max() {
        let b = Backoff::linear(Duration::from_secs(5)).max(Duration::from_secs(22));
        assert_eq!(b.wait(BASE, 0, 0.0), Duration::from_secs(10));
        assert_eq!(b.wait(BASE, 1, 0.0), Duration::from_secs(15));
        assert_eq!(b.wait(BASE, 2, 0.0), Duration::from_secs(20));
        assert_eq!(b.wait(BASE, 3, 0.0), Duration::from_secs(22));
    }

    #[test]
    fn exponential_multiplies_per_reopen_up_to_max() {
        let b = Backoff::exponential(2.0).max(Duration::from_secs(60));
        assert_eq!(b.wait(BASE, 0, 0.0), Duration::from_secs(10));
        assert_eq!(b.wait(BASE, 1, 0.0), Duration::from_secs(20));
        assert_eq!(b.wait(BASE, 2, 0.0), Duration::from_secs(40));
        assert_eq!(b.wait(BASE, 3, 0.0), Duration::from_secs(60));
        assert_eq!(b.wait(BASE, 255, 0.0), Duration::from_secs(60));
    }

    #[test]
    fn jitter_only_shortens_within_its_fraction() {
        let b = Backoff::fixed().jitter(0.5);
        assert_eq!(b.wait(BASE, 0, 0.0), BASE);
        assert_eq!(b.wait(BASE, 0, 0.5), Duration::from_millis(7_500));
        for _ in 0..1000 {
            let w = b.wait(BASE, 0, random_unit());
            assert!(w <= BASE && w >= BASE / 2, "{w:?}");
        }
    }

    #[test]
    fn bad_parameters_are_named() {
        assert!(Backoff::fixed()
            .jitter(1.5)
            .check()
            .unwrap_err()
            .contains("jitter"));
        assert!(Backoff::exponential(0.5)
            .check()
            .unwrap_err()
            .contains("multiplier"));
        assert!(Backoff::linear(Duration::ZERO)
            .check()
            .unwrap_err()
            .contains("step"));
        assert!(Backoff::exponential(2.0).jitter(0.1).check().is_ok());
    }

    const YEAR: Duration = MAX_WAIT;
    const MS: Duration = Duration::from_millis(1);

    /// Every combination of the edges: level, multiplier, reset timeout, cap and jitter.
    fn edges() -> impl Iterator<Item = (Backoff, Duration, u8, f64)> {
        let kinds = [
            Backoff::fixed(),
            Backoff::linear(Duration::from_nanos(1)),
            Backoff::linear(MS),
            Backoff::linear(YEAR),
            Backoff::linear(Duration::MAX),
            Backoff::exponential(1.0),
            Backoff::exponential(2.0),
            Backoff::exponential(1e200),
            Backoff::exponential(1e308),
            Backoff::exponential(f64::MAX),
        ];
        let caps = [
            None,
            Some(Duration::ZERO),
            Some(MS),
            Some(BASE),
            Some(YEAR),
            Some(Duration::MAX),
        ];
        let jitters = [0.0, -0.0, 0.5, 1.0];
        let resets = [Duration::ZERO, Duration::from_nanos(1), MS, BASE, YEAR];
        let levels = [0u8, 1, 2, 254, 255];
        let randoms = [0.0, 0.5, 1.0 - f64::EPSILON];
        let mut all = Vec::new();
        for kind in kinds {
            for cap in caps {
                for jitter in jitters {
                    let b = match cap {
                        Some(max) => kind.max(max),
                        None => kind,
                    }
                    .jitter(jitter);
                    assert!(b.check().is_ok(), "{b:?}");
                    for reset in resets {
                        for level in levels {
                            for random in randoms {
                                all.push((b, reset, level, random));
                            }
                        }
                    }
                }
            }
        }
        all.into_iter()
    }

    #[test]
    fn every_wait_at_the_edges_is_within_zero_and_the_cap() {
        for (b, reset, level, random) in edges() {
            let cap = b.max_wait().unwrap_or(YEAR).min(YEAR);
            let w = b.wait(reset, level, random);
            assert!(
                w <= cap,
                "{b:?} reset {reset:?} level {level} random {random}: {w:?}"
            );
            if b.jitter_fraction() == 0.0 {
                // Without jitter the wait never shrinks below the reset timeout (bar the cap).
                assert!(w >= reset.min(cap), "{b:?} {reset:?} {level}: {w:?}");
            }
        }
    }

    #[test]
    fn any_multiple_of_a_zero_reset_timeout_is_zero() {
        for multiplier in [1.0, 2.0, 1e200, 1e308, f64::MAX] {
            for level in [0, 1, 2, 255] {
                let b = Backoff::exponential(multiplier);
                assert_eq!(
                    b.wait(Duration::ZERO, level, 0.0),
                    Duration::ZERO,
                    "{multiplier} {level}"
                );
                let capped = b.max(Duration::from_secs(60));
                assert_eq!(capped.wait(Duration::ZERO, level, 0.0), Duration::ZERO);
            }
        }
    }

    #[test]
    fn an_overflowing_exponential_saturates_at_its_cap() {
        for multiplier in [1e200, 1e308, f64::MAX] {
            for reset in [Duration::from_nanos(1), MS, BASE, YEAR] {
                let b = Backoff::exponential(multiplier);
                assert_eq!(
                    b.wait(reset, 0, 0.0),
                    reset,
                    "the first open waits the reset timeout"
                );
                assert_eq!(b.wait(reset, 1, 0.0), YEAR, "{multiplier} {reset:?}");
                assert_eq!(b.wait(reset, 255, 0.0), YEAR, "{multiplier} {reset:?}");
                let capped = b.max(Duration::from_secs(300));
                assert_eq!(capped.wait(reset, 255, 0.0), Duration::from_secs(300));
            }
        }
    }

    #[test]
    fn a_multiplier_of_one_never_grows_and_keeps_the_exact_timeout() {
        let b = Backoff::exponential(1.0);
        for reset in [
            Duration::from_nanos(1),
            MS,
            Duration::from_nanos(1_000_001),
            BASE,
            YEAR,
        ] {
            for level in [0, 1, 255] {
                assert_eq!(b.wait(reset, level, 0.0), reset);
            }
        }
    }

    #[test]
    fn linear_steps_saturate_at_the_cap() {
        let b = Backoff::linear(Duration::MAX);
        assert_eq!(b.wait(BASE, 0, 0.0), BASE);
        assert_eq!(b.wait(BASE, 1, 0.0), YEAR);
        assert_eq!(b.wait(YEAR, 255, 0.0), YEAR);
        assert_eq!(
            b.max(Duration::from_secs(60)).wait(BASE, 255, 0.0),
            Duration::from_secs(60)
        );
        let b = Backoff::linear(YEAR);
        assert_eq!(b.wait(Duration::ZERO, 1, 0.0), YEAR);
        assert_eq!(b.wait(YEAR, 255, 0.0), YEAR);
        assert_eq!(Backoff::linear(MS).wait(Duration::ZERO, 255, 0.0), 255 * MS);
    }

    #[test]
    fn a_cap_above_a_year_is_a_year() {
        let b = Backoff::exponential(2.0).max(Duration::MAX);
        assert_eq!(b.wait(BASE, 255, 0.0), YEAR);
    }

    #[test]
    fn full_jitter_may_reach_zero_but_never_panics() {
        let b = Backoff::exponential(f64::MAX).jitter(1.0);
        assert_eq!(b.wait(YEAR, 255, 0.0), YEAR);
        let nearly_one = 1.0 - f64::EPSILON;
        let w = b.wait(YEAR, 255, nearly_one);
        assert!(w < Duration::from_micros(10), "{w:?}");
        assert_eq!(b.wait(YEAR, 255, 1.0), Duration::ZERO);
        // No jitter, and -0.0 (which passes the check), leave the wait as it is.
        assert_eq!(Backoff::fixed().jitter(-0.0).wait(BASE, 0, 0.9), BASE);
        assert_eq!(Backoff::fixed().wait(BASE, 0, 0.9), BASE);
    }

    #[test]
    fn parameters_that_would_make_nan_are_refused() {
        assert!(Backoff::exponential(f64::NAN)
            .check()
            .unwrap_err()
            .contains("multiplier"));
        assert!(Backoff::exponential(f64::INFINITY)
            .check()
            .unwrap_err()
            .contains("multiplier"));
        assert!(Backoff::fixed()
            .jitter(f64::NAN)
            .check()
            .unwrap_err()
            .contains("jitter"));
        assert!(Backoff::fixed()
            .jitter(1.0 + f64::EPSILON)
            .check()
            .unwrap_err()
            .contains("jitter"));
        assert!(Backoff::fixed().jitter(-0.0).check().is_ok());
        assert!(Backoff::exponential(f64::MAX).jitter(1.0).check().is_ok());
    }
}
