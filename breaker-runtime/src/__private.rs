//! The only items `#[circuit_breaker]`'s generated code names. Not public API: they change
//! without notice.

use crate::breaker::CircuitBreaker;
use crate::error::{BreakerError, CallError};
use crate::permit::Outcome;
use std::future::Future;
use std::sync::{Arc, OnceLock};

pub use crate::{Backoff, BreakerConfig, Window};
pub use ::core;
pub use ::std;

/// The breaker of one annotated function, in a `static` inside its body.
#[derive(Debug)]
pub struct BreakerCell {
    cell: OnceLock<Arc<CircuitBreaker>>,
}

impl Default for BreakerCell {
    fn default() -> Self {
        Self::new()
    }
}

impl BreakerCell {
    /// An empty cell, for a `static`.
    pub const fn new() -> Self {
        BreakerCell {
            cell: OnceLock::new(),
        }
    }

    /// The breaker: registered on the first call, one atomic load after that.
    #[inline]
    pub fn get_or_register(
        &'static self,
        name: &'static str,
        config: fn() -> BreakerConfig,
    ) -> &'static CircuitBreaker {
        match self.cell.get() {
            Some(b) => b,
            None => self.register(name, config),
        }
    }

    #[cold]
    #[inline(never)]
    fn register(
        &'static self,
        name: &'static str,
        config: fn() -> BreakerConfig,
    ) -> &'static CircuitBreaker {
        self.cell
            .get_or_init(|| crate::registry().get_or_create(name, config()))
    }
}

/// `failure_if` and `ignore_if`, as the attribute wrote them.
pub struct Classifier<E> {
    /// Errors for which this returns false count as successes.
    pub failure_if: Option<fn(&E) -> bool>,
    /// Errors for which this returns true are not recorded.
    pub ignore_if: Option<fn(&E) -> bool>,
}

impl<E> Clone for Classifier<E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for Classifier<E> {}

impl<E> Classifier<E> {
    /// Both predicates, either optional.
    pub const fn new(
        failure_if: Option<fn(&E) -> bool>,
        ignore_if: Option<fn(&E) -> bool>,
    ) -> Self {
        Classifier {
            failure_if,
            ignore_if,
        }
    }

    fn outcome(&self, err: &E) -> Outcome {
        if self.ignore_if.is_some_and(|f| f(err)) {
            Outcome::Ignored
        } else if self.failure_if.map_or(true, |f| f(err)) {
            Outcome::Failure
        } else {
            Outcome::Success
        }
    }
}

/// Runs an annotated async fn's body under its breaker.
pub async fn call_async<T, E, Fut>(
    breaker: &CircuitBreaker,
    classifier: Classifier<E>,
    fut: Fut,
) -> Result<T, CallError<E>>
where
    Fut: Future<Output = Result<T, E>>,
{
    breaker
        .run_async(move |e: &E| classifier.outcome(e), move || fut)
        .await
}

/// Runs an annotated fn's body under its breaker.
#[inline]
pub fn call_sync<T, E, F>(
    breaker: &CircuitBreaker,
    classifier: Classifier<E>,
    f: F,
) -> Result<T, CallError<E>>
where
    F: FnOnce() -> Result<T, E>,
{
    breaker.run_sync(move |e: &E| classifier.outcome(e), f)
}

/// The error an annotated fn without a fallback returns.
#[inline]
pub fn into_error<E: From<BreakerError>>(err: CallError<E>) -> E {
    err.flatten()
}
