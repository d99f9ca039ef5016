//! Where outside observers see what a breaker does: every finished call, every rejection and
//! every transition passes through an [`Observer`]. Without an observer feature (such as
//! `metrics`) the observer is empty and its calls compile to nothing.
//!
//! With `metrics`, the observer is [`crate::metrics_export::Observer`]: it reads the
//! breaker's own counts in the background and publishes them, so the call path does nothing
//! for it unless call durations were asked for.

#[cfg(feature = "metrics")]
pub(crate) use crate::metrics_export::Observer;

#[cfg(not(feature = "metrics"))]
pub(crate) use noop::Observer;

#[cfg(not(feature = "metrics"))]
mod noop {
    use crate::breaker::CircuitBreaker;
    use crate::counters::Totals;
    use crate::events::TransitionReason;
    use crate::name::Name;
    use crate::permit::Outcome;
    use crate::state::State;
    use std::sync::Arc;
    use std::time::Duration;

    /// Per-breaker observer state: nothing, without an observer feature.
    #[derive(Debug, Default)]
    pub(crate) struct Observer {}

    impl Observer {
        pub(crate) fn new(_name: &Name) -> Observer {
            Observer {}
        }

        /// Whether the breaker's calls should be timed for the observer; only then is the
        /// clock read (or when `slow_call` needs it).
        #[inline]
        pub(crate) fn times_calls(&self) -> bool {
            false
        }

        /// The breaker, once it is shared: an observer may read its counts from then on.
        #[inline]
        pub(crate) fn attach(&self, _breaker: &Arc<CircuitBreaker>) {}

        /// A timed call finished.
        #[inline]
        pub(crate) fn call_timed(&self, _outcome: Outcome, _took: Duration) {}

        #[inline]
        pub(crate) fn transition(&self, _from: State, _to: State, _reason: TransitionReason) {}

        /// The breaker is going, with these counts since its creation.
        #[inline]
        pub(crate) fn retire(&self, _lifetime: Totals) {}
    }
}
