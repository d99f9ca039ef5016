//! [`Permit`]: one admitted call, recorded exactly once.

use crate::breaker::CircuitBreaker;
use crate::state::Generation;
use std::fmt;

/// How a finished call went, as far as the breaker is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// The dependency answered well.
    Success,
    /// The dependency failed, panicked or timed out.
    Failure,
    /// Not the dependency's doing: counted, but moves no state.
    Ignored,
    /// Dropped before it finished: counted, but moves no state.
    Cancelled,
}

impl Outcome {
    /// Success and failure are verdicts on the dependency; the others are not.
    pub(crate) fn is_verdict(self) -> bool {
        matches!(self, Outcome::Success | Outcome::Failure)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum TicketKind {
    Closed,
    HalfOpen,
    MetricsOnly,
    /// Disabled: nothing is recorded.
    Untracked,
}

/// What a permit needs to record its call: where and when it was admitted. Two plain words,
/// so it travels in registers: a wider ticket, built field by field on the stack and then
/// copied, stalled every call on store forwarding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    /// The generation (bits 57..0; 59..58 are clear), the kind (61..60) and the panicked flag
    /// (62).
    meta: u64,
    /// A [`clock::stamp`](crate::clock::stamp), or 0 when the call is not timed. Probes are
    /// always timed: the stamp is also how the breaker finds the probe among those in flight.
    started: u64,
}

const KIND_SHIFT: u32 = 60;

impl Ticket {
    #[inline]
    pub(crate) fn new(generation: Generation, kind: TicketKind, started: u64) -> Ticket {
        Ticket {
            meta: generation.bits() | (kind as u64) << KIND_SHIFT,
            started,
        }
    }

    /// The two words, for [`Admission`](crate::breaker::Admission) to carry.
    #[inline]
    pub(crate) fn into_parts(self) -> (u64, u64) {
        (self.meta, self.started)
    }

    #[inline]
    pub(crate) fn from_parts(meta: u64, started: u64) -> Ticket {
        Ticket { meta, started }
    }

    /// Set on a permit whose call panicked while an executor was polling it.
    const PANICKED: u64 = 1 << 62;

    #[inline]
    pub(crate) fn generation(self) -> Generation {
        Generation::from_bits(self.meta)
    }

    #[inline]
    pub(crate) fn kind(self) -> TicketKind {
        match (self.meta >> KIND_SHIFT) & 3 {
            0 => TicketKind::Closed,
            1 => TicketKind::HalfOpen,
            2 => TicketKind::MetricsOnly,
            _ => TicketKind::Untracked,
        }
    }

    /// The start stamp of a timed call.
    #[inline]
    pub(crate) fn started(self) -> Option<u64> {
        (self.started != 0).then_some(self.started)
    }
}

/// Leave to run one call through a breaker. Record its outcome with [`success`](Self::success),
/// [`failure`](Self::failure), [`ignore`](Self::ignore) or [`record`](Self::record).
///
/// A permit that is dropped unrecorded counts its call as cancelled, or as failed when it
/// is dropped during a panic, and gives its half-open slot back: a lost permit can never
/// wedge the breaker.
///
/// ```
/// use breaker_runtime::CircuitBreaker;
///
/// let breaker = CircuitBreaker::builder("docs-permit").build();
/// let permit = breaker.try_acquire().unwrap();
/// let result: Result<u32, std::io::Error> = Ok(42);
/// permit.record(&result);
/// assert_eq!(breaker.metrics().successes, 1);
///
/// drop(breaker.try_acquire().unwrap()); // never recorded
/// assert_eq!(breaker.metrics().cancelled, 1);
/// ```
#[must_use = "a permit records its call when used; dropping it counts the call as cancelled"]
pub struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    ticket: Ticket,
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("breaker", &self.breaker.name())
            .field("kind", &self.ticket.kind())
            .finish()
    }
}

impl<'a> Permit<'a> {
    pub(crate) fn new(breaker: &'a CircuitBreaker, ticket: Ticket) -> Permit<'a> {
        Permit { breaker, ticket }
    }

    /// The breaker this permit belongs to.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-permit-b").build();
    /// let permit = breaker.try_acquire().unwrap();
    /// assert_eq!(permit.breaker().name(), "docs-permit-b");
    /// permit.success();
    /// ```
    pub fn breaker(&self) -> &'a CircuitBreaker {
        self.breaker
    }

    /// Records a success.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-permit-s").build();
    /// breaker.try_acquire().unwrap().success();
    /// assert_eq!(breaker.metrics().successes, 1);
    /// ```
    #[inline]
    pub fn success(self) {
        self.finish(Outcome::Success, false);
    }

    /// Records a failure.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-permit-f").build();
    /// breaker.try_acquire().unwrap().failure();
    /// assert_eq!(breaker.metrics().failures, 1);
    /// ```
    #[inline]
    pub fn failure(self) {
        self.finish(Outcome::Failure, false);
    }

    /// Records the call as ignored: counted, but it moves no state and gives a half-open
    /// slot back.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-permit-i").build();
    /// breaker.try_acquire().unwrap().ignore();
    /// assert_eq!(breaker.metrics().ignored, 1);
    /// ```
    #[inline]
    pub fn ignore(self) {
        self.finish(Outcome::Ignored, false);
    }

    /// Records a failure whose error `cause` describes. If this failure opens the breaker
    /// (or re-opens it from half-open), `cause`'s `Display` text is formatted, once, and kept
    /// as the open's cause: [`CircuitBreaker::open_cause`], the snapshot's `open_cause` and
    /// the `cause` field of the open's log line. A failure that opens nothing never formats
    /// it; an empty text is no cause.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-permit-fb")
    ///     .failure_threshold(1)
    ///     .build();
    /// let err = std::io::Error::other("connection refused");
    /// breaker.try_acquire().unwrap().failure_because(&err);
    /// assert_eq!(breaker.open_cause().as_deref(), Some("connection refused"));
    /// ```
    ///
    /// [`CircuitBreaker::open_cause`]: crate::CircuitBreaker::open_cause
    #[inline]
    pub fn failure_because(self, cause: &dyn fmt::Display) {
        self.finish_because(Outcome::Failure, cause);
    }

    /// Records `outcome`, with the text of the call's error for the open's cause should a
    /// failure open the breaker (see [`failure_because`](Self::failure_because)): for callers
    /// that hold an error and its verdict.
    #[inline]
    pub(crate) fn finish_because(self, outcome: Outcome, cause: &dyn fmt::Display) {
        let this = std::mem::ManuallyDrop::new(self);
        this.breaker
            .record_because(this.ticket, outcome, false, cause);
    }

    /// Records `result` as [`call`](CircuitBreaker::call) would: by the breaker's `classify`
    /// when it was written for this result type; otherwise `Ok` is a success and an `Err` a
    /// failure unless the breaker's `failure_if` says otherwise or its `ignore_if` says to
    /// ignore it.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-permit-r").build();
    /// breaker.try_acquire().unwrap().record(&Err::<(), _>("down"));
    /// assert_eq!(breaker.metrics().failures, 1);
    /// ```
    #[inline]
    pub fn record<T: 'static, E: 'static>(self, result: &Result<T, E>) {
        let outcome = self.breaker.judge(result);
        self.finish(outcome, false);
    }

    /// Records an outcome decided by the caller.
    ///
    /// ```
    /// use breaker_runtime::Outcome;
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-permit-o").build();
    /// breaker.try_acquire().unwrap().record_outcome(Outcome::Failure);
    /// assert_eq!(breaker.metrics().failures, 1);
    /// ```
    #[inline]
    pub fn record_outcome(self, outcome: Outcome) {
        self.finish(outcome, false);
    }

    /// Gives up the guard and hands back what recording needs, for owners that keep the
    /// breaker alive themselves (the tower service and protected streams hold an `Arc`).
    /// Records, at the drop, a failure rather than a cancellation: the call panicked.
    pub(crate) fn mark_panicked(&mut self) {
        self.ticket.meta |= Ticket::PANICKED;
    }

    pub(crate) fn into_ticket(self) -> Ticket {
        std::mem::ManuallyDrop::new(self).ticket
    }

    #[inline]
    pub(crate) fn finish(self, outcome: Outcome, timed_out: bool) {
        // Recorded here, so the drop below must not record again.
        let this = std::mem::ManuallyDrop::new(self);
        this.breaker.record(this.ticket, outcome, timed_out);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        // Only permits that were never recorded get here.
        let outcome = if std::thread::panicking() || self.ticket.meta & Ticket::PANICKED != 0 {
            Outcome::Failure
        } else {
            Outcome::Cancelled
        };
        self.breaker
            .record_because(self.ticket, outcome, false, &crate::breaker::PANICKED);
    }
}
