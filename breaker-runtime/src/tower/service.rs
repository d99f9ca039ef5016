//! [`CircuitBreakerService`]: readiness and admission; the call's result is recorded by its
//! [`ResponseFuture`].

use super::classify::{Classify, DefaultClassifier};
use super::future::ResponseFuture;
use crate::breaker::CircuitBreaker;
use crate::error::{BreakerError, CallError};
use crate::owned::OwnedPermit;
use crate::state::State;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tower_service::Service;

/// A service behind a circuit breaker, made by [`CircuitBreakerLayer`].
///
/// ```
/// use breaker_runtime::tower::{CircuitBreakerService, DefaultClassifier};
/// use breaker_runtime::CircuitBreaker;
/// use tower::{service_fn, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let breaker = CircuitBreaker::builder("docs-service").build();
/// let echo = service_fn(|s: &'static str| async move { Ok::<_, std::io::Error>(s) });
/// let svc = CircuitBreakerService::new(echo, breaker.clone(), DefaultClassifier);
/// assert_eq!(svc.oneshot("hi").await.unwrap(), "hi");
/// assert_eq!(breaker.metrics().successes, 1);
/// # }
/// ```
///
/// [`CircuitBreakerLayer`]: super::CircuitBreakerLayer
#[derive(Debug)]
pub struct CircuitBreakerService<S, C = DefaultClassifier> {
    inner: S,
    breaker: Arc<CircuitBreaker>,
    classifier: C,
    /// `poll_ready` answered for the breaker, without asking `inner`.
    bypassed: bool,
}

impl<S: Clone, C: Clone> Clone for CircuitBreakerService<S, C> {
    /// A clone is not ready, as tower's services are not: call `poll_ready` on it first.
    fn clone(&self) -> Self {
        CircuitBreakerService::new(
            self.inner.clone(),
            self.breaker.clone(),
            self.classifier.clone(),
        )
    }
}

impl<S, C> CircuitBreakerService<S, C> {
    /// `inner` behind `breaker`, its results classified by `classifier`.
    ///
    /// ```
    /// use breaker_runtime::tower::{CircuitBreakerService, HttpClassifier};
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-service-new").build();
    /// let svc = CircuitBreakerService::new((), breaker, HttpClassifier::default());
    /// # let _ = svc;
    /// ```
    pub fn new(inner: S, breaker: Arc<CircuitBreaker>, classifier: C) -> Self {
        CircuitBreakerService {
            inner,
            breaker,
            classifier,
            bypassed: false,
        }
    }

    /// The breaker in front of the service.
    ///
    /// ```
    /// use breaker_runtime::tower::{CircuitBreakerService, DefaultClassifier};
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-service-b").build();
    /// let svc = CircuitBreakerService::new((), breaker, DefaultClassifier);
    /// assert_eq!(svc.breaker().name(), "docs-service-b");
    /// ```
    pub fn breaker(&self) -> &Arc<CircuitBreaker> {
        &self.breaker
    }

    /// The wrapped service.
    ///
    /// ```
    /// use breaker_runtime::tower::{CircuitBreakerService, DefaultClassifier};
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-service-i").build();
    /// let svc = CircuitBreakerService::new(7, breaker, DefaultClassifier);
    /// assert_eq!(*svc.get_ref(), 7);
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    ///
    /// ```
    /// use breaker_runtime::tower::{CircuitBreakerService, DefaultClassifier};
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-service-m").build();
    /// let mut svc = CircuitBreakerService::new(7, breaker, DefaultClassifier);
    /// *svc.get_mut() += 1;
    /// assert_eq!(svc.into_inner(), 8);
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The wrapped service, unwrapped.
    ///
    /// ```
    /// use breaker_runtime::tower::{CircuitBreakerService, DefaultClassifier};
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-service-ii").build();
    /// assert_eq!(CircuitBreakerService::new(7, breaker, DefaultClassifier).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, C, Req> Service<Req> for CircuitBreakerService<S, C>
where
    S: Service<Req>,
    C: Classify<S::Response, S::Error> + Clone,
{
    type Response = S::Response;
    type Error = CallError<S::Error>;
    type Future = ResponseFuture<S::Future, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // While the breaker rejects, the call will not reach the inner service: do not wait
        // for it (a saturated limit or buffer may never be ready).
        if rejecting(&self.breaker) {
            self.bypassed = true;
            return Poll::Ready(Ok(()));
        }
        self.bypassed = false;
        match self.inner.poll_ready(cx) {
            Poll::Ready(Err(e)) => {
                // The service cannot take calls (a dead buffer worker, a closed pool): each
                // such answer is a call that failed.
                let result = Err(e);
                if let Ok(permit) = OwnedPermit::acquire(&self.breaker) {
                    permit.finish(self.classifier.classify(&result), false);
                }
                let Err(e) = result else { unreachable!() };
                Poll::Ready(Err(CallError::Inner(e)))
            }
            other => other.map_err(CallError::Inner),
        }
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let bypassed = std::mem::take(&mut self.bypassed);
        match OwnedPermit::acquire(&self.breaker) {
            // Admitted, but the inner service was never asked whether it is ready: the
            // breaker let calls in again since `poll_ready`. Not a call: give the slot back
            // and answer as the breaker did then.
            Ok(permit) if bypassed => {
                permit.release();
                ResponseFuture::rejected(
                    BreakerError::Open {
                        name: self.breaker.shared_name().clone(),
                        retry_after: Duration::ZERO,
                    },
                    self.classifier.clone(),
                )
            }
            Ok(permit) => {
                let timeout = self.breaker.in_force().call_timeout;
                ResponseFuture::admitted(
                    self.inner.call(req),
                    permit,
                    timeout,
                    self.classifier.clone(),
                )
            }
            Err(e) => ResponseFuture::rejected(e, self.classifier.clone()),
        }
    }
}

/// Whether `breaker` rejects every call now, known without taking a permit: open before its
/// deadline, or forced open. A half-open breaker is left to `call`: whether a probe slot is
/// free is known only under its lock.
fn rejecting(breaker: &CircuitBreaker) -> bool {
    matches!(breaker.state(), State::Open | State::ForcedOpen)
}
