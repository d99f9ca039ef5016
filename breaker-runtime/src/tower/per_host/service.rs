//! [`PerHostService`]: each request admitted by the breaker of the host it is for.

use super::key::host_key;
use crate::family::Family;
use crate::owned::OwnedPermit;
use crate::tower::classify::{Classify, DefaultClassifier};
use crate::tower::future::ResponseFuture;
use crate::CallError;
use http::Request;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_service::Service;

/// A service behind one circuit breaker per host, made by
/// [`PerHostLayer`](super::PerHostLayer); see there.
#[derive(Debug)]
pub struct PerHostService<S, C = DefaultClassifier> {
    inner: S,
    family: Arc<Family<'static>>,
    classifier: C,
}

impl<S: Clone, C: Clone> Clone for PerHostService<S, C> {
    /// A clone is not ready, as tower's services are not: call `poll_ready` on it first.
    fn clone(&self) -> Self {
        PerHostService::new(
            self.inner.clone(),
            self.family.clone(),
            self.classifier.clone(),
        )
    }
}

impl<S, C> PerHostService<S, C> {
    pub(super) fn new(inner: S, family: Arc<Family<'static>>, classifier: C) -> Self {
        PerHostService {
            inner,
            family,
            classifier,
        }
    }

    /// The family of breakers, one per host, the service's requests go through.
    ///
    /// ```
    /// use breaker_runtime::tower::CircuitBreakerLayer;
    /// use breaker_runtime::BreakerConfig;
    /// use tower::Layer;
    ///
    /// let svc = CircuitBreakerLayer::per_host("docs-per-host-svc", BreakerConfig::default()).layer(());
    /// assert_eq!(svc.family().name(), "docs-per-host-svc");
    /// ```
    pub fn family(&self) -> &Family<'static> {
        &self.family
    }

    /// The wrapped service.
    ///
    /// ```
    /// use breaker_runtime::tower::CircuitBreakerLayer;
    /// use breaker_runtime::BreakerConfig;
    /// use tower::Layer;
    ///
    /// let svc = CircuitBreakerLayer::per_host("docs-per-host-ref", BreakerConfig::default()).layer(7);
    /// assert_eq!(*svc.get_ref(), 7);
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, unwrapped.
    ///
    /// ```
    /// use breaker_runtime::tower::CircuitBreakerLayer;
    /// use breaker_runtime::BreakerConfig;
    /// use tower::Layer;
    ///
    /// let svc = CircuitBreakerLayer::per_host("docs-per-host-into", BreakerConfig::default()).layer(7);
    /// assert_eq!(svc.into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, C, B> Service<Request<B>> for PerHostService<S, C>
where
    S: Service<Request<B>>,
    C: Classify<S::Response, S::Error> + Clone,
{
    type Response = S::Response;
    type Error = CallError<S::Error>;
    type Future = ResponseFuture<S::Future, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Which breaker a request goes through is known only from the request, in `call`:
        // readiness is the inner service's, and an error here is no host's failure.
        self.inner.poll_ready(cx).map_err(CallError::Inner)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let breaker = match host_key(&req) {
            Some(host) => self.family.get(&host),
            None => self.family.unkeyed(),
        };
        match OwnedPermit::acquire(&breaker) {
            Ok(permit) => {
                let timeout = breaker.in_force().call_timeout;
                ResponseFuture::admitted(
                    self.inner.call(req),
                    permit,
                    timeout,
                    self.classifier.clone(),
                )
            }
            // The inner service stays ready, for the next request.
            Err(e) => ResponseFuture::rejected(e, self.classifier.clone()),
        }
    }
}
