//! Breaker settings in the core: [`BreakerConfig`] (each setting set or left to a lower
//! layer) and its builder, the resolved [`Settings`] a breaker runs with, the [`Window`] the
//! rates are measured over, and how layers are laid over each other.
//!
//! A config records only what was set, so layers can be stacked, low to high: built-in
//! defaults, a config file's `[default]` table, the attribute's arguments (or the builder's
//! calls), the breaker's own `[breakers."name"]` table, the environment. The stack is resolved
//! once into concrete, validated settings when a breaker is created, and again when a load
//! reconfigures it. Reading files and the environment is the `config` integration's job
//! (`crate::config`); this module knows nothing of it.

pub(crate) mod overlay;
mod resolved;
mod window;

pub(crate) use overlay::Layers;
pub use overlay::SettingSource;
pub use resolved::Settings;
pub use window::Window;

use crate::backoff::Backoff;
use crate::permit::Outcome;
use std::any::{Any, TypeId};
use std::fmt;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// A function of a call's error (a predicate) or of its whole result (a classifier), stored
/// without the type so a config can carry it; it answers `None` for a value of another type.
pub(crate) struct Erased<Out> {
    f: Arc<ErasedFn<Out>>,
    /// The function's type, when it is zero-sized (a `fn` item, a closure that captures
    /// nothing): then two of the same type are the same function, and configs made twice
    /// from it (by one helper, say) compare equal.
    stateless: Option<TypeId>,
}

type ErasedFn<Out> = dyn Fn(&dyn Any) -> Option<Out> + Send + Sync;

/// `failure_if` / `ignore_if`: a function of the error.
pub(crate) type ErasedPredicate = Erased<bool>;

/// The builder's `classify`: a function of the whole `Result<T, E>`.
pub(crate) type ErasedClassifier = Erased<Outcome>;

impl<Out: 'static> Erased<Out> {
    pub(crate) fn new<A: 'static, F>(f: F) -> Self
    where
        F: Fn(&A) -> Out + Send + Sync + 'static,
    {
        Erased {
            stateless: (std::mem::size_of::<F>() == 0).then(TypeId::of::<F>),
            f: Arc::new(move |a: &dyn Any| a.downcast_ref::<A>().map(&f)),
        }
    }

    /// `None` when the function was written for another type.
    pub(crate) fn test(&self, value: &dyn Any) -> Option<Out> {
        (self.f)(value)
    }
}

impl ErasedPredicate {
    /// A predicate the attribute asks itself, per call, with the error type its expansion
    /// knows: kept here only so the breaker's settings show it set. It answers for no type.
    /// One allocation for every breaker, so configs that carry it stay equal.
    pub(crate) fn in_the_attribute() -> Self {
        static IT: LazyLock<ErasedPredicate> = LazyLock::new(Erased::answering_nothing);
        IT.clone()
    }
}

impl<Out> Erased<Out> {
    fn answering_nothing() -> Self {
        Erased {
            f: Arc::new(|_: &dyn Any| None),
            stateless: None,
        }
    }

    /// Whether this is a mark [`BreakerConfig::judged_in_the_attribute`] left.
    fn is_mark_of(&self, mark: &Self) -> bool {
        Arc::ptr_eq(&self.f, &mark.f)
    }
}

impl ErasedClassifier {
    /// As [`ErasedPredicate::in_the_attribute`], for the attribute's `classify`.
    pub(crate) fn in_the_attribute() -> Self {
        static IT: LazyLock<ErasedClassifier> = LazyLock::new(Erased::answering_nothing);
        IT.clone()
    }
}

// By hand: a derive would ask `Out: Clone` / `Out: PartialEq`, which the shared function
// does not need.
impl<Out> Clone for Erased<Out> {
    fn clone(&self) -> Self {
        Erased {
            f: Arc::clone(&self.f),
            stateless: self.stateless,
        }
    }
}

impl<Out> PartialEq for Erased<Out> {
    fn eq(&self, other: &Self) -> bool {
        match (self.stateless, other.stateless) {
            (Some(a), Some(b)) => a == b,
            _ => Arc::ptr_eq(&self.f, &other.f),
        }
    }
}

impl<Out> fmt::Debug for Erased<Out> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<function>")
    }
}

/// Settings for a breaker, each either set or left to a lower layer.
///
/// Built with [`BreakerConfig::builder`]; every `#[circuit_breaker]` setting is a builder
/// method of the same name. [`CircuitBreaker::builder`](crate::CircuitBreaker::builder)
/// takes the same methods (but `fallback` and `crate`, which only the attribute has).
///
/// ```
/// use breaker_runtime::{registry, BreakerConfig, Backoff};
/// use std::time::Duration;
///
/// let config = BreakerConfig::builder()
///     .failure_rate(0.5)
///     .minimum_calls(20)
///     .window(Duration::from_secs(60))
///     .reset_timeout(Duration::from_secs(10))
///     .backoff(Backoff::exponential(2.0).max(Duration::from_secs(300)))
///     .build();
/// let breaker = registry().get_or_create("docs-config", config);
/// assert_eq!(breaker.name(), "docs-config");
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BreakerConfig {
    pub(crate) failure_threshold: Option<u32>,
    pub(crate) failure_rate: Option<f64>,
    pub(crate) minimum_calls: Option<u32>,
    pub(crate) window: Option<Window>,
    pub(crate) slow_call: Option<Duration>,
    pub(crate) slow_call_rate: Option<f64>,
    pub(crate) success_threshold: Option<u32>,
    pub(crate) half_open_max_calls: Option<u32>,
    pub(crate) reset_timeout: Option<Duration>,
    pub(crate) backoff: Option<Backoff>,
    pub(crate) half_open_timeout: Option<Duration>,
    pub(crate) call_timeout: Option<Duration>,
    pub(crate) failure_if: Option<ErasedPredicate>,
    pub(crate) ignore_if: Option<ErasedPredicate>,
    pub(crate) classify: Option<ErasedClassifier>,
}

/// Generates the setter methods shared by both builders, so the two cannot drift apart.
macro_rules! setters {
    ($($path:ident).+) => {
        /// Consecutive failures that open the breaker (at least 1; default 5 when no
        /// `failure_rate` is set).
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().failure_threshold(3).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").failure_threshold(3).try_build().unwrap();
        /// ```
        pub fn failure_threshold(mut self, n: u32) -> Self {
            self.$($path).+.failure_threshold = Some(n);
            self
        }
        /// Opens when failures / recorded calls in the window reach this, in (0, 1].
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().failure_rate(0.5).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").failure_rate(0.5).try_build().unwrap();
        /// ```
        pub fn failure_rate(mut self, rate: f64) -> Self {
            self.$($path).+.failure_rate = Some(rate);
            self
        }
        /// Calls the window must hold before a rate can open the breaker (default 10).
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().failure_rate(0.5).minimum_calls(20).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").failure_rate(0.5).minimum_calls(20).try_build().unwrap();
        /// ```
        pub fn minimum_calls(mut self, n: u32) -> Self {
            self.$($path).+.minimum_calls = Some(n);
            self
        }
        /// The window for the rates: a call count (`100`, the default) or a `Duration`.
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().failure_rate(0.5).window(std::time::Duration::from_secs(60)).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").failure_rate(0.5).window(std::time::Duration::from_secs(60)).try_build().unwrap();
        /// ```
        pub fn window(mut self, window: impl Into<$crate::Window>) -> Self {
            self.$($path).+.window = Some(window.into());
            self
        }
        /// A call that takes at least this long is slow.
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().slow_call(std::time::Duration::from_secs(2)).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").slow_call(std::time::Duration::from_secs(2)).try_build().unwrap();
        /// ```
        pub fn slow_call(mut self, threshold: Duration) -> Self {
            self.$($path).+.slow_call = Some(threshold);
            self
        }
        /// Opens when slow calls / recorded calls in the window reach this (default 1.0
        /// once `slow_call` is set).
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().slow_call(std::time::Duration::from_secs(2)).slow_call_rate(0.8).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").slow_call(std::time::Duration::from_secs(2)).slow_call_rate(0.8).try_build().unwrap();
        /// ```
        pub fn slow_call_rate(mut self, rate: f64) -> Self {
            self.$($path).+.slow_call_rate = Some(rate);
            self
        }
        /// Successes in half-open that close the breaker (default 2).
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().success_threshold(3).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").success_threshold(3).try_build().unwrap();
        /// ```
        pub fn success_threshold(mut self, n: u32) -> Self {
            self.$($path).+.success_threshold = Some(n);
            self
        }
        /// Calls let through at once in half-open (default: `success_threshold`).
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().half_open_max_calls(1).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").half_open_max_calls(1).try_build().unwrap();
        /// ```
        pub fn half_open_max_calls(mut self, n: u32) -> Self {
            self.$($path).+.half_open_max_calls = Some(n);
            self
        }
        /// How long the breaker stays open before letting probes through (default 30 s).
        /// Breakers keep time in whole milliseconds: a wait with a fraction of a millisecond
        /// (after the backoff) is rounded up to the next one, so it never ends early.
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().reset_timeout(std::time::Duration::from_secs(10)).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").reset_timeout(std::time::Duration::from_secs(10)).try_build().unwrap();
        /// ```
        pub fn reset_timeout(mut self, timeout: Duration) -> Self {
            self.$($path).+.reset_timeout = Some(timeout);
            self
        }
        /// How `reset_timeout` grows with each re-open (default [`Backoff::fixed`](crate::Backoff::fixed)).
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().backoff(breaker_runtime::Backoff::exponential(2.0)).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").backoff(breaker_runtime::Backoff::exponential(2.0)).try_build().unwrap();
        /// ```
        pub fn backoff(mut self, backoff: $crate::Backoff) -> Self {
            self.$($path).+.backoff = Some(backoff);
            self
        }
        /// A probe with no verdict this long after it was let in re-opens the breaker at that
        /// instant (default 60 s), so a probe that never finishes cannot wedge it. Each probe's
        /// timeout runs from its own admission; the new open period counts from the timeout.
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().half_open_timeout(std::time::Duration::from_secs(30)).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").half_open_timeout(std::time::Duration::from_secs(30)).try_build().unwrap();
        /// ```
        pub fn half_open_timeout(mut self, timeout: Duration) -> Self {
            self.$($path).+.half_open_timeout = Some(timeout);
            self
        }
        /// Cuts an async call running this long; it counts as a failure and ends in
        /// [`BreakerError::TimedOut`](crate::BreakerError::TimedOut). Needs a tokio runtime
        /// with timers.
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().call_timeout(std::time::Duration::from_millis(500)).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").call_timeout(std::time::Duration::from_millis(500)).try_build().unwrap();
        /// ```
        pub fn call_timeout(mut self, timeout: Duration) -> Self {
            self.$($path).+.call_timeout = Some(timeout);
            self
        }
        /// Which errors count as failures; the others count as successes, since the
        /// dependency answered. Applies to calls whose error type is `E`.
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().failure_if(|e: &std::io::Error| e.kind() != std::io::ErrorKind::NotFound).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").failure_if(|e: &std::io::Error| e.kind() != std::io::ErrorKind::NotFound).try_build().unwrap();
        /// ```
        pub fn failure_if<E: 'static>(
            mut self,
            predicate: impl Fn(&E) -> bool + Send + Sync + 'static,
        ) -> Self {
            self.$($path).+.failure_if = Some($crate::settings::ErasedPredicate::new(predicate));
            self
        }
        /// Errors that are not recorded at all (a half-open permit is given back). Applies
        /// to calls whose error type is `E`.
        ///
        /// ```
        /// let config = breaker_runtime::BreakerConfig::builder().ignore_if(|e: &std::io::Error| e.kind() == std::io::ErrorKind::InvalidInput).build();
        /// breaker_runtime::CircuitBreaker::builder("docs").ignore_if(|e: &std::io::Error| e.kind() == std::io::ErrorKind::InvalidInput).try_build().unwrap();
        /// ```
        pub fn ignore_if<E: 'static>(
            mut self,
            predicate: impl Fn(&E) -> bool + Send + Sync + 'static,
        ) -> Self {
            self.$($path).+.ignore_if = Some($crate::settings::ErasedPredicate::new(predicate));
            self
        }
        /// The whole verdict on a call's result, for dependencies whose `Ok` can be an
        /// outage (an HTTP client's `Ok(response)` with status 503): `Outcome::Success`,
        /// `Failure` or `Ignored`. Applies to the [`call`](crate::CircuitBreaker::call)s and
        /// [`call_sync`](crate::CircuitBreaker::call_sync)s whose result is a
        /// `Result<T, E>`, in place of `failure_if` / `ignore_if` (a breaker given both
        /// is refused by `try_build`). The caller still gets the result as it is. The tower
        /// layer judges responses with its own classifier
        /// (`CircuitBreakerLayer::classifier`), and an annotated function with its own
        /// arguments, whatever the breaker they share was built with.
        ///
        /// ```
        /// use breaker_runtime::{CircuitBreaker, Outcome, State};
        ///
        /// struct Response { status: u16 }
        ///
        /// fn by_status(result: &Result<Response, std::io::Error>) -> Outcome {
        ///     match result {
        ///         Ok(r) if r.status >= 500 => Outcome::Failure,
        ///         Ok(r) if r.status >= 400 => Outcome::Ignored,
        ///         Ok(_) => Outcome::Success,
        ///         Err(_) => Outcome::Failure,
        ///     }
        /// }
        ///
        /// let breaker = CircuitBreaker::builder("docs-classify").failure_threshold(1).classify(by_status).build();
        /// let answer = breaker.call_sync(|| Ok::<_, std::io::Error>(Response { status: 503 }));
        /// assert_eq!(answer.unwrap().status, 503, "the caller gets the response as it is");
        /// assert_eq!(breaker.state(), State::Open, "and the breaker counted it a failure");
        /// # let _ = breaker_runtime::BreakerConfig::builder().classify(by_status).build();
        /// ```
        pub fn classify<T: 'static, E: 'static>(
            mut self,
            verdict: impl Fn(&Result<T, E>) -> $crate::Outcome + Send + Sync + 'static,
        ) -> Self {
            self.$($path).+.classify = Some($crate::settings::ErasedClassifier::new(verdict));
            self
        }
    };
}
pub(crate) use setters;

impl BreakerConfig {
    /// This config with the functions the attribute was given (it asks them itself, per
    /// call) marked set, so the settings and the admin routes show them, as set in code.
    pub(crate) fn judged_in_the_attribute(
        mut self,
        failure_if: bool,
        ignore_if: bool,
        classify: bool,
    ) -> Self {
        self.failure_if = failure_if.then(ErasedPredicate::in_the_attribute);
        self.ignore_if = ignore_if.then(ErasedPredicate::in_the_attribute);
        self.classify = classify.then(ErasedClassifier::in_the_attribute);
        self
    }
}

impl BreakerConfig {
    /// This config without the marks [`judged_in_the_attribute`](Self::judged_in_the_attribute)
    /// leaves: the settings the breaker itself runs with, for telling two configs apart (an
    /// attribute's `failure_if` is its function's own, asked per call).
    pub(crate) fn without_attribute_marks(&self) -> BreakerConfig {
        let predicate = ErasedPredicate::in_the_attribute();
        let classifier = ErasedClassifier::in_the_attribute();
        let mut config = self.clone();
        for p in [&mut config.failure_if, &mut config.ignore_if] {
            if p.as_ref().is_some_and(|f| f.is_mark_of(&predicate)) {
                *p = None;
            }
        }
        if config
            .classify
            .as_ref()
            .is_some_and(|f| f.is_mark_of(&classifier))
        {
            config.classify = None;
        }
        config
    }
}

/// Builds a [`BreakerConfig`]; see there for an example.
#[derive(Debug, Clone, Default)]
pub struct BreakerConfigBuilder {
    config: BreakerConfig,
}

impl BreakerConfigBuilder {
    setters!(config);

    /// The finished config. Values are checked when a breaker is made from it.
    pub fn build(self) -> BreakerConfig {
        self.config
    }
}

impl BreakerConfig {
    /// A builder with nothing set.
    ///
    /// ```
    /// let config = breaker_runtime::BreakerConfig::builder().failure_threshold(3).build();
    /// assert_eq!(config.get_failure_threshold(), Some(3));
    /// ```
    pub fn builder() -> BreakerConfigBuilder {
        BreakerConfigBuilder::default()
    }

    /// The `failure_threshold` set on this layer, if any.
    ///
    /// ```
    /// assert_eq!(breaker_runtime::BreakerConfig::default().get_failure_threshold(), None);
    /// ```
    pub fn get_failure_threshold(&self) -> Option<u32> {
        self.failure_threshold
    }
}
