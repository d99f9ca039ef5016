//! A permit that owns its breaker, for futures and streams that must be `'static` (a tower
//! service's response future, a protected stream).

use crate::breaker::CircuitBreaker;
use crate::error::BreakerError;
use crate::permit::{Outcome, Ticket};
use std::sync::Arc;

/// Like [`Permit`](crate::Permit), but holding an `Arc` of its breaker. Recorded exactly once:
/// dropped unrecorded it counts the call as cancelled (failed while panicking).
pub(crate) struct OwnedPermit {
    breaker: Arc<CircuitBreaker>,
    ticket: Option<Ticket>,
}

impl OwnedPermit {
    /// Asks `breaker` to let one call through.
    #[inline]
    pub(crate) fn acquire(breaker: &Arc<CircuitBreaker>) -> Result<OwnedPermit, BreakerError> {
        let ticket = breaker.try_acquire()?.into_ticket();
        Ok(OwnedPermit {
            breaker: breaker.clone(),
            ticket: Some(ticket),
        })
    }

    /// The breaker this permit was taken from.
    // Feature-neutral: the core names no integration. Integrations read it (tower's call
    // timeout names the breaker in its error); a build without them leaves it unused.
    #[allow(dead_code)]
    pub(crate) fn breaker(&self) -> &Arc<CircuitBreaker> {
        &self.breaker
    }

    /// Records the call's outcome.
    #[inline]
    pub(crate) fn finish(mut self, outcome: Outcome, timed_out: bool) {
        if let Some(ticket) = self.ticket.take() {
            self.breaker.record(ticket, outcome, timed_out);
        }
    }

    /// Records the call's outcome, with what went wrong for the open's cause should a
    /// failure open the breaker (formatted only then).
    // Feature-neutral, like `breaker`: the tower layer's one caller.
    #[allow(dead_code)]
    pub(crate) fn finish_because(mut self, outcome: Outcome, cause: &dyn std::fmt::Display) {
        if let Some(ticket) = self.ticket.take() {
            self.breaker.record_because(ticket, outcome, false, cause);
        }
    }

    /// Gives the slot back without counting a call.
    pub(crate) fn release(mut self) {
        if let Some(ticket) = self.ticket.take() {
            self.breaker.release(ticket);
        }
    }
}

impl Drop for OwnedPermit {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            let outcome = if std::thread::panicking() {
                Outcome::Failure
            } else {
                Outcome::Cancelled
            };
            let panicked = &crate::breaker::PANICKED;
            self.breaker
                .record_because(ticket, outcome, false, panicked);
        }
    }
}

/// Records a failure if a `poll` unwinds; disarm it with [`mem::forget`](std::mem::forget)
/// once the poll returned.
pub(crate) struct FailOnUnwind<'p>(pub(crate) &'p mut Option<OwnedPermit>);

impl Drop for FailOnUnwind<'_> {
    fn drop(&mut self) {
        if let Some(mut p) = self.0.take() {
            if let Some(ticket) = p.ticket.take() {
                let panicked = &crate::breaker::PANICKED;
                p.breaker
                    .record_because(ticket, Outcome::Failure, false, panicked);
            }
        }
    }
}
