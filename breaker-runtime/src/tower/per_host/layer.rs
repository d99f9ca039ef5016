//! [`PerHostLayer`]: the family of breakers and the classifier every service it makes shares.

use super::service::PerHostService;
use crate::family::Family;
use crate::tower::classify::{DefaultClassifier, GrpcClassifier, HttpClassifier};
use std::sync::Arc;
use tower_layer::Layer;

/// Puts an HTTP service behind one circuit breaker per host, so one failing host does not
/// cut off the others: made by [`CircuitBreakerLayer::per_host`] (or from a [`Family`] of
/// your own with [`PerHostLayer::new`]).
///
/// Each request goes through the family's breaker for the host it is for, registered as
/// `"<family>/<host:port>"` as [`Family::get`] does: the host is the request URI's
/// authority, else its `Host` header, lower-cased, without user info, with the scheme's
/// default port (80, 443) when none is written (a `Host` header without a port gives the
/// host alone). A request that names no host at all goes through one breaker registered
/// under the family's own name ([`Family::unkeyed`]). The family's members come and go by
/// its rule, so the set of breakers stays bounded; see [`Family`].
///
/// The classifier, `call_timeout`, `Retry-After` and the cause of an open work as with
/// [`CircuitBreakerLayer`], per host. One difference: `poll_ready` cannot know the host, so it
/// always asks the inner service, and an error there is returned as
/// [`CallError::Inner`](crate::CallError::Inner) without being recorded; a request to an
/// open host is rejected in `call`, without reaching the inner service.
///
/// ```
/// use breaker_runtime::tower::CircuitBreakerLayer;
/// use breaker_runtime::{registry, BreakerConfig, State};
/// use http::{Request, Response};
/// use std::convert::Infallible;
/// use tower::{service_fn, Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let config = BreakerConfig::builder().failure_threshold(1).build();
/// // A stand-in for an HTTP client: `b.example` answers 503, every other host 200.
/// let client = CircuitBreakerLayer::per_host("docs-per-host", config)
///     .http()
///     .layer(service_fn(|req: Request<()>| async move {
///         let status = if req.uri().host() == Some("b.example") { 503 } else { 200 };
///         Ok::<_, Infallible>(Response::builder().status(status).body(()).unwrap())
///     }));
/// let get = |uri: &str| Request::get(uri).body(()).unwrap();
///
/// assert_eq!(client.clone().oneshot(get("http://b.example/")).await.unwrap().status(), 503);
/// let b = registry().get("docs-per-host/b.example:80").unwrap();
/// assert_eq!(b.state(), State::Open);
/// assert!(client.clone().oneshot(get("http://b.example/")).await.unwrap_err().is_circuit_open());
/// // One failing host does not cut off the others.
/// assert_eq!(client.clone().oneshot(get("http://a.example/")).await.unwrap().status(), 200);
/// assert_eq!(client.family().keys(), ["a.example:80", "b.example:80"]);
/// # }
/// ```
///
/// [`CircuitBreakerLayer`]: crate::tower::CircuitBreakerLayer
/// [`CircuitBreakerLayer::per_host`]: crate::tower::CircuitBreakerLayer::per_host
#[derive(Debug, Clone)]
pub struct PerHostLayer<C = DefaultClassifier> {
    family: Arc<Family<'static>>,
    classifier: C,
}

impl PerHostLayer<DefaultClassifier> {
    /// A layer over `family` (of the global registry, or of one that lives as long as the
    /// program), where every `Err` is a failure: for a family with its own
    /// [`max_members`](Family::max_members) or [`idle_after`](Family::idle_after).
    ///
    /// ```
    /// use breaker_runtime::tower::PerHostLayer;
    /// use breaker_runtime::{registry, BreakerConfig};
    /// use std::time::Duration;
    ///
    /// let hosts = registry()
    ///     .family("docs-per-host-new", BreakerConfig::default())
    ///     .max_members(100)
    ///     .idle_after(Duration::from_secs(60));
    /// let layer = PerHostLayer::new(hosts).http();
    /// assert_eq!(layer.family().name(), "docs-per-host-new");
    /// ```
    pub fn new(family: Family<'static>) -> Self {
        PerHostLayer {
            family: Arc::new(family),
            classifier: DefaultClassifier,
        }
    }
}

impl<C> PerHostLayer<C> {
    /// Classifies results with `classifier` instead, for every host.
    ///
    /// ```
    /// use breaker_runtime::tower::{CircuitBreakerLayer, HttpClassifier};
    /// use breaker_runtime::BreakerConfig;
    /// let strict = HttpClassifier::new(|s| s.is_server_error() || s.as_u16() == 429);
    /// let layer = CircuitBreakerLayer::per_host("docs-per-host-cls", BreakerConfig::default())
    ///     .classifier(strict);
    /// # let _ = layer;
    /// ```
    pub fn classifier<C2>(self, classifier: C2) -> PerHostLayer<C2> {
        PerHostLayer {
            family: self.family,
            classifier,
        }
    }

    /// Classifies HTTP responses: errors and `5xx` statuses are failures
    /// ([`HttpClassifier::default`]).
    ///
    /// ```
    /// use breaker_runtime::{tower::CircuitBreakerLayer, BreakerConfig};
    /// let layer = CircuitBreakerLayer::per_host("docs-per-host-h", BreakerConfig::default()).http();
    /// # let _ = layer;
    /// ```
    pub fn http(self) -> PerHostLayer<HttpClassifier> {
        self.classifier(HttpClassifier::default())
    }

    /// Classifies gRPC responses ([`GrpcClassifier::default`]).
    ///
    /// ```
    /// use breaker_runtime::{tower::CircuitBreakerLayer, BreakerConfig};
    /// let layer = CircuitBreakerLayer::per_host("docs-per-host-g", BreakerConfig::default()).grpc();
    /// # let _ = layer;
    /// ```
    pub fn grpc(self) -> PerHostLayer<GrpcClassifier> {
        self.classifier(GrpcClassifier::default())
    }

    /// The family of breakers, one per host, the layer's services share.
    ///
    /// ```
    /// use breaker_runtime::{tower::CircuitBreakerLayer, BreakerConfig};
    /// let layer = CircuitBreakerLayer::per_host("docs-per-host-f", BreakerConfig::default());
    /// assert!(layer.family().is_empty());
    /// ```
    pub fn family(&self) -> &Family<'static> {
        &self.family
    }
}

impl PerHostLayer<HttpClassifier> {
    /// Honours `Retry-After` (opt-in), per host: a `429` or `503` carrying it opens that
    /// host's breaker for that long; see [`HttpClassifier::honour_retry_after`].
    ///
    /// ```
    /// use breaker_runtime::{tower::CircuitBreakerLayer, BreakerConfig};
    /// let layer = CircuitBreakerLayer::per_host("docs-per-host-ra", BreakerConfig::default())
    ///     .http()
    ///     .honour_retry_after();
    /// # let _ = layer;
    /// ```
    pub fn honour_retry_after(self) -> Self {
        let classifier = self.classifier.honour_retry_after();
        self.classifier(classifier)
    }
}

impl<S, C: Clone> Layer<S> for PerHostLayer<C> {
    type Service = PerHostService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        PerHostService::new(inner, self.family.clone(), self.classifier.clone())
    }
}
