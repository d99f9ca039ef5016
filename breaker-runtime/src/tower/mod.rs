//! A tower [`Layer`] that puts a service behind a circuit breaker (feature `tower`).
//!
//! [`CircuitBreakerLayer`] wraps any [`Service`]: an axum or hyper client, a tonic channel,
//! a route of your own. Each request is one call through the breaker: it is admitted when
//! the service is called, its result is classified by a [`Classify`] and recorded, and a
//! rejected request never reaches the inner service. The service's error becomes
//! [`CallError<S::Error>`](crate::CallError): [`CallError::Breaker`] for a rejection or a
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
//! [`CircuitBreakerLayer::per_host`] keeps one breaker per host instead, so one failing host
//! does not cut off the others: see [`PerHostLayer`].
//!
//! With axum on the server side, [`HandleErrorLayer`] turns the error into a response; with
//! the `axum` feature, [`CallError`] and [`BreakerError`] answer `503 Service Unavailable`
//! with a `Retry-After` header themselves (see the `admin` module).
//!
//! [`HandleErrorLayer`]: https://docs.rs/axum/0.8/axum/error_handling/struct.HandleErrorLayer.html
//! [`CallError`]: crate::CallError
//! [`CallError::Breaker`]: crate::CallError::Breaker
//! [`CallError::Inner`]: crate::CallError::Inner
//! [`BreakerError`]: crate::BreakerError

// Laid out as tower's own middleware are: the layer and its constructors, the service it makes,
// the service's response future, and the classifiers that say how a result counts; one breaker
// per host is a layer and service of their own (`per_host/`) sharing the future and classifiers.
mod classify;
mod future;
mod layer;
mod per_host;
mod service;

pub use classify::{Classify, DefaultClassifier, GrpcClassifier, HttpClassifier};
pub use future::ResponseFuture;
pub use layer::CircuitBreakerLayer;
pub use per_host::{PerHostLayer, PerHostService};
pub use service::CircuitBreakerService;
pub use tower_layer::Layer;
pub use tower_service::Service;
