//! Events: a `tracing` event for every transition, and [`EventReceiver`]s for subscribers.
//!
//! Events are sent after the state word changed, never under a lock of ours. Rejections are
//! sent only while someone is subscribed, so an unobserved breaker pays one load for them.

use crate::name::Name;
use crate::state::State;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use tokio::sync::broadcast;

/// Why a breaker changed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum TransitionReason {
    /// `failure_threshold` failures in a row.
    FailureThreshold,
    /// The failure rate over the window reached `failure_rate`.
    FailureRate,
    /// The slow-call rate over the window reached `slow_call_rate`.
    SlowCallRate,
    /// `reset_timeout` passed: probes may go through.
    ResetTimeoutElapsed,
    /// `success_threshold` probes succeeded.
    ProbesSucceeded,
    /// A probe failed.
    ProbeFailed,
    /// Probes were in flight with no verdict for `half_open_timeout`.
    HalfOpenTimeout,
    /// A manual control: `force_open`, `disable`, `metrics_only`, `close` or `reset`.
    Manual,
    /// Told from outside this process: the breaker follows a state shared with other
    /// instances of the service (fleet mode), opening with them or closing on another
    /// instance's probe.
    Remote,
}

impl TransitionReason {
    /// A short `snake_case` name for logs and labels.
    ///
    /// ```
    /// assert_eq!(breaker_runtime::TransitionReason::FailureRate.as_str(), "failure_rate");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            TransitionReason::FailureThreshold => "failure_threshold",
            TransitionReason::FailureRate => "failure_rate",
            TransitionReason::SlowCallRate => "slow_call_rate",
            TransitionReason::ResetTimeoutElapsed => "reset_timeout_elapsed",
            TransitionReason::ProbesSucceeded => "probes_succeeded",
            TransitionReason::ProbeFailed => "probe_failed",
            TransitionReason::HalfOpenTimeout => "half_open_timeout",
            TransitionReason::Manual => "manual",
            TransitionReason::Remote => "remote",
        }
    }
}

impl fmt::Display for TransitionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a breaker did that subscribers may want to know.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use breaker_runtime::{BreakerEvent, CircuitBreaker, State};
///
/// let breaker = CircuitBreaker::builder("docs-events").build();
/// let mut events = breaker.subscribe();
/// breaker.force_open();
/// match events.recv().await {
///     Some(BreakerEvent::StateTransition { from, to, .. }) => {
///         assert_eq!((from, to), (State::Closed, State::ForcedOpen));
///     }
///     other => panic!("unexpected {other:?}"),
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum BreakerEvent {
    /// The breaker moved from one state to another.
    StateTransition {
        /// The breaker's name.
        name: Name,
        /// The state it left.
        from: State,
        /// The state it entered.
        to: State,
        /// Why.
        reason: TransitionReason,
    },
    /// A call was rejected without running.
    Rejected {
        /// The breaker's name.
        name: Name,
        /// The state that rejected it.
        state: State,
    },
}

const CAPACITY: usize = 1024;

/// The sending side, created on the first subscription.
#[derive(Debug, Default)]
pub(crate) struct Events {
    channel: OnceLock<Channel>,
}

#[derive(Debug)]
struct Channel {
    sender: broadcast::Sender<BreakerEvent>,
    subscribers: Arc<AtomicUsize>,
}

impl Events {
    pub(crate) fn subscribe(&self) -> EventReceiver {
        let ch = self.channel.get_or_init(|| Channel {
            sender: broadcast::channel(CAPACITY).0,
            subscribers: Arc::new(AtomicUsize::new(0)),
        });
        ch.subscribers.fetch_add(1, Relaxed);
        EventReceiver {
            receiver: ch.sender.subscribe(),
            subscribers: ch.subscribers.clone(),
            missed: 0,
        }
    }

    /// Whether anyone listens; checked before building an event on a hot path.
    #[inline]
    pub(crate) fn observed(&self) -> bool {
        self.channel
            .get()
            .is_some_and(|ch| ch.subscribers.load(Relaxed) > 0)
    }

    pub(crate) fn send(&self, event: BreakerEvent) {
        if let Some(ch) = self.channel.get() {
            // An error only means every receiver is gone.
            let _ = ch.sender.send(event);
        }
    }
}

/// Logs a transition: opening at WARN, everything else at INFO.
pub(crate) fn trace_transition(
    name: &str,
    from: State,
    to: State,
    reason: TransitionReason,
    cause: Option<&str>,
) {
    let (from, to_str, reason) = (from.as_str(), to.as_str(), reason.as_str());
    if matches!(to, State::Open | State::ForcedOpen) {
        // `cause`: the failure's text, when a failure whose text is known opened it.
        tracing::warn!(target: "breaker_runtime", name, from, to = to_str, reason, cause, "circuit breaker opened");
    } else if to == State::Closed {
        tracing::info!(target: "breaker_runtime", name, from, to = to_str, reason, "circuit breaker closed");
    } else {
        tracing::info!(target: "breaker_runtime", name, from, to = to_str, reason, "circuit breaker changed state");
    }
}

/// Receives a breaker's events. Made by [`CircuitBreaker::subscribe`](crate::CircuitBreaker::subscribe).
///
/// Holds up to 1024 unread events; a receiver that falls further behind skips the oldest and
/// counts them in [`missed`](EventReceiver::missed).
#[derive(Debug)]
pub struct EventReceiver {
    receiver: broadcast::Receiver<BreakerEvent>,
    subscribers: Arc<AtomicUsize>,
    missed: u64,
}

impl EventReceiver {
    /// Waits for the next event; `None` once the breaker is gone.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-recv").build();
    /// let mut events = breaker.subscribe();
    /// breaker.disable();
    /// assert!(events.recv().await.is_some());
    /// # }
    /// ```
    pub async fn recv(&mut self) -> Option<BreakerEvent> {
        loop {
            match self.receiver.recv().await {
                Ok(e) => return Some(e),
                Err(broadcast::error::RecvError::Lagged(n)) => self.missed += n,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next event if one is waiting.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-try-recv").build();
    /// let mut events = breaker.subscribe();
    /// assert!(events.try_recv().is_none());
    /// breaker.force_open();
    /// assert!(events.try_recv().is_some());
    /// ```
    pub fn try_recv(&mut self) -> Option<BreakerEvent> {
        loop {
            match self.receiver.try_recv() {
                Ok(e) => return Some(e),
                Err(broadcast::error::TryRecvError::Lagged(n)) => self.missed += n,
                Err(_) => return None,
            }
        }
    }

    /// How many events were skipped because this receiver fell behind.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-missed").build();
    /// assert_eq!(breaker.subscribe().missed(), 0);
    /// ```
    pub fn missed(&self) -> u64 {
        self.missed
    }
}

impl Drop for EventReceiver {
    fn drop(&mut self) {
        self.subscribers.fetch_sub(1, Relaxed);
    }
}
