//! What a coordinator outside the process reads from a breaker and tells it, off the call
//! path: where the breaker stands, its counts so far, an open with a deadline given as
//! milliseconds left (so no two clocks are ever compared), and a close.
//!
//! Every telling names the generation it was decided on and changes nothing if the breaker
//! has moved since, the same rule as a late call's result. Nothing here adds to the call
//! path: it reads what the breaker keeps anyway, and changes the state under its lock.

use crate::breaker::CircuitBreaker;
use crate::clock;
use crate::events::TransitionReason;
use crate::state::{Generation, State};

/// Where a breaker stands, after the time-driven moves due now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) state: State,
    /// The generation, to name when telling the breaker something decided on this position.
    pub(crate) generation: u64,
    /// Open: milliseconds until it lets probes in; 0 otherwise.
    pub(crate) left_ms: u64,
    /// Why it moved last (`None` before its first move): a coordinator tells a probe's
    /// verdict from a hand's control.
    pub(crate) reason: Option<TransitionReason>,
}

/// The calls a breaker has counted since its creation (never going back, even on reset).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Outcomes {
    pub(crate) successes: u64,
    pub(crate) failures: u64,
    pub(crate) slow: u64,
}

impl CircuitBreaker {
    /// Where the breaker stands now.
    pub(crate) fn position(&self) -> Position {
        let now = clock::now_ms();
        self.locked(|m, s, moves| {
            m.advance(now, s, moves);
            Position {
                state: m.state(),
                generation: m.generation().bits(),
                left_ms: match m.state() {
                    State::Open => m.until_ms().saturating_sub(now),
                    _ => 0,
                },
                // A move `advance` just made is noted only once the lock is released.
                reason: moves
                    .iter()
                    .last()
                    .map(|mv| mv.reason)
                    .or(m.last_transition().map(|(r, _)| r)),
            }
        })
    }

    /// The successes, failures and slow calls counted since the breaker was created.
    pub(crate) fn outcomes(&self) -> Outcomes {
        let t = self.lifetime_counts();
        Outcomes {
            successes: t.successes,
            failures: t.failures,
            slow: t.slow_calls,
        }
    }

    /// Opens the breaker (reason `remote`) until `left_ms` from now, if it is still at
    /// `generation` and in Closed, Open (which keeps its generation and takes the new
    /// deadline) or HalfOpen; the manual states stay. The generation it is at afterwards,
    /// if it applied.
    pub(crate) fn open_remotely(&self, generation: u64, left_ms: u64) -> Option<u64> {
        let now = clock::now_ms();
        let gen = Generation::from_bits(generation);
        self.locked(|m, _, moves| {
            m.remote_open(gen, now.saturating_add(left_ms), moves)
                .then(|| m.generation().bits())
        })
    }

    /// Closes an Open or HalfOpen breaker still at `generation` (reason `remote`), clearing
    /// its streak, window and backoff as any close does; whether it applied.
    pub(crate) fn close_remotely(&self, generation: u64) -> bool {
        let gen = Generation::from_bits(generation);
        self.locked(|m, _, moves| m.remote_close(gen, moves))
    }
}
