//! [`CircuitBreakerLayer`]: the breaker and classifier every service it makes shares.

use super::classify::{DefaultClassifier, GrpcClassifier, HttpClassifier};
use super::per_host::PerHostLayer;
use super::service::CircuitBreakerService;
use crate::breaker::CircuitBreaker;
use crate::registry::registry;
use crate::settings::BreakerConfig;
use std::sync::Arc;
use tower_layer::Layer;

/// Puts services behind one circuit breaker; see the [module docs](crate::tower).
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

    /// A layer with one breaker per host instead of one for all, so one failing host does not
    /// cut off the others: the global registry's [`Family`](crate::Family) `name`, each
    /// member made with `config` and registered as `"<name>/<host:port>"`. See
    /// [`PerHostLayer`] for how the host is read and an example. Layers of one name share
    /// their breakers, as families of one name do.
    ///
    /// ```
    /// use breaker_runtime::tower::CircuitBreakerLayer;
    /// use breaker_runtime::BreakerConfig;
    /// use tower::ServiceBuilder;
    ///
    /// let config = BreakerConfig::builder().failure_threshold(3).build();
    /// let _client = ServiceBuilder::new().layer(CircuitBreakerLayer::per_host("upstream", config).http());
    /// ```
    pub fn per_host(name: &str, config: BreakerConfig) -> PerHostLayer {
        PerHostLayer::new(registry().family(name, config))
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

impl CircuitBreakerLayer<HttpClassifier> {
    /// Honours `Retry-After` (opt-in): a `429` or `503` response carrying it opens the
    /// breaker for that long, at most [`HttpClassifier::RETRY_AFTER_CAP`] (one hour); see
    /// [`HttpClassifier::honour_retry_after`].
    ///
    /// ```
    /// use breaker_runtime::tower::CircuitBreakerLayer;
    /// let layer = CircuitBreakerLayer::named("docs-layer-ra").http().honour_retry_after();
    /// # let _ = layer;
    /// ```
    pub fn honour_retry_after(self) -> Self {
        let classifier = self.classifier.honour_retry_after();
        self.classifier(classifier)
    }
}

impl<S, C: Clone> Layer<S> for CircuitBreakerLayer<C> {
    type Service = CircuitBreakerService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreakerService::new(inner, self.breaker.clone(), self.classifier.clone())
    }
}
