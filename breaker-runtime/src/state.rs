//! The packed state word: the whole state machine's position in one `AtomicU64`.
//!
//! ```text
//!  63..61  60..48      47..40   39..20        19..0
//!  state   generation  level    (payload, by state)
//!  Closed:                      consecutive failures (bits 31..0)
//!  Open:                        open-until in clock milliseconds (bits 39..0)
//!  HalfOpen:                    successes     in flight
//! ```
//!
//! Every transition bumps the generation, so a permit can tell whether the breaker moved on
//! since it was admitted (a late result then changes nothing). `level` counts re-opens without
//! a close in between and drives the backoff; it lives in the word so the transition that
//! reads it is the one that writes it.

use std::fmt;

/// The state a breaker is in.
///
/// ```
/// use breaker_runtime::{CircuitBreaker, State};
///
/// let breaker = CircuitBreaker::builder("docs-state").build();
/// assert_eq!(breaker.state(), State::Closed);
/// breaker.force_open();
/// assert_eq!(breaker.state(), State::ForcedOpen);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum State {
    /// Calls go through and outcomes are recorded; failures may open the breaker.
    Closed,
    /// Calls are rejected until the reset timeout passes.
    Open,
    /// A limited number of probe calls go through; their outcomes close or re-open it.
    HalfOpen,
    /// Opened by hand: rejects every call until [`close`](crate::CircuitBreaker::close) or
    /// [`reset`](crate::CircuitBreaker::reset).
    ForcedOpen,
    /// Lets every call through and records nothing.
    Disabled,
    /// Records every call but never rejects one.
    MetricsOnly,
}

impl State {
    /// The state's name in `snake_case`, as used in logs, metrics labels and JSON.
    ///
    /// ```
    /// assert_eq!(breaker_runtime::State::HalfOpen.as_str(), "half_open");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half_open",
            State::ForcedOpen => "forced_open",
            State::Disabled => "disabled",
            State::MetricsOnly => "metrics_only",
        }
    }

    /// Whether calls are rejected in this state (`Open` and `ForcedOpen`).
    ///
    /// ```
    /// assert!(breaker_runtime::State::Open.is_open());
    /// assert!(!breaker_runtime::State::HalfOpen.is_open());
    /// ```
    pub const fn is_open(self) -> bool {
        matches!(self, State::Open | State::ForcedOpen)
    }

    fn code(self) -> u64 {
        match self {
            State::Closed => 0,
            State::Open => 1,
            State::HalfOpen => 2,
            State::ForcedOpen => 3,
            State::Disabled => 4,
            State::MetricsOnly => 5,
        }
    }

    fn from_code(code: u64) -> State {
        match code {
            0 => State::Closed,
            1 => State::Open,
            2 => State::HalfOpen,
            3 => State::ForcedOpen,
            4 => State::Disabled,
            _ => State::MetricsOnly,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const STATE_SHIFT: u32 = 61;
const GEN_SHIFT: u32 = 48;
const GEN_BITS: u32 = 13;
const GEN_MASK: u64 = (1 << GEN_BITS) - 1;
const LEVEL_SHIFT: u32 = 40;
const LEVEL_MASK: u64 = 0xff;
const PAYLOAD_MASK: u64 = (1 << LEVEL_SHIFT) - 1;
const COUNT_BITS: u32 = 20;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;

/// The largest in-flight or success count half-open can hold.
pub(crate) const MAX_HALF_OPEN_COUNT: u32 = COUNT_MASK as u32;
/// The largest open-until value (ms) the word holds: 34 years of clock.
pub(crate) const MAX_UNTIL_MS: u64 = PAYLOAD_MASK;

/// A generation: which epoch of the state machine a permit was admitted in. Wraps around.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Generation(u16);

impl Generation {
    /// All bits a generation can hold.
    pub(crate) const MASK: u16 = GEN_MASK as u16;

    pub(crate) fn from_bits(bits: u16) -> Generation {
        Generation(bits & Self::MASK)
    }

    pub(crate) fn bits(self) -> u16 {
        self.0
    }

    pub(crate) fn next(self) -> Generation {
        Generation(((self.0 as u64 + 1) & GEN_MASK) as u16)
    }
}

/// One decoded reading of the state word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Word(pub(crate) u64);

impl Word {
    fn pack(state: State, gen: Generation, level: u8, payload: u64) -> Word {
        debug_assert!(payload <= PAYLOAD_MASK);
        Word(
            (state.code() << STATE_SHIFT)
                | ((gen.0 as u64) << GEN_SHIFT)
                | ((level as u64) << LEVEL_SHIFT)
                | (payload & PAYLOAD_MASK),
        )
    }

    pub(crate) fn initial() -> Word {
        Word::closed(Generation(0), 0)
    }

    pub(crate) fn closed(gen: Generation, failures: u32) -> Word {
        Word::pack(State::Closed, gen, 0, failures as u64)
    }

    pub(crate) fn open(gen: Generation, level: u8, until_ms: u64) -> Word {
        Word::pack(State::Open, gen, level, until_ms.min(MAX_UNTIL_MS))
    }

    pub(crate) fn half_open(gen: Generation, level: u8, successes: u32, in_flight: u32) -> Word {
        debug_assert!(successes <= MAX_HALF_OPEN_COUNT && in_flight <= MAX_HALF_OPEN_COUNT);
        Word::pack(
            State::HalfOpen,
            gen,
            level,
            ((successes as u64) << COUNT_BITS) | in_flight as u64,
        )
    }

    pub(crate) fn manual(state: State, gen: Generation) -> Word {
        Word::pack(state, gen, 0, 0)
    }

    #[inline]
    pub(crate) fn state(self) -> State {
        State::from_code(self.0 >> STATE_SHIFT)
    }

    #[inline]
    pub(crate) fn generation(self) -> Generation {
        Generation(((self.0 >> GEN_SHIFT) & GEN_MASK) as u16)
    }

    pub(crate) fn level(self) -> u8 {
        ((self.0 >> LEVEL_SHIFT) & LEVEL_MASK) as u8
    }

    fn payload(self) -> u64 {
        self.0 & PAYLOAD_MASK
    }

    /// Closed: the current run of consecutive failures.
    #[inline]
    pub(crate) fn failures(self) -> u32 {
        self.payload() as u32
    }

    /// Open: the clock millisecond from which probes are let through.
    pub(crate) fn until_ms(self) -> u64 {
        self.payload()
    }

    /// HalfOpen: probes admitted and not yet recorded.
    pub(crate) fn in_flight(self) -> u32 {
        (self.payload() & COUNT_MASK) as u32
    }

    /// HalfOpen: successful probes so far.
    pub(crate) fn successes(self) -> u32 {
        ((self.payload() >> COUNT_BITS) & COUNT_MASK) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_at_their_limits() {
        let gen = Generation(GEN_MASK as u16);
        let w = Word::half_open(gen, u8::MAX, MAX_HALF_OPEN_COUNT, 7);
        assert_eq!(w.state(), State::HalfOpen);
        assert_eq!(w.generation(), gen);
        assert_eq!(w.level(), u8::MAX);
        assert_eq!(w.successes(), MAX_HALF_OPEN_COUNT);
        assert_eq!(w.in_flight(), 7);

        let w = Word::open(Generation(3), 2, MAX_UNTIL_MS);
        assert_eq!(
            (w.state(), w.level(), w.until_ms()),
            (State::Open, 2, MAX_UNTIL_MS)
        );

        let w = Word::closed(Generation(1), u32::MAX);
        assert_eq!((w.state(), w.failures()), (State::Closed, u32::MAX));
    }

    #[test]
    fn generation_wraps_to_zero() {
        assert_eq!(Generation(GEN_MASK as u16).next(), Generation(0));
        assert_eq!(Generation(4).next(), Generation(5));
    }

    #[test]
    fn every_state_survives_packing() {
        for s in [
            State::Closed,
            State::Open,
            State::HalfOpen,
            State::ForcedOpen,
            State::Disabled,
            State::MetricsOnly,
        ] {
            assert_eq!(Word::manual(s, Generation(9)).state(), s);
        }
    }
}
