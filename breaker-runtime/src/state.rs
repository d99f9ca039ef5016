//! The hot word: the state and generation every call reads, in one `AtomicU64`.
//!
//! ```text
//!  63..61  60       59       58      57..0
//!  state   streak   window   timed   generation
//! ```
//!
//! The word is a published view of the breaker's [`Machine`](crate::breaker::machine), which
//! only changes under the breaker's lock; the lock-free paths (a closed call, a rejection well
//! before the deadline) read the word alone. `streak` is set while a closed (or metrics-only)
//! breaker has a run of failures; `window` while its settings keep a rate window; `timed` while they time calls
//! (a `slow_call` threshold). A closed success that finds all three clear has nothing to do
//! but count, and a closed admission reads no settings.
//!
//! Every transition bumps the generation, so a permit can tell whether the breaker moved on
//! since it was admitted (a late result then changes nothing). At 58 bits it does not wrap in
//! the life of a process: transitions take the breaker's lock, and at ten million a second
//! (more than one lock allows) the wrap would take 900 years.

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
    /// Every state, in the order above: for dashboards and exporters that show each one.
    ///
    /// ```
    /// use breaker_runtime::State;
    /// assert_eq!(State::ALL.len(), 6);
    /// assert_eq!(State::ALL[0], State::Closed);
    /// ```
    pub const ALL: [State; 6] = [
        State::Closed,
        State::Open,
        State::HalfOpen,
        State::ForcedOpen,
        State::Disabled,
        State::MetricsOnly,
    ];

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
const STREAK_BIT: u64 = 1 << 60;
const WINDOW_BIT: u64 = 1 << 59;
const TIMED_BIT: u64 = 1 << 58;
const GEN_BITS: u32 = 58;
const GEN_MASK: u64 = (1 << GEN_BITS) - 1;

/// A generation: which epoch of the state machine a permit was admitted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Generation(u64);

impl Generation {
    /// The first generation of every breaker.
    pub(crate) const FIRST: Generation = Generation(0);

    pub(crate) fn from_bits(bits: u64) -> Generation {
        Generation(bits & GEN_MASK)
    }

    pub(crate) fn bits(self) -> u64 {
        self.0
    }

    /// The next generation; after 2^58 transitions it starts again at 0 (comparisons are for
    /// equality only, so that would take a permit held across all of them to matter).
    pub(crate) fn next(self) -> Generation {
        Generation(self.0.wrapping_add(1) & GEN_MASK)
    }
}

/// One reading of the hot word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Word(pub(crate) u64);

impl Word {
    /// The word for a breaker in `state` at `gen`; `streak` only means something in Closed and
    /// MetricsOnly.
    #[inline]
    pub(crate) fn new(state: State, gen: Generation, streak: bool) -> Word {
        Word((state.code() << STATE_SHIFT) | if streak { STREAK_BIT } else { 0 } | gen.0)
    }

    /// The same position, with what the settings ask of every call: a rate window to record
    /// into, and timing.
    #[inline]
    pub(crate) fn with_hints(self, window: bool, timed: bool) -> Word {
        Word(self.0 | if window { WINDOW_BIT } else { 0 } | if timed { TIMED_BIT } else { 0 })
    }

    /// Closed at `gen` with no failure streak, no window and no timing: what a success finds
    /// when it has nothing to do but count.
    #[inline]
    pub(crate) fn quiet_closed(gen: Generation) -> Word {
        Word::new(State::Closed, gen, false)
    }

    /// Whether calls are to be timed.
    #[inline]
    pub(crate) fn timed(self) -> bool {
        self.0 & TIMED_BIT != 0
    }

    #[inline]
    pub(crate) fn state(self) -> State {
        State::from_code(self.0 >> STATE_SHIFT)
    }

    #[inline]
    pub(crate) fn generation(self) -> Generation {
        Generation(self.0 & GEN_MASK)
    }

    /// Closed and MetricsOnly: whether a run of failures is going on.
    pub(crate) fn streak(self) -> bool {
        self.0 & STREAK_BIT != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_at_their_limits() {
        let gen = Generation(GEN_MASK);
        let w = Word::new(State::HalfOpen, gen, false);
        assert_eq!(
            (w.state(), w.generation(), w.streak()),
            (State::HalfOpen, gen, false)
        );
        let w = Word::new(State::Closed, Generation(0), true);
        assert_eq!(
            (w.state(), w.generation(), w.streak()),
            (State::Closed, Generation(0), true)
        );
        assert_ne!(
            Word::quiet_closed(Generation(1)),
            Word::new(State::Closed, Generation(1), true)
        );
    }

    #[test]
    fn generation_wraps_to_zero_only_after_its_full_range() {
        assert_eq!(Generation(GEN_MASK).next(), Generation(0));
        assert_eq!(Generation(4).next(), Generation(5));
        assert_eq!(Generation(1 << 40).next(), Generation((1 << 40) + 1));
    }

    #[test]
    fn every_state_survives_packing() {
        for s in State::ALL {
            assert_eq!(Word::new(s, Generation(9), false).state(), s);
        }
    }
}
