//! Admission: whether a call may run, decided without a lock in Closed and in an open period
//! well before its end, and under the lock everywhere else.

use super::machine::Admit;
use super::CircuitBreaker;
use crate::clock::{self, COARSE_SLACK_MS};
use crate::counters::Hot;
use crate::error::BreakerError;
use crate::events::BreakerEvent;
use crate::permit::{Permit, Ticket, TicketKind};
use crate::state::{Generation, State};
use crate::sync::Ordering::Relaxed;
use std::time::Duration;

impl CircuitBreaker {
    /// Asks to let one call through. On success, the [`Permit`] records the call's outcome;
    /// dropped unrecorded it counts the call as cancelled (or failed, if dropped while
    /// panicking) and gives a half-open slot back.
    ///
    /// This is the low-level API under [`call`](Self::call) for callers with unusual needs.
    ///
    /// ```
    /// use breaker_runtime::CircuitBreaker;
    ///
    /// let breaker = CircuitBreaker::builder("docs-acquire").failure_threshold(1).build();
    /// let permit = breaker.try_acquire().expect("closed");
    /// permit.failure();
    /// assert!(breaker.try_acquire().is_err());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Result<Permit<'_>, BreakerError> {
        let admission = self.admission();
        match admission.ticket() {
            Some(ticket) => Ok(Permit::new(self, ticket)),
            None => Err(self.rejection(admission)),
        }
    }

    /// Whether a call may run: its ticket, or why not. A closed breaker answers here, inline,
    /// from one load of the word; every other state out of line.
    #[inline]
    pub(crate) fn admission(&self) -> Admission {
        let w = self.load();
        if w.state() == State::Closed {
            // Whether to time the call is in the word: no settings to read.
            let started = if w.timed() { clock::stamp() } else { 0 };
            return Admission::admit(Ticket::new(w.generation(), TicketKind::Closed, started));
        }
        self.admission_not_closed()
    }

    /// The error for a refused admission, built in the caller from the two words that came
    /// back in registers.
    #[inline]
    pub(crate) fn rejection(&self, admission: Admission) -> BreakerError {
        let name = self.name.clone();
        match admission.refusal() {
            Refusal::Open { retry_ms } => BreakerError::Open {
                name,
                retry_after: Duration::from_millis(retry_ms),
            },
            Refusal::HalfOpenFull => BreakerError::HalfOpenFull { name },
            Refusal::ForcedOpen => BreakerError::ForcedOpen { name },
        }
    }

    /// Everything but Closed, kept out of line so the closed path inlines into callers.
    #[inline(never)]
    fn admission_not_closed(&self) -> Admission {
        let w = self.load();
        // The manual states need no lock: nothing in them depends on time or on other calls.
        let (gen, kind) = match w.state() {
            State::Closed => (w.generation(), TicketKind::Closed),
            State::MetricsOnly => (w.generation(), TicketKind::MetricsOnly),
            State::Disabled => (w.generation(), TicketKind::Untracked),
            State::ForcedOpen => {
                self.count_rejection(State::ForcedOpen);
                return Admission::refuse(Refusal::ForcedOpen);
            }
            State::Open => match self.reject_while_open() {
                Some(retry_ms) => return Admission::refuse(Refusal::Open { retry_ms }),
                None => return self.admission_locked(),
            },
            State::HalfOpen => return self.admission_locked(),
        };
        Admission::admit(self.ticket(gen, kind))
    }

    /// An open breaker well before its deadline: counts the rejection and says how many
    /// milliseconds are left; `None` when the deadline is near enough for a precise look.
    #[inline]
    fn reject_while_open(&self) -> Option<u64> {
        // Read after the word: at least as new as the open period the word announced.
        let until = self.open_until.load(Relaxed);
        // The coarse clock never runs ahead of the precise one, so a deadline well beyond it
        // has surely not passed: reject without a precise clock read. It may lag by up to the
        // slack, so the wait stated assumes it does: never more than the time really left.
        let coarse = clock::coarse_now_ms();
        if coarse.saturating_add(COARSE_SLACK_MS) < until {
            self.count_rejection(State::Open);
            Some(until - coarse - COARSE_SLACK_MS)
        } else {
            None
        }
    }

    #[cold]
    fn admission_locked(&self) -> Admission {
        let stamp = clock::stamp();
        let now = stamp / 1_000_000;
        let (admit, gen) = self.locked(|m, s, moves| {
            m.advance(now, s, moves);
            (m.admit(now, stamp, s), m.generation())
        });
        let (kind, refusal) = match admit {
            Admit::Closed => (TicketKind::Closed, None),
            Admit::MetricsOnly => (TicketKind::MetricsOnly, None),
            Admit::Untracked => (TicketKind::Untracked, None),
            Admit::Probe => {
                return Admission::admit(Ticket::new(gen, TicketKind::HalfOpen, stamp));
            }
            Admit::RejectOpen { retry_ms } => (
                TicketKind::Untracked,
                Some((State::Open, Refusal::Open { retry_ms })),
            ),
            Admit::RejectHalfOpenFull => (
                TicketKind::Untracked,
                Some((State::HalfOpen, Refusal::HalfOpenFull)),
            ),
            Admit::RejectForcedOpen => (
                TicketKind::Untracked,
                Some((State::ForcedOpen, Refusal::ForcedOpen)),
            ),
        };
        if let Some((state, refusal)) = refusal {
            self.count_rejection(state);
            return Admission::refuse(refusal);
        }
        Admission::admit(self.ticket(gen, kind))
    }

    #[inline]
    pub(super) fn count_rejection(&self, state: State) {
        self.counters.add(Hot::Rejected);
        if self.events.observed() {
            self.events.send(BreakerEvent::Rejected {
                name: self.name.clone(),
                state,
            });
        }
    }

    #[inline]
    fn ticket(&self, generation: Generation, kind: TicketKind) -> Ticket {
        let timed = self.observer.times_calls() || self.in_force().slow_call.is_some();
        Ticket::new(generation, kind, if timed { clock::stamp() } else { 0 })
    }
}

/// Why a call was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Open { retry_ms: u64 },
    HalfOpenFull,
    ForcedOpen,
}

/// What admission decided: a ticket, or a refusal. Two words, so that it comes back from the
/// out-of-line paths in registers: a `Result<Permit, BreakerError>` returned through memory
/// and read back whole stalled every closed call on store forwarding (about 4 ns).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Admission {
    /// A ticket's meta word; or, for a refusal, [`Admission::REFUSED`] and which one.
    word: u64,
    /// A ticket's start stamp; or, for `Open`, the milliseconds left.
    value: u64,
}

impl Admission {
    /// A bit no ticket's meta word has (see [`Ticket`]).
    const REFUSED: u64 = 1 << 63;
    const HALF_OPEN_FULL: u64 = 1;
    const FORCED_OPEN: u64 = 2;

    #[inline]
    pub(crate) fn admit(ticket: Ticket) -> Admission {
        let (word, value) = ticket.into_parts();
        debug_assert_eq!(word & Self::REFUSED, 0);
        Admission { word, value }
    }

    #[inline]
    pub(crate) fn refuse(refusal: Refusal) -> Admission {
        let (which, value) = match refusal {
            Refusal::Open { retry_ms } => (0, retry_ms),
            Refusal::HalfOpenFull => (Self::HALF_OPEN_FULL, 0),
            Refusal::ForcedOpen => (Self::FORCED_OPEN, 0),
        };
        Admission {
            word: Self::REFUSED | which,
            value,
        }
    }

    /// The ticket of an admitted call.
    #[inline]
    pub(crate) fn ticket(self) -> Option<Ticket> {
        (self.word & Self::REFUSED == 0).then(|| Ticket::from_parts(self.word, self.value))
    }

    /// Why the call was refused; only for a refusal.
    #[inline]
    pub(crate) fn refusal(self) -> Refusal {
        debug_assert_ne!(self.word & Self::REFUSED, 0);
        match self.word & !Self::REFUSED {
            Self::HALF_OPEN_FULL => Refusal::HalfOpenFull,
            Self::FORCED_OPEN => Refusal::ForcedOpen,
            _ => Refusal::Open {
                retry_ms: self.value,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Generation;

    #[test]
    fn admissions_round_trip() {
        let gen = Generation::from_bits((1 << 58) - 1);
        for kind in [
            TicketKind::Closed,
            TicketKind::HalfOpen,
            TicketKind::MetricsOnly,
            TicketKind::Untracked,
        ] {
            let ticket = Admission::admit(Ticket::new(gen, kind, u64::MAX))
                .ticket()
                .expect("admitted");
            assert_eq!(ticket.kind(), kind);
            assert_eq!(ticket.generation(), gen);
            assert_eq!(ticket.started(), Some(u64::MAX));
        }
        for refusal in [
            Refusal::Open { retry_ms: 0 },
            Refusal::Open { retry_ms: u64::MAX },
            Refusal::HalfOpenFull,
            Refusal::ForcedOpen,
        ] {
            let a = Admission::refuse(refusal);
            assert!(a.ticket().is_none());
            assert_eq!(a.refusal(), refusal);
        }
    }
}
