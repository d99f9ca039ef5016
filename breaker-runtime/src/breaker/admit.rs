//! Admission: whether a call may run, decided without a lock in Closed and in an open period
//! well before its end, and under the lock everywhere else.

use super::machine::Admit;
use super::CircuitBreaker;
use crate::clock::{self, COARSE_SLACK_MS};
use crate::error::BreakerError;
use crate::events::BreakerEvent;
use crate::observe::Observer;
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
        let w = self.load();
        if w.state() == State::Closed {
            // Whether to time the call is in the word: no settings to read.
            let started = if w.timed() || Observer::wants_timing() {
                clock::stamp()
            } else {
                0
            };
            let ticket = Ticket::new(w.generation(), TicketKind::Closed, started);
            return Ok(Permit::new(self, ticket));
        }
        if w.state() == State::Open {
            // The error is built here, inlined into the caller, from a number returned in a
            // register: a whole error returned through memory and then re-wrapped by the
            // caller cost more than the rest of the rejection.
            if let Some(retry_ms) = self.reject_while_open() {
                return Err(BreakerError::Open {
                    name: self.name.clone(),
                    retry_after: Duration::from_millis(retry_ms),
                });
            }
        }
        self.acquire_not_closed()
    }

    /// An open breaker well before its deadline: counts the rejection and says how many
    /// milliseconds are left; `None` when the deadline is near enough for a precise look.
    #[inline(never)]
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

    /// Everything but Closed and an early Open, kept out of line so the common paths inline
    /// into callers.
    #[inline(never)]
    fn acquire_not_closed(&self) -> Result<Permit<'_>, BreakerError> {
        let w = self.load();
        // The manual states need no lock: nothing in them depends on time or on other calls.
        let (gen, kind) = match w.state() {
            State::Closed => (w.generation(), TicketKind::Closed),
            State::MetricsOnly => (w.generation(), TicketKind::MetricsOnly),
            State::Disabled => (w.generation(), TicketKind::Untracked),
            State::ForcedOpen => {
                self.count_rejection(State::ForcedOpen);
                return Err(BreakerError::ForcedOpen {
                    name: self.name.clone(),
                });
            }
            State::Open | State::HalfOpen => return self.acquire_locked(),
        };
        Ok(Permit::new(self, self.ticket(gen, kind)))
    }

    #[cold]
    fn acquire_locked(&self) -> Result<Permit<'_>, BreakerError> {
        let stamp = clock::stamp();
        let now = stamp / 1_000_000;
        let (admit, gen) = self.locked(|m, s, moves| {
            m.advance(now, s, moves);
            (m.admit(now, stamp, s), m.generation())
        });
        let (kind, rejected_in) = match admit {
            Admit::Closed => (TicketKind::Closed, None),
            Admit::MetricsOnly => (TicketKind::MetricsOnly, None),
            Admit::Untracked => (TicketKind::Untracked, None),
            Admit::Probe => {
                return Ok(Permit::new(
                    self,
                    Ticket::new(gen, TicketKind::HalfOpen, stamp),
                ))
            }
            Admit::RejectOpen { .. } => (TicketKind::Untracked, Some(State::Open)),
            Admit::RejectHalfOpenFull => (TicketKind::Untracked, Some(State::HalfOpen)),
            Admit::RejectForcedOpen => (TicketKind::Untracked, Some(State::ForcedOpen)),
        };
        if let Some(state) = rejected_in {
            self.count_rejection(state);
            let name = self.name.clone();
            return Err(match admit {
                Admit::RejectOpen { retry_ms } => BreakerError::Open {
                    name,
                    retry_after: Duration::from_millis(retry_ms),
                },
                Admit::RejectHalfOpenFull => BreakerError::HalfOpenFull { name },
                _ => BreakerError::ForcedOpen { name },
            });
        }
        Ok(Permit::new(self, self.ticket(gen, kind)))
    }

    #[inline]
    pub(super) fn count_rejection(&self, state: State) {
        self.counters.hot().rejected.fetch_add(1, Relaxed);
        self.observer.rejected(state);
        if self.events.observed() {
            self.events.send(BreakerEvent::Rejected {
                name: self.name.clone(),
                state,
            });
        }
    }

    #[inline]
    fn ticket(&self, generation: Generation, kind: TicketKind) -> Ticket {
        let timed = Observer::wants_timing() || self.in_force().slow_call.is_some();
        Ticket::new(generation, kind, if timed { clock::stamp() } else { 0 })
    }
}
