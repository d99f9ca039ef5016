//! Running a call under a breaker: [`CircuitBreaker::call`] and [`CircuitBreaker::call_sync`].
//!
//! The permit is recorded when the call returns. A panic in the body is recorded as a
//! failure while it unwinds (for futures, from inside `poll`, since an executor that catches
//! the panic drops the future only afterwards); a future dropped before it finished records
//! nothing but "cancelled" and gives its permit back.

use crate::breaker::CircuitBreaker;
use crate::error::{BreakerError, CallError};
use crate::permit::{Outcome, Permit};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
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
        self.run_async(move |e: &E| self.classify_erased(e), f)
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
        let s = self.settings();
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
    pub(crate) fn run_async<F, Fut, T, E, C>(&self, classify: C, f: F) -> Guarded<'_, F, Fut, C>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        C: Fn(&E) -> Outcome,
    {
        Guarded {
            breaker: self,
            start: Some(f),
            fut: None,
            permit: None,
            sleep: None,
            classify,
        }
    }

    pub(crate) fn run_sync<F, T, E, C>(&self, classify: C, f: F) -> Result<T, CallError<E>>
    where
        F: FnOnce() -> Result<T, E>,
        C: Fn(&E) -> Outcome,
    {
        let permit = self.try_acquire()?;
        // If `f` panics, `permit` is dropped while unwinding and records a failure.
        let result = f();
        permit.finish(classify_result(&result, &classify), false);
        result.map_err(CallError::Inner)
    }
}

fn classify_result<T, E>(result: &Result<T, E>, classify: &impl Fn(&E) -> Outcome) -> Outcome {
    match result {
        Ok(_) => Outcome::Success,
        Err(e) => classify(e),
    }
}

pin_project! {
    /// A call through a breaker: not yet admitted, then running with its permit and, when
    /// `call_timeout` is set, a timer (boxed, so calls without a timeout stay small).
    pub(crate) struct Guarded<'a, F, Fut, C> {
        breaker: &'a CircuitBreaker,
        start: Option<F>,
        #[pin]
        fut: Option<Fut>,
        permit: Option<Permit<'a>>,
        sleep: Option<(Pin<Box<Sleep>>, Duration)>,
        classify: C,
    }
}

/// Records a failure if `poll` unwinds; disarmed with `mem::forget` when it returns.
struct FailOnUnwind<'p, 'a>(&'p mut Option<Permit<'a>>);

impl Drop for FailOnUnwind<'_, '_> {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            p.finish(Outcome::Failure, false);
        }
    }
}

impl<'a, F, Fut, T, E, C> Future for Guarded<'a, F, Fut, C>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    C: Fn(&E) -> Outcome,
{
    type Output = Result<T, CallError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Some(start) = this.start.take() {
            let breaker: &'a CircuitBreaker = this.breaker;
            match breaker.try_acquire() {
                Ok(permit) => *this.permit = Some(permit),
                Err(e) => return Poll::Ready(Err(CallError::Breaker(e))),
            }
            if let Some(after) = breaker.settings().call_timeout {
                *this.sleep = Some((Box::pin(tokio::time::sleep(after)), after));
            }
            this.fut.set(Some(start()));
        }
        let Some(fut) = this.fut.as_mut().as_pin_mut() else {
            panic!("a circuit-breaker call was polled after it completed");
        };
        let guard = FailOnUnwind(&mut *this.permit);
        let polled = fut.poll(cx);
        std::mem::forget(guard);
        match polled {
            Poll::Ready(result) => {
                this.fut.set(None);
                if let Some(permit) = this.permit.take() {
                    permit.finish(classify_result(&result, &*this.classify), false);
                }
                Poll::Ready(result.map_err(CallError::Inner))
            }
            Poll::Pending => {
                let Some((sleep, after)) = this.sleep.as_mut() else {
                    return Poll::Pending;
                };
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                // Drop the call first: it is over, and it must not outlive its permit.
                this.fut.set(None);
                if let Some(permit) = this.permit.take() {
                    permit.finish(Outcome::Failure, true);
                }
                Poll::Ready(Err(CallError::Breaker(BreakerError::TimedOut {
                    name: this.breaker.name(),
                    after: *after,
                })))
            }
        }
    }
}
