//! What a snapshot shows of the state machine beyond the hot word: the last transition and a
//! half-open phase's probes. Read under the machine's lock, off the call path.

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
        }
    }
}
