//! The cause of an open: the text of the failure that opened the breaker, formatted once per
//! transition, outside the lock, only when a failure given with its text opens the breaker.

use super::machine::{Machine, Move, Moves};
use super::CircuitBreaker;
use crate::error::BreakerError;
use crate::events::TransitionReason;
use crate::settings::Settings;
use crate::state::State;
use std::fmt::{self, Display};
use std::sync::PoisonError;

/// The cause a panicking call leaves.
pub(crate) const PANICKED: &str = "the call panicked";

/// The cause a call cut by `call_timeout` leaves: the `TimedOut` error's text, formatted only
/// if it is needed.
pub(super) struct TimedOut<'a>(pub(super) &'a CircuitBreaker);

impl Display for TimedOut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let after = self.0.in_force().call_timeout.unwrap_or_default();
        let name = self.0.shared_name().clone();
        BreakerError::TimedOut { name, after }.fmt(f)
    }
}

/// Whether `m` opened the breaker on a failure (not by hand, on slowness or on a timeout).
fn opened_by_failure(m: Move) -> bool {
    m.to == State::Open
        && matches!(
            m.reason,
            TransitionReason::FailureThreshold
                | TransitionReason::FailureRate
                | TransitionReason::ProbeFailed
        )
}

impl CircuitBreaker {
    /// Like `locked`, for a failure `cause` describes (if any): when the operation opens the
    /// breaker on a failure, the text is formatted once, outside the lock, kept for that open
    /// (unless a later move already passed it), and written in the open's log line. An empty
    /// text is no cause.
    pub(super) fn locked_because(
        &self,
        cause: Option<&dyn Display>,
        f: impl FnOnce(&mut Machine, &Settings, &mut Moves),
    ) {
        let Some(cause) = cause else {
            return self.locked(f);
        };
        let mut opened = None;
        let moves = self.locked(|m, s, moves| {
            f(m, s, moves);
            if moves.iter().last().is_some_and(opened_by_failure) {
                opened = Some(m.generation());
            }
            // `locked` stamps the snapshot's `last_transition` from the moves it sees when
            // `f` returns, and this closure takes them away: stamp it here instead.
            if let Some(last) = moves.iter().last() {
                m.note_transition(last.reason, crate::clock::now_ms());
            }
            // Announced below, once the cause is kept.
            std::mem::take(moves)
        });
        let kept = opened.and_then(|gen| {
            let text = cause.to_string();
            if text.is_empty() {
                return None;
            }
            let mut m = self.machine.lock().unwrap_or_else(PoisonError::into_inner);
            m.set_cause(gen, &text).then_some(text)
        });
        let last = moves.iter().count().saturating_sub(1);
        for (i, m) in moves.iter().enumerate() {
            // The open the cause explains is the last move.
            let cause = if i == last { kept.as_deref() } else { None };
            self.announce_because(m, cause);
        }
    }

    /// While the breaker is open or half-open, the `Display` text of the failure that opened
    /// it, if the breaker was given one; `None` otherwise.
    ///
    /// A failure's text is known when it comes with it: from a `#[circuit_breaker]`
    /// function's error (its `Display`, when its type has one), from
    /// [`Permit::failure_because`](crate::Permit::failure_because), from
    /// [`call`](Self::call) and [`call_sync`](Self::call_sync) when the error is one of the
    /// standard library's (`std::io::Error`, `String`, `&'static str`, a boxed
    /// `dyn Error`; their generic `E` need not be `Display`, so a type of your own leaves
    /// none there: use the attribute or `failure_because`), from a call cut by
    /// `call_timeout` (the [`BreakerError::TimedOut`] text), from a tower layer's
    /// classifier, and from a call that panicked (`"the call panicked"`). It is formatted only when that failure opens the breaker, once
    /// per transition, never on the call path of a failure that opens nothing. Half-open
    /// keeps it; a failed probe's own text replaces it; closing, a manual control
    /// (`open_for` included), a slow-call rate or a half-open timeout leave none.
    ///
    /// ```
    /// use breaker_runtime::CircuitBreaker;
    ///
    /// let breaker = CircuitBreaker::builder("docs-open-cause").failure_threshold(1).build();
    /// assert_eq!(breaker.open_cause(), None);
    /// breaker.try_acquire().unwrap().failure_because(&"upstream answered 502");
    /// assert_eq!(breaker.open_cause().as_deref(), Some("upstream answered 502"));
    /// assert_eq!(breaker.snapshot().open_cause.as_deref(), Some("upstream answered 502"));
    /// ```
    pub fn open_cause(&self) -> Option<String> {
        let m = self.machine.lock().unwrap_or_else(PoisonError::into_inner);
        m.cause().map(str::to_owned)
    }
}
