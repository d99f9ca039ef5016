//! Running a call under a breaker: [`CircuitBreaker::call`] and [`CircuitBreaker::call_sync`].
//!
//! The permit is recorded when the call returns. A panic in the body is recorded as a
//! failure while it unwinds (for futures, from inside `poll`, where the permit is a local,
//! since an executor that catches the panic drops the future only afterwards); a future
//! dropped before it finished records nothing but "cancelled" and gives its permit back.

use crate::breaker::CircuitBreaker;
use crate::error::{BreakerError, CallError};
use crate::permit::{Outcome, Permit};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::time::Sleep;

impl CircuitBreaker {
    /// Runs the future `f` makes, if the breaker lets it through, and records how it went.
    ///
    /// `Ok` is a success; `Err` is a failure unless the breaker's `failure_if` or `ignore_if`
    /// say otherwise. A rejected call never calls `f`. With `call_timeout` set, a call
    /// running that long is dropped, counted as a failure and answered with
    /// [`BreakerError::TimedOut`] (this needs a tokio runtime with timers).
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
        E: 'static,
    {
        self.run_async(|b: &CircuitBreaker, e: &E| b.classify_erased(e), f)
    }

    /// Runs `f` if the breaker lets it through, and records how it went. A panic in `f` is
    /// recorded as a failure and keeps unwinding.
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
        E: 'static,
    {
        self.run_sync(|e: &E| self.classify_erased(e), f)
    }

    /// Classifies an error with the predicates given to the builder, when they were written
    /// for this error type.
    pub(crate) fn classify_erased<E: 'static>(&self, err: &E) -> Outcome {
        let s = self.in_force();
        if let Some(true) = s.ignore_if.as_ref().and_then(|p| p.test(err)) {
            return Outcome::Ignored;
        }
        match s.failure_if.as_ref().and_then(|p| p.test(err)) {
            Some(false) => Outcome::Success,
            _ => Outcome::Failure,
        }
    }

    /// The future of a call: admitted on its first poll, so a future that is never polled
    /// takes no permit, and `f` runs only once the call is let in.
    // Not an `async fn`: that would tie the output types `T` and `E` to the borrow of the
    // breaker too, so `call` could not promise `'a` without bounding them.
    #[allow(clippy::manual_async_fn)]
    pub(crate) fn run_async<'a, F, Fut, T, E, C>(
        &'a self,
        classify: C,
        f: F,
    ) -> impl Future<Output = Result<T, CallError<E>>> + 'a
    where
        F: FnOnce() -> Fut + 'a,
        Fut: Future<Output = Result<T, E>> + 'a,
        C: Fn(&CircuitBreaker, &E) -> Outcome + 'a,
    {
        async move {
            // A match, not `?`: see `run_sync`.
            let mut permit = match self.try_acquire() {
                Ok(permit) => permit,
                Err(e) => return Err(CallError::Breaker(e)),
            };
            let fut = f();
            let result = match self.in_force().call_timeout {
                // Most breakers: no timer at all, not even an empty one to drop.
                None => Guarded::new(fut, &mut permit).await,
                Some(after) => {
                    // Boxed, so calls without a timeout do not carry a timer's worth of bytes.
                    let timer = Box::pin(tokio::time::sleep(after));
                    match (Timed {
                        call: Guarded::new(fut, &mut permit),
                        timer,
                    })
                    .await
                    {
                        Some(result) => result,
                        None => {
                            permit.finish(Outcome::Failure, true);
                            return Err(CallError::Breaker(BreakerError::TimedOut {
                                name: self.shared_name().clone(),
                                after,
                            }));
                        }
                    }
                }
            };
            let outcome = match &result {
                Ok(_) => Outcome::Success,
                Err(e) => classify(self, e),
            };
            permit.finish(outcome, false);
            result.map_err(CallError::Inner)
        }
    }

    #[inline]
    pub(crate) fn run_sync<F, T, E, C>(&self, classify: C, f: F) -> Result<T, CallError<E>>
    where
        F: FnOnce() -> Result<T, E>,
        C: Fn(&E) -> Outcome,
    {
        // A match, not `?`: the conversion `?` goes through copies the permit in pieces the
        // processor cannot forward, which costs more than the whole rest of the call.
        let permit = match self.try_acquire() {
            Ok(permit) => permit,
            Err(e) => return Err(CallError::Breaker(e)),
        };
        // If `f` panics, `permit` is dropped while unwinding and records a failure.
        let result = f();
        permit.finish(classify_result(&result, &classify), false);
        result.map_err(CallError::Inner)
    }
}

#[inline]
fn classify_result<T, E>(result: &Result<T, E>, classify: &impl Fn(&E) -> Outcome) -> Outcome {
    match result {
        Ok(_) => Outcome::Success,
        Err(e) => classify(e),
    }
}

pin_project! {
    /// A call being polled, with its permit: a panic in its `poll` marks the permit.
    struct Guarded<'p, 'a, Fut> {
        #[pin]
        fut: Fut,
        permit: &'p mut Permit<'a>,
    }
}

impl<'p, 'a, Fut> Guarded<'p, 'a, Fut> {
    #[inline]
    fn new(fut: Fut, permit: &'p mut Permit<'a>) -> Self {
        Guarded { fut, permit }
    }
}

pin_project! {
    /// A call with a `call_timeout`: resolves to `None` when the timer fires first (the call
    /// is dropped with it).
    struct Timed<'p, 'a, Fut> {
        #[pin]
        call: Guarded<'p, 'a, Fut>,
        timer: Pin<Box<Sleep>>,
    }
}

/// Marks the permit as panicked if `poll` unwinds; disarmed with `mem::forget` when it
/// returns. The permit sits in the caller's future, which an executor that catches the
/// panic drops only afterwards, no longer unwinding: the mark makes that drop a failure.
struct MarkOnUnwind<'p, 'a>(&'p mut Permit<'a>);

impl Drop for MarkOnUnwind<'_, '_> {
    fn drop(&mut self) {
        self.0.mark_panicked();
    }
}

impl<Fut: Future> Future for Guarded<'_, '_, Fut> {
    type Output = Fut::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mark = MarkOnUnwind(this.permit);
        let polled = this.fut.poll(cx);
        std::mem::forget(mark);
        polled
    }
}

impl<Fut: Future> Future for Timed<'_, '_, Fut> {
    type Output = Option<Fut::Output>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.call.poll(cx) {
            Poll::Ready(out) => Poll::Ready(Some(out)),
            Poll::Pending => this.timer.as_mut().poll(cx).map(|()| None),
        }
    }
}
