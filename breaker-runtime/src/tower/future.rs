//! [`ResponseFuture`]: runs an admitted call, under the breaker's `call_timeout`, and
//! records its result; or answers a rejection.

use super::classify::Classify;
use crate::error::{BreakerError, CallError};
use crate::owned::{FailOnUnwind, OwnedPermit};
use crate::permit::Outcome;
use crate::state::State;
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Sleep;

pin_project! {
    /// The response of a [`CircuitBreakerService`]: the inner service's, recorded when it
    /// arrives. Dropped before then, the call counts as cancelled.
    ///
    /// ```
    /// use breaker_runtime::tower::CircuitBreakerLayer;
    /// use breaker_runtime::CircuitBreaker;
    /// use tower::{service_fn, Layer, Service};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let breaker = CircuitBreaker::builder("docs-response-future").build();
    /// let mut svc = CircuitBreakerLayer::new(breaker.clone())
    ///     .layer(service_fn(|()| async { Ok::<_, std::io::Error>(1) }));
    /// let response = svc.call(()); // admitted now
    /// drop(response);
    /// assert_eq!(breaker.metrics().cancelled, 1);
    /// # }
    /// ```
    ///
    /// [`CircuitBreakerService`]: super::CircuitBreakerService
    pub struct ResponseFuture<F, C> {
        #[pin]
        inner: Option<F>,
        permit: Option<OwnedPermit>,
        rejected: Option<BreakerError>,
        timeout: Option<Duration>,
        sleep: Option<Pin<Box<Sleep>>>,
        classifier: C,
    }
}

impl<F, C> ResponseFuture<F, C> {
    /// An admitted call: `inner` runs holding `permit`, cut after `timeout` if there is one
    /// (the timer starts on the first poll).
    pub(super) fn admitted(
        inner: F,
        permit: OwnedPermit,
        timeout: Option<Duration>,
        classifier: C,
    ) -> Self {
        ResponseFuture {
            inner: Some(inner),
            permit: Some(permit),
            rejected: None,
            timeout,
            sleep: None,
            classifier,
        }
    }

    /// A call the breaker did not let in: its first poll answers `rejected`.
    pub(super) fn rejected(rejected: BreakerError, classifier: C) -> Self {
        ResponseFuture {
            inner: None,
            permit: None,
            rejected: Some(rejected),
            timeout: None,
            sleep: None,
            classifier,
        }
    }
}

impl<F, C> fmt::Debug for ResponseFuture<F, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("admitted", &self.permit.is_some())
            .field("rejected", &self.rejected)
            .finish_non_exhaustive()
    }
}

impl<F, C, T, E> Future for ResponseFuture<F, C>
where
    F: Future<Output = Result<T, E>>,
    C: Classify<T, E>,
{
    type Output = Result<T, CallError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Some(e) = this.rejected.take() {
            return Poll::Ready(Err(CallError::Breaker(e)));
        }
        let Some(fut) = this.inner.as_mut().as_pin_mut() else {
            panic!("a circuit-breaker response future was polled after it completed");
        };
        // The timer starts on the first poll, inside the runtime that drives the call.
        if let (Some(after), None) = (*this.timeout, this.sleep.as_ref()) {
            *this.sleep = Some(Box::pin(tokio::time::sleep(after)));
        }
        let guard = FailOnUnwind(&mut *this.permit);
        let polled = fut.poll(cx);
        std::mem::forget(guard);
        match polled {
            Poll::Ready(result) => {
                this.inner.set(None);
                if let Some(permit) = this.permit.take() {
                    // Read before recording; the breaker is held on only when it is needed.
                    let wait = this.classifier.retry_after(&result);
                    let breaker = wait.map(|wait| (wait, permit.breaker().clone()));
                    match this.classifier.classify(&result) {
                        Outcome::Failure => {
                            let cause = Cause(&*this.classifier, &result);
                            permit.finish_because(Outcome::Failure, &cause);
                        }
                        outcome => permit.finish(outcome, false),
                    }
                    if let Some((wait, breaker)) = breaker {
                        // Not over a manual control: only a breaker running by its rules.
                        let s = breaker.state();
                        if matches!(s, State::Closed | State::HalfOpen | State::Open) {
                            breaker.open_for(wait);
                        }
                    }
                }
                Poll::Ready(result.map_err(CallError::Inner))
            }
            Poll::Pending => {
                let Some(sleep) = this.sleep.as_mut() else {
                    return Poll::Pending;
                };
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                // The call is over: drop it before recording, so it cannot outlive its permit.
                this.inner.set(None);
                let permit = this.permit.take().expect("a running call holds its permit");
                let name = permit.breaker().shared_name().clone();
                permit.finish(Outcome::Failure, true);
                Poll::Ready(Err(CallError::Breaker(BreakerError::TimedOut {
                    name,
                    after: this.timeout.unwrap_or_default(),
                })))
            }
        }
    }
}

/// What went wrong with a failed result, as its classifier writes it: formatted only if that
/// failure opens the breaker.
struct Cause<'a, C, T, E>(&'a C, &'a Result<T, E>);

impl<C: Classify<T, E>, T, E> fmt::Display for Cause<'_, C, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write_cause(self.1, f)
    }
}
