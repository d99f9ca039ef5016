//! A tower [`Layer`] that puts a service behind a circuit breaker (feature `tower`).
//!
//! [`CircuitBreakerLayer`] wraps any [`Service`]: an axum or hyper client, a tonic channel,
//! a route of your own. Each request is one call through the breaker: it is admitted when
//! the service is called, its result is classified by a [`Classify`] and recorded, and a
//! rejected request never reaches the inner service. The service's error becomes
//! [`CallError<S::Error>`](CallError): [`CallError::Breaker`] for a rejection or a
//! `call_timeout`, [`CallError::Inner`] for the inner service's own error.
//!
//! `poll_ready` takes no permit, so none can be lost between readiness and the call. While
//! the breaker rejects every call (open before its reset timeout, or forced open) it is ready
//! at once without asking the inner service, and `call` rejects: an open breaker fails fast
//! even in front of a saturated `ConcurrencyLimit` or a full `Buffer` (a tonic `Channel` is
//! one). Otherwise it asks the inner service; an error there (a buffer whose worker died)
//! is returned as [`CallError::Inner`] and recorded as a failed call. If the breaker lets
//! calls in again between a `poll_ready` that did not ask the inner service and the `call`,
//! the call is rejected as `Open` with a `retry_after` of zero and counts as nothing.
//!
//! ```
//! use breaker_runtime::tower::CircuitBreakerLayer;
//! use breaker_runtime::{CallError, CircuitBreaker, State};
//! use tower::{service_fn, Layer, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let breaker = CircuitBreaker::builder("docs-tower").failure_threshold(2).build();
//! let layer = CircuitBreakerLayer::new(breaker.clone());
//! let flaky = layer.layer(service_fn(|n: u32| async move {
//!     if n % 2 == 0 { Ok(n) } else { Err("odd") }
//! }));
//!
//! assert_eq!(flaky.clone().oneshot(2).await.unwrap(), 2);
//! for n in [1, 3] {
//!     assert!(matches!(flaky.clone().oneshot(n).await, Err(CallError::Inner("odd"))));
//! }
//! assert_eq!(breaker.state(), State::Open);
//! // Rejected without calling the service.
//! assert!(flaky.clone().oneshot(4).await.unwrap_err().is_circuit_open());
//! # }
//! ```
//!
//! With axum on the server side, [`HandleErrorLayer`] turns the error into a response; with
//! the `axum` feature, [`CallError`] and [`BreakerError`] answer `503 Service Unavailable`
//! with a `Retry-After` header themselves (see the `admin` module).
//!
//! [`HandleErrorLayer`]: https://docs.rs/axum/0.8/axum/error_handling/struct.HandleErrorLayer.html

use crate::breaker::CircuitBreaker;
use crate::error::{BreakerError, CallError};
use crate::owned::{FailOnUnwind, OwnedPermit};
use crate::permit::Outcome;
use crate::registry::registry;
use crate::state::State;
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Sleep;
pub use tower_layer::Layer;
pub use tower_service::Service;

/// Decides how a finished request counts: a success, a failure, or not at all.
///
/// Implemented by [`DefaultClassifier`] (every `Err` fails), [`HttpClassifier`] (errors and
/// 5xx responses fail), [`GrpcClassifier`] (errors, 5xx and failing `grpc-status` codes) and
/// by any `Fn(&Result<T, E>) -> Outcome`:
///
/// ```
/// use breaker_runtime::tower::{CircuitBreakerLayer, Classify};
/// use breaker_runtime::{CircuitBreaker, Outcome};
///
/// // Timeouts fail; other errors mean the dependency answered.
/// let classify = |r: &Result<u32, std::io::Error>| match r {
///     Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Outcome::Failure,
///     _ => Outcome::Success,
/// };
/// assert_eq!(classify.classify(&Err(std::io::ErrorKind::NotFound.into())), Outcome::Success);
/// let layer = CircuitBreakerLayer::new(CircuitBreaker::builder("docs-classify").build())
///     .classifier(classify);
/// # let _ = layer;
/// ```
pub trait Classify<T, E> {
    /// The outcome to record for `result`.
    fn classify(&self, result: &Result<T, E>) -> Outcome;
}

impl<T, E, F> Classify<T, E> for F
where
    F: Fn(&Result<T, E>) -> Outcome,
{
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        self(result)
    }
}

/// `Ok` is a success and every `Err` a failure, as for `#[circuit_breaker]` without
/// `failure_if`.
///
/// ```
/// use breaker_runtime::tower::{Classify, DefaultClassifier};
/// use breaker_runtime::Outcome;
///
/// assert_eq!(DefaultClassifier.classify(&Ok::<_, ()>(1)), Outcome::Success);
/// assert_eq!(DefaultClassifier.classify(&Err::<u8, _>(())), Outcome::Failure);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefaultClassifier;

impl<T, E> Classify<T, E> for DefaultClassifier {
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        match result {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        }
    }
}

/// For HTTP services: every `Err` (connection refused, reset, …) is a failure, and so is a
/// response whose status the predicate picks: by default every `5xx`. Other responses,
/// `4xx` included, are successes: the dependency answered.
///
/// The verdict is given when the response head arrives; a body that fails later is not seen.
///
/// ```
/// use breaker_runtime::tower::{Classify, HttpClassifier};
/// use breaker_runtime::Outcome;
/// use http::{Response, StatusCode};
///
/// let status = |s: u16| Ok::<_, ()>(Response::builder().status(s).body(()).unwrap());
/// let http = HttpClassifier::default();
/// assert_eq!(http.classify(&status(503)), Outcome::Failure);
/// assert_eq!(http.classify(&status(404)), Outcome::Success);
///
/// // Rate limiting counts as a failure too.
/// let strict = HttpClassifier::new(|s| s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS);
/// assert_eq!(strict.classify(&status(429)), Outcome::Failure);
/// ```
#[derive(Clone, Copy)]
pub struct HttpClassifier {
    is_failure: fn(http::StatusCode) -> bool,
}

impl fmt::Debug for HttpClassifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClassifier").finish_non_exhaustive()
    }
}

impl HttpClassifier {
    /// Errors and responses whose status `is_failure` picks are failures.
    ///
    /// ```
    /// let only_503 = breaker_runtime::tower::HttpClassifier::new(|s| s.as_u16() == 503);
    /// # let _ = only_503;
    /// ```
    pub fn new(is_failure: fn(http::StatusCode) -> bool) -> HttpClassifier {
        HttpClassifier { is_failure }
    }

    /// Errors and `5xx` responses are failures (the default).
    ///
    /// ```
    /// let http = breaker_runtime::tower::HttpClassifier::server_errors();
    /// # let _ = http;
    /// ```
    pub fn server_errors() -> HttpClassifier {
        HttpClassifier::new(|s| s.is_server_error())
    }
}

impl Default for HttpClassifier {
    fn default() -> HttpClassifier {
        HttpClassifier::server_errors()
    }
}

impl<B, E> Classify<http::Response<B>, E> for HttpClassifier {
    fn classify(&self, result: &Result<http::Response<B>, E>) -> Outcome {
        match result {
            Ok(response) if !(self.is_failure)(response.status()) => Outcome::Success,
            _ => Outcome::Failure,
        }
    }
}

/// For gRPC clients (a tonic `Channel`, or any gRPC-over-HTTP/2 service): every `Err`, every
/// `5xx`, and every response whose `grpc-status` the predicate picks are failures. By default
/// those are the codes that say the server could not serve the call: `DEADLINE_EXCEEDED` (4),
/// `RESOURCE_EXHAUSTED` (8), `INTERNAL` (13) and `UNAVAILABLE` (14). Other codes
/// (`NOT_FOUND`, `INVALID_ARGUMENT`, …) are answers, so successes.
///
/// A server puts `grpc-status` in the response head when it fails a call before sending any
/// message ("trailers-only"), which is how most errors arrive. A status sent in the trailers,
/// after streamed messages, comes after the head and is not seen here.
///
/// A response that is not `200` and has no `grpc-status` (a proxy or load balancer answered)
/// gets the code gRPC clients give it, and the predicate decides on that code: `400` is
/// `INTERNAL`, `401` `UNAUTHENTICATED`, `403` `PERMISSION_DENIED`, `404` `UNIMPLEMENTED`,
/// `429`, `502`, `503` and `504` `UNAVAILABLE`, any other `UNKNOWN`. By default `400` and
/// `429` are failures then, as every `5xx` is.
///
/// ```
/// use breaker_runtime::tower::{Classify, GrpcClassifier};
/// use breaker_runtime::Outcome;
/// use http::Response;
///
/// let grpc = |code: &str| {
///     Ok::<_, ()>(Response::builder().header("grpc-status", code).body(()).unwrap())
/// };
/// let classifier = GrpcClassifier::default();
/// assert_eq!(classifier.classify(&grpc("14")), Outcome::Failure); // UNAVAILABLE
/// assert_eq!(classifier.classify(&grpc("5")), Outcome::Success); // NOT_FOUND
/// let no_status = Ok::<_, ()>(Response::new(())); // the status comes in the trailers
/// assert_eq!(classifier.classify(&no_status), Outcome::Success);
/// let throttled = Ok::<_, ()>(Response::builder().status(429).body(()).unwrap());
/// assert_eq!(classifier.classify(&throttled), Outcome::Failure); // UNAVAILABLE
/// ```
#[derive(Clone, Copy)]
pub struct GrpcClassifier {
    is_failure: fn(i32) -> bool,
}

impl fmt::Debug for GrpcClassifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrpcClassifier").finish_non_exhaustive()
    }
}

impl GrpcClassifier {
    /// Errors, `5xx`, and responses whose `grpc-status` code `is_failure` picks are failures.
    ///
    /// ```
    /// // Only UNAVAILABLE.
    /// let strict = breaker_runtime::tower::GrpcClassifier::new(|code| code == 14);
    /// # let _ = strict;
    /// ```
    pub fn new(is_failure: fn(i32) -> bool) -> GrpcClassifier {
        GrpcClassifier { is_failure }
    }
}

impl Default for GrpcClassifier {
    /// `DEADLINE_EXCEEDED`, `RESOURCE_EXHAUSTED`, `INTERNAL` and `UNAVAILABLE` are failures.
    fn default() -> GrpcClassifier {
        GrpcClassifier::new(|code| matches!(code, 4 | 8 | 13 | 14))
    }
}

impl<B, E> Classify<http::Response<B>, E> for GrpcClassifier {
    fn classify(&self, result: &Result<http::Response<B>, E>) -> Outcome {
        let Ok(response) = result else {
            return Outcome::Failure;
        };
        if response.status().is_server_error() {
            return Outcome::Failure;
        }
        let code = response
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i32>().ok())
            .or_else(|| grpc_code_of_http(response.status()));
        match code {
            Some(code) if (self.is_failure)(code) => Outcome::Failure,
            _ => Outcome::Success,
        }
    }
}

/// The gRPC code a client gives a response that carries no `grpc-status`, from its HTTP
/// status, as gRPC's "HTTP to gRPC status code mapping" says; `None` for `200`, whose status
/// comes in the trailers.
fn grpc_code_of_http(status: http::StatusCode) -> Option<i32> {
    Some(match status.as_u16() {
        200 => return None,
        400 => 13,             // INTERNAL
        401 => 16,             // UNAUTHENTICATED
        403 => 7,              // PERMISSION_DENIED
        404 => 12,             // UNIMPLEMENTED
        429 | 502..=504 => 14, // UNAVAILABLE
        _ => 2,                // UNKNOWN
    })
}

/// Puts services behind one circuit breaker; see the [module docs](self).
///
/// Every service the layer makes shares the breaker, so a client cloned per request (as
/// tower clients are) still feeds one breaker.
///
/// # Timeouts
///
/// Bound slow calls with the breaker's own `call_timeout`, or with tower's `Timeout` *inside*
/// the breaker: either way a call that hangs ends as a failure and a hung dependency opens
/// the breaker. A `Timeout` *outside* the breaker drops the breaker's response future when it
/// fires, and a dropped call counts as cancelled, not failed (by design: the caller gave up,
/// the dependency did not fail), so a dependency that hangs never opens it.
///
/// ```
/// use breaker_runtime::tower::CircuitBreakerLayer;
/// use breaker_runtime::CircuitBreaker;
/// use std::time::Duration;
/// use tower::ServiceBuilder;
///
/// // Right: the breaker's own timeout (a cut call is a failure, `BreakerError::TimedOut`).
/// let breaker = CircuitBreaker::builder("docs-layer-timeout")
///     .call_timeout(Duration::from_secs(2))
///     .build();
/// let _own = ServiceBuilder::new().layer(CircuitBreakerLayer::new(breaker));
///
/// // Right: tower's `Timeout` inside the breaker (its `Elapsed` error is a failure).
/// let _inside = ServiceBuilder::new()
///     .layer(CircuitBreakerLayer::named("docs-layer-timeout-inside"))
///     .timeout(Duration::from_secs(2));
///
/// // Wrong: a hung dependency never opens the breaker; every call counts as cancelled.
/// let _outside = ServiceBuilder::new()
///     .timeout(Duration::from_secs(2))
///     .layer(CircuitBreakerLayer::named("docs-layer-timeout-outside"));
/// ```
///
/// ```
/// use breaker_runtime::tower::CircuitBreakerLayer;
/// use breaker_runtime::CircuitBreaker;
///
/// let by_breaker = CircuitBreakerLayer::new(CircuitBreaker::builder("docs-layer").build());
/// let by_name = CircuitBreakerLayer::named("docs-layer-registry"); // the registry's breaker
/// let http = CircuitBreakerLayer::named("docs-layer-http").http(); // 5xx are failures
/// assert_eq!(by_name.breaker().name(), "docs-layer-registry");
/// # let _ = (by_breaker, http);
/// ```
#[derive(Debug, Clone)]
pub struct CircuitBreakerLayer<C = DefaultClassifier> {
    breaker: Arc<CircuitBreaker>,
    classifier: C,
}

impl CircuitBreakerLayer<DefaultClassifier> {
    /// A layer over `breaker`, where every `Err` is a failure.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-layer-new").build();
    /// let layer = breaker_runtime::tower::CircuitBreakerLayer::new(breaker);
    /// # let _ = layer;
    /// ```
    pub fn new(breaker: Arc<CircuitBreaker>) -> Self {
        CircuitBreakerLayer {
            breaker,
            classifier: DefaultClassifier,
        }
    }

    /// A layer over the global registry's breaker `name`, joined without stating settings:
    /// a breaker that exists is taken as it is, and one that does not is created with the
    /// default settings (and whatever config files and the environment say) until code that
    /// states settings asks for it: `#[circuit_breaker(name = "…", …)]`'s first call or
    /// [`Registry::get_or_create`](crate::Registry::get_or_create) then gives it theirs,
    /// once, keeping its state. So `#[circuit_breaker]` functions and this layer share one
    /// breaker with the attribute's settings, whichever comes first.
    ///
    /// ```
    /// let layer = breaker_runtime::tower::CircuitBreakerLayer::named("docs-layer-named");
    /// assert!(breaker_runtime::registry().get("docs-layer-named").is_some());
    /// # let _ = layer;
    /// ```
    pub fn named(name: &str) -> Self {
        CircuitBreakerLayer::new(crate::registry_join::join(registry(), name))
    }
}

impl<C> CircuitBreakerLayer<C> {
    /// Classifies results with `classifier` instead.
    ///
    /// ```
    /// use breaker_runtime::tower::{CircuitBreakerLayer, HttpClassifier};
    /// let layer = CircuitBreakerLayer::named("docs-layer-cls").classifier(HttpClassifier::default());
    /// # let _ = layer;
    /// ```
    pub fn classifier<C2>(self, classifier: C2) -> CircuitBreakerLayer<C2> {
        CircuitBreakerLayer {
            breaker: self.breaker,
            classifier,
        }
    }

    /// Classifies HTTP responses: errors and `5xx` statuses are failures
    /// ([`HttpClassifier::default`]).
    ///
    /// ```
    /// let layer = breaker_runtime::tower::CircuitBreakerLayer::named("docs-layer-h").http();
    /// # let _ = layer;
    /// ```
    pub fn http(self) -> CircuitBreakerLayer<HttpClassifier> {
        self.classifier(HttpClassifier::default())
    }

    /// Classifies gRPC responses ([`GrpcClassifier::default`]): errors, `5xx`, and the
    /// `grpc-status` codes that mean the server could not serve the call are failures.
    ///
    /// ```
    /// let layer = breaker_runtime::tower::CircuitBreakerLayer::named("docs-layer-g").grpc();
    /// # let _ = layer;
    /// ```
    pub fn grpc(self) -> CircuitBreakerLayer<GrpcClassifier> {
        self.classifier(GrpcClassifier::default())
    }

    /// The breaker the layer's services share.
    ///
    /// ```
    /// let layer = breaker_runtime::tower::CircuitBreakerLayer::named("docs-layer-b");
    /// assert_eq!(layer.breaker().name(), "docs-layer-b");
    /// ```
    pub fn breaker(&self) -> &Arc<CircuitBreaker> {
        &self.breaker
    }
}

impl<S, C: Clone> Layer<S> for CircuitBreakerLayer<C> {
    type Service = CircuitBreakerService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreakerService::new(inner, self.breaker.clone(), self.classifier.clone())
    }
}

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
                ResponseFuture {
                    timeout: None,
                    inner: None,
                    permit: None,
                    rejected: Some(BreakerError::Open {
                        name: self.breaker.shared_name().clone(),
                        retry_after: Duration::ZERO,
                    }),
                    sleep: None,
                    classifier: self.classifier.clone(),
                }
            }
            Ok(permit) => ResponseFuture {
                timeout: self.breaker.in_force().call_timeout,
                inner: Some(self.inner.call(req)),
                permit: Some(permit),
                rejected: None,
                sleep: None,
                classifier: self.classifier.clone(),
            },
            Err(e) => ResponseFuture {
                timeout: None,
                inner: None,
                permit: None,
                rejected: Some(e),
                sleep: None,
                classifier: self.classifier.clone(),
            },
        }
    }
}

/// Whether `breaker` rejects every call now, known without taking a permit: open before its
/// deadline, or forced open. A half-open breaker is left to `call`: whether a probe slot is
/// free is known only under its lock.
fn rejecting(breaker: &CircuitBreaker) -> bool {
    matches!(breaker.state(), State::Open | State::ForcedOpen)
}

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
                    permit.finish(this.classifier.classify(&result), false);
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
