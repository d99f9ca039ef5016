//! Where outside observers see what a breaker does: every finished call, every rejection and
//! every transition passes through an [`Observer`]. Without an observer feature (such as
//! `metrics`) the observer is empty and its calls compile to nothing.
//!
//! With `metrics`, the observer is [`crate::metrics_export::Observer`]: metric handles
//! registered once per breaker, so recording is a handful of atomic adds with no label
//! allocation and no lookup.

#[cfg(feature = "metrics")]
pub(crate) use crate::metrics_export::Observer;

#[cfg(not(feature = "metrics"))]
pub(crate) use noop::Observer;

#[cfg(not(feature = "metrics"))]
mod noop {
    use crate::events::TransitionReason;
    use crate::name::Name;
    use crate::permit::Outcome;
    use crate::state::State;
    use std::time::Duration;

    /// Per-breaker observer state: nothing, without an observer feature.
    #[derive(Debug, Default)]
    pub(crate) struct Observer {}

    impl Observer {
        pub(crate) fn new(_name: &Name) -> Observer {
            Observer {}
        }

        /// Whether finished calls should carry their duration; only then is the clock read.
        #[inline]
        pub(crate) const fn wants_timing() -> bool {
            false
        }

        #[inline]
        pub(crate) fn call_finished(
            &self,
            _outcome: Outcome,
            _slow: bool,
            _timed_out: bool,
            _elapsed: Option<Duration>,
        ) {
        }

        #[inline]
        pub(crate) fn rejected(&self, _state: State) {}

        #[inline]
        pub(crate) fn transition(&self, _from: State, _to: State, _reason: TransitionReason) {}
    }
}
