//! Running a call under a breaker: [`CircuitBreaker::call`] and [`CircuitBreaker::call_sync`].
//!
//! The permit is recorded when the call returns. A panic in the body is recorded as a
//! failure while it unwinds (for futures, from inside `poll`, where the permit is a local,
//! since an executor that catches the panic drops the future only afterwards); a future
//! dropped before it finished records nothing but "cancelled" and gives its permit back.
//! A call made from inside a call of the same breaker (a recursive annotated function) runs
//! under the outer call's permit: it is neither admitted nor recorded again (see `reentry`).

mod cause;
mod classified;
mod future;
mod reentry;

pub(crate) use cause::{display, nothing, Describe};
pub(crate) use future::CallFuture;

use crate::breaker::CircuitBreaker;
use crate::error::CallError;
use crate::permit::Outcome;
use std::future::Future;

impl CircuitBreaker {
    /// Runs the future `f` makes, if the breaker lets it through, and records how it went.
    ///
    /// The builder's `classify` gives the verdict when it was written for this
    /// `Result<T, E>`; otherwise `Ok` is a success and `Err` a failure unless the breaker's
    /// `failure_if` or `ignore_if` say otherwise. (The builder's functions find the result's
    /// type at run time, hence `T` and `E` are `'static`: owned answers; for a result that
    /// borrows, give the verdict per call to [`call_classified`](Self::call_classified).)
    /// A rejected call never calls `f`. With `call_timeout` set, a call
    /// running that long is dropped, counted as a failure and answered with
    /// [`BreakerError::TimedOut`](crate::BreakerError::TimedOut) (this needs a tokio runtime with timers).
    /// A call of this breaker made while the future is polled (a recursive call) runs under
    /// this call's permit: it is neither admitted nor recorded again.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use breaker_runtime::CircuitBreaker;
    ///
    /// let breaker = CircuitBreaker::builder("docs-call").build();
    /// let answer = breaker.call(|| async { Ok::<_, std::io::Error>(42) }).await;
    /// assert_eq!(answer.unwrap(), 42);
    /// # }
    /// ```
    pub fn call<'a, F, Fut, T, E>(
        &'a self,
        f: F,
    ) -> impl Future<Output = Result<T, CallError<E>>> + 'a
    where
        F: FnOnce() -> Fut + 'a,
        Fut: Future<Output = Result<T, E>> + 'a,
        T: 'static,
        E: 'static,
    {
        CallFuture::new(
            self,
            |b: &CircuitBreaker, r: &Result<T, E>| b.judge(r),
            cause::known_std::<E>,
            f,
        )
    }

    /// Runs `f` if the breaker lets it through, and records how it went, judged as
    /// [`call`](Self::call) judges. A panic in `f` is recorded as a failure and keeps
    /// unwinding.
    /// A call of this breaker made inside `f` on this thread (a recursive call) runs under
    /// this call's permit: it is neither admitted nor recorded again.
    ///
    /// ```
    /// use breaker_runtime::CircuitBreaker;
    ///
    /// let breaker = CircuitBreaker::builder("docs-call-sync").build();
    /// let read = breaker.call_sync(|| std::fs::read_to_string("/definitely/not/here"));
    /// assert!(read.is_err());
    /// assert_eq!(breaker.metrics().failures, 1);
    /// ```
    #[inline]
    pub fn call_sync<F, T, E>(&self, f: F) -> Result<T, CallError<E>>
    where
        F: FnOnce() -> Result<T, E>,
        T: 'static,
        E: 'static,
    {
        self.run_sync(|r: &Result<T, E>| self.judge(r), cause::known_std::<E>, f)
    }

    /// The verdict of `call` and `call_sync`: the builder's `classify` when it was written
    /// for this result type; otherwise `Ok` is a success and the builder's predicates judge
    /// an `Err` (those written for another error type count it a failure).
    #[inline]
    pub(crate) fn judge<T: 'static, E: 'static>(&self, result: &Result<T, E>) -> Outcome {
        // Most breakers have no `classify`: a success then costs one load of a flag beside
        // the word the admission read, not a trip through the settings.
        if self.has_classify() {
            if let Some(outcome) = self.classify_whole(result) {
                return outcome;
            }
        }
        match result {
            Ok(_) => Outcome::Success,
            Err(e) => Self::judge_error(self.in_force(), e),
        }
    }

    #[cold]
    #[inline(never)]
    fn classify_whole<T: 'static, E: 'static>(&self, result: &Result<T, E>) -> Option<Outcome> {
        self.in_force().classify.as_ref()?.test(result)
    }

    /// Classifies an error with the predicates given to the builder, when they were written
    /// for this error type.
    fn judge_error<E: 'static>(s: &crate::settings::Settings, err: &E) -> Outcome {
        if let Some(true) = s.ignore_if.as_ref().and_then(|p| p.test(err)) {
            return Outcome::Ignored;
        }
        match s.failure_if.as_ref().and_then(|p| p.test(err)) {
            Some(false) => Outcome::Success,
            _ => Outcome::Failure,
        }
    }

    /// Runs `f` under the breaker; `classify` gives the verdict on what it returned, and
    /// `describe` writes an error that opens the breaker as the open's cause.
    #[inline]
    pub(crate) fn run_sync<F, T, E, C>(
        &self,
        classify: C,
        describe: Describe<E>,
        f: F,
    ) -> Result<T, CallError<E>>
    where
        F: FnOnce() -> Result<T, E>,
        C: Fn(&Result<T, E>) -> Outcome,
    {
        // Called from inside a call of this breaker on this thread: it runs under that
        // call's permit, neither admitted nor recorded again (see `reentry`).
        let parent = reentry::current();
        if !parent.is_null() && reentry::runs(parent, self) {
            let result = f();
            // Judged though not recorded: an annotated function's fallback routes this call's
            // error by the verdict given to it here, not by one another call left behind.
            classify(&result);
            return result.map_err(CallError::Inner);
        }
        // A match, not `?`: the conversion `?` goes through copies the permit in pieces the
        // processor cannot forward, which costs more than the whole rest of the call.
        let permit = match self.try_acquire() {
            Ok(permit) => permit,
            Err(e) => return Err(CallError::Breaker(e)),
        };
        // If `f` panics, `permit` is dropped while unwinding and records a failure.
        let result = reentry::enter(parent, self, f);
        cause::finish(permit, classify(&result), &result, describe);
        result.map_err(CallError::Inner)
    }
}
