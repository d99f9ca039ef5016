//! What a snapshot shows of the state machine beyond the hot word: the last transition, a
//! half-open phase's probes, and in a manual state the state the counts would give. Read under
//! the machine's lock, off the call path.

use super::machine::Machine;
use super::CircuitBreaker;
use crate::clock;
use crate::events::TransitionReason;
use crate::state::State;
use std::sync::PoisonError;

/// The machine's position as a dashboard shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Progress {
    /// The last transition's reason and how many milliseconds ago it was noticed.
    pub(crate) last: Option<(TransitionReason, u64)>,
    /// HalfOpen: probes in flight and probes that succeeded in this phase.
    pub(crate) probes: Option<(u32, u32)>,
    /// ForcedOpen, Disabled and MetricsOnly: what the Closed → Open rule makes of the counts.
    pub(crate) computed_state: Option<State>,
    /// Milliseconds until time alone moves the breaker (an open period ends, a probe times
    /// out): when a watcher should look again.
    pub(crate) next_move_ms: Option<u64>,
}

impl CircuitBreaker {
    /// The last transition and the half-open probes, after the time-driven moves due now.
    pub(crate) fn progress(&self) -> Progress {
        // First the moves due now, which stamp themselves as the last transition on the way
        // out of `locked`; then a read of where the machine stands.
        self.current();
        let now = clock::now_ms();
        let m = self.machine.lock().unwrap_or_else(PoisonError::into_inner);
        Progress {
            last: m
                .last_transition()
                .map(|(reason, at)| (reason, now.saturating_sub(at))),
            probes: (m.state() == State::HalfOpen).then(|| m.probes()),
            computed_state: self.computed_state(&m),
            next_move_ms: m
                .next_timed_move(self.in_force())
                .map(|due| due.saturating_sub(now)),
        }
    }

    /// In a manual state, `Open` if the counts meet the Closed → Open rule (the same two
    /// halves a closed breaker opens on), `Closed` otherwise.
    fn computed_state(&self, m: &Machine) -> Option<State> {
        if !matches!(
            m.state(),
            State::ForcedOpen | State::Disabled | State::MetricsOnly
        ) {
            return None;
        }
        let rate = self.window().and_then(|w| self.rate_tripped(w.stats()));
        let open = m.streak_reached(self.in_force()) || rate.is_some();
        Some(if open { State::Open } else { State::Closed })
    }
}
