//! The manual controls: forcing a state, opening for a while, closing, resetting.

use super::CircuitBreaker;
use crate::clock;
use crate::state::State;
use std::time::Duration;

impl CircuitBreaker {
    /// Opens the breaker until [`close`](Self::close) or [`reset`](Self::reset): every call
    /// is rejected with [`BreakerError::ForcedOpen`](crate::BreakerError::ForcedOpen).
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-force").build();
    /// breaker.force_open();
    /// assert!(breaker.try_acquire().is_err());
    /// ```
    pub fn force_open(&self) {
        self.set_manual(State::ForcedOpen);
    }

    /// Opens the breaker now for `wait` (reason `manual`), then half-opens it as if its reset
    /// timeout had passed: for a dependency that said when to come back (`Retry-After`).
    /// Calls admitted before no longer count, and the open shows in `opened_count`.
    ///
    /// ```
    /// use breaker_runtime::{CircuitBreaker, State};
    /// use std::time::Duration;
    ///
    /// let breaker = CircuitBreaker::builder("docs-open-for").build();
    /// breaker.open_for(Duration::from_secs(30));
    /// assert_eq!(breaker.state(), State::Open);
    /// let err = breaker.try_acquire().unwrap_err();
    /// assert!(err.retry_after().unwrap() <= Duration::from_secs(30));
    /// ```
    pub fn open_for(&self, wait: Duration) {
        let now = clock::now_ms();
        self.locked(|m, _, moves| m.open_for(now, wait, moves));
    }

    /// Lets every call through and records nothing, until another control is used.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-disable").failure_threshold(1).build();
    /// breaker.disable();
    /// let _ = breaker.call_sync(|| Err::<(), _>("down"));
    /// assert_eq!(breaker.metrics().calls, 0);
    /// assert_eq!(breaker.state(), breaker_runtime::State::Disabled);
    /// ```
    pub fn disable(&self) {
        self.set_manual(State::Disabled);
    }

    /// Records every call but never rejects one, e.g. to watch a new breaker's settings in
    /// production before letting it act.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-mo").failure_threshold(1).build();
    /// breaker.metrics_only();
    /// for _ in 0..3 {
    ///     let _ = breaker.call_sync(|| Err::<(), _>("down"));
    /// }
    /// assert_eq!(breaker.metrics().failures, 3);
    /// assert_eq!(breaker.state(), breaker_runtime::State::MetricsOnly);
    /// ```
    pub fn metrics_only(&self) {
        self.set_manual(State::MetricsOnly);
    }

    /// Closes the breaker: clears the failure streak, the window and the backoff. If it was
    /// in another state, calls admitted before keep running but their results no longer move
    /// the state; if it was already closed, they still count in the (fresh) streak and window.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-close").build();
    /// breaker.force_open();
    /// breaker.close();
    /// assert_eq!(breaker.state(), breaker_runtime::State::Closed);
    /// ```
    pub fn close(&self) {
        self.set_manual(State::Closed);
    }

    /// Closes the breaker as [`close`](Self::close) does and zeroes its metrics. On a breaker
    /// that was already closed, calls admitted before keep counting, as for `close`.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-reset").build();
    /// let _ = breaker.call_sync(|| Ok::<_, ()>(()));
    /// breaker.reset();
    /// assert_eq!(breaker.metrics().calls, 0);
    /// ```
    pub fn reset(&self) {
        self.set_manual(State::Closed);
        self.counters.clear();
    }
}
