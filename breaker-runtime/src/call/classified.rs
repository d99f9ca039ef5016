//! [`CircuitBreaker::call_classified`] and [`CircuitBreaker::call_sync_classified`]: a call
//! whose whole result the caller judges, as the attribute's `classify` argument does.
//!
//! The builder's `classify` does the same for every `call` whose result has its type, found
//! at run time, which Rust allows only for owned types; a verdict given per call also serves
//! results that borrow.

use super::{cause, CallFuture};
use crate::breaker::CircuitBreaker;
use crate::error::CallError;
use crate::permit::Outcome;
use std::future::Future;

impl CircuitBreaker {
    /// Like [`call`](Self::call), with the verdict on the whole result given by `classify`
    /// (the attribute's `classify` argument, for code without the attribute): an `Ok` can be
    /// a failure (an HTTP client's `Ok(response)` with status 503), an `Err` an answer. The
    /// builder's `failure_if` and `ignore_if` are not asked. The result goes back as it is,
    /// whatever the verdict.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use breaker_runtime::{CircuitBreaker, Outcome, State};
    ///
    /// struct Response { status: u16 }
    ///
    /// fn by_status(result: &Result<Response, std::io::Error>) -> Outcome {
    ///     match result {
    ///         Ok(r) if r.status >= 500 => Outcome::Failure,
    ///         Ok(r) if r.status >= 400 => Outcome::Ignored,
    ///         Ok(_) => Outcome::Success,
    ///         Err(_) => Outcome::Failure,
    ///     }
    /// }
    ///
    /// let breaker = CircuitBreaker::builder("docs-call-classified").failure_threshold(1).build();
    /// let answer = breaker
    ///     .call_classified(by_status, || async { Ok(Response { status: 503 }) })
    ///     .await;
    /// assert_eq!(answer.unwrap().status, 503, "the caller gets the response as it is");
    /// assert_eq!(breaker.state(), State::Open, "and the breaker counted it a failure");
    /// # }
    /// ```
    pub fn call_classified<'a, C, F, Fut, T, E>(
        &'a self,
        classify: C,
        f: F,
    ) -> impl Future<Output = Result<T, CallError<E>>> + 'a
    where
        C: Fn(&Result<T, E>) -> Outcome + 'a,
        F: FnOnce() -> Fut + 'a,
        Fut: Future<Output = Result<T, E>> + 'a,
        E: 'static,
    {
        CallFuture::new(
            self,
            move |_: &CircuitBreaker, r: &Result<T, E>| classify(r),
            cause::known_std::<E>,
            f,
        )
    }

    /// Like [`call_sync`](Self::call_sync), with the verdict on the whole result given by
    /// `classify` (see [`call_classified`](Self::call_classified)).
    ///
    /// ```
    /// use breaker_runtime::{CircuitBreaker, Outcome};
    ///
    /// let breaker = CircuitBreaker::builder("docs-call-sync-classified").build();
    /// // An empty answer is no failure for this dependency, but not a success either.
    /// let rows = breaker.call_sync_classified(
    ///     |r: &Result<Vec<u32>, std::io::Error>| match r {
    ///         Ok(rows) if rows.is_empty() => Outcome::Ignored,
    ///         Ok(_) => Outcome::Success,
    ///         Err(_) => Outcome::Failure,
    ///     },
    ///     || Ok(Vec::new()),
    /// );
    /// assert!(rows.unwrap().is_empty());
    /// assert_eq!(breaker.metrics().ignored, 1);
    /// ```
    #[inline]
    pub fn call_sync_classified<C, F, T, E>(&self, classify: C, f: F) -> Result<T, CallError<E>>
    where
        C: Fn(&Result<T, E>) -> Outcome,
        F: FnOnce() -> Result<T, E>,
        E: 'static,
    {
        self.run_sync(classify, cause::known_std::<E>, f)
    }
}
