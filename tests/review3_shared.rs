//! Review 3: the builder's `classify` behind the tower layer, and attribute functions with
//! `failure_if` / `classify` sharing a breaker with builder code.
#![allow(missing_docs)]

mod common;

use breaker_runtime::{circuit_breaker, registry, BreakerConfig, BreakerError, Outcome, State};
use std::time::Duration;

#[derive(Debug, PartialEq)]
pub enum E {
    NotFound,
    Down,
    Breaker,
}

impl From<BreakerError> for E {
    fn from(_: BreakerError) -> Self {
        E::Breaker
    }
}

fn is_outage(e: &E) -> bool {
    *e != E::NotFound
}

fn verdict(r: &Result<u8, E>) -> Outcome {
    match r {
        Ok(_) => Outcome::Success,
        Err(E::NotFound) => Outcome::Ignored,
        Err(_) => Outcome::Failure,
    }
}

#[circuit_breaker(name = "rev3-shared-fi", failure_threshold = 2, reset_timeout = "1h", failure_if = is_outage)]
fn with_failure_if(e: Option<E>) -> Result<u8, E> {
    match e {
        Some(e) => Err(e),
        None => Ok(1),
    }
}

/// A breaker the attribute made with `failure_if`, shared with builder code calling `call_sync`
/// for the same error type: the code's calls are judged as the code's (every `Err` a
/// failure), the placeholder answers for nothing.
#[test]
fn builder_code_on_an_attribute_breaker_with_failure_if_judges_as_before() {
    assert_eq!(with_failure_if(Some(E::NotFound)), Err(E::NotFound));
    let b = registry().get("rev3-shared-fi").unwrap();
    assert!(b.settings().has_failure_if());
    assert_eq!(
        b.metrics().successes,
        1,
        "the attribute's NotFound is an answer"
    );
    let _ = b.call_sync(|| Err::<u8, E>(E::NotFound));
    assert_eq!(b.metrics().failures, 1, "the code's call has no predicate");
    let _ = b.call_sync(|| Err::<u8, E>(E::NotFound));
    assert_eq!(b.state(), State::Open);
    assert_eq!(with_failure_if(None), Err(E::Breaker));
}

#[circuit_breaker(name = "rev3-shared-mixed", failure_threshold = 1, reset_timeout = "1h", classify = verdict)]
fn mixed_classify(e: Option<E>) -> Result<u8, E> {
    match e {
        Some(e) => Err(e),
        None => Ok(1),
    }
}

#[circuit_breaker(name = "rev3-shared-mixed", failure_threshold = 1, reset_timeout = "1h", failure_if = is_outage)]
fn mixed_failure_if(e: Option<E>) -> Result<u8, E> {
    match e {
        Some(e) => Err(e),
        None => Ok(1),
    }
}

/// Two attribute functions of one name, one with `classify`, one with `failure_if`: the
/// first config wins (a warning), nothing is refused, each judges its own results.
#[test]
fn two_attribute_fns_of_one_name_with_classify_and_failure_if() {
    assert_eq!(mixed_classify(Some(E::NotFound)), Err(E::NotFound));
    assert_eq!(mixed_failure_if(Some(E::NotFound)), Err(E::NotFound));
    let b = registry().get("rev3-shared-mixed").unwrap();
    assert_eq!(b.state(), State::Closed, "{:?}", b.metrics());
    assert_eq!(mixed_failure_if(Some(E::Down)), Err(E::Down));
    assert_eq!(b.state(), State::Open);
    assert_eq!(mixed_classify(None), Err(E::Breaker));
}

fn fail_ok(_: &Result<u8, std::io::Error>) -> Outcome {
    Outcome::Failure
}

/// The tower layer: a breaker whose builder `classify` matches the service's
/// `Result<Response, Error>`. Documented for `call`/`call_sync`/`record`/streams; the layer
/// has its own `classifier` (DefaultClassifier): this records what it does.
#[cfg(feature = "tower")]
#[tokio::test]
#[ignore = "LIMIT (documented on the builder's classify): CircuitBreakerLayer ignores the breaker's builder classify (uses DefaultClassifier) silently; neither the classify docs nor the tower docs say so"]
async fn the_tower_layer_and_a_builder_classify() {
    use breaker_runtime::tower::CircuitBreakerLayer;
    use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
    let b = breaker_runtime::CircuitBreaker::builder("rev3-tower-classify")
        .failure_threshold(1)
        .reset_timeout(Duration::from_secs(3600))
        .classify(fail_ok)
        .build();
    let mut svc = ServiceBuilder::new()
        .layer(CircuitBreakerLayer::new(b.clone()))
        .service(service_fn(|_: ()| async { Ok::<u8, std::io::Error>(1) }));
    let r = svc.ready().await.unwrap().call(()).await;
    assert!(r.is_ok());
    assert_eq!(
        b.state(),
        State::Open,
        "the layer judged by DefaultClassifier, not the breaker's classify: {:?}",
        b.metrics()
    );
}

/// A config from `BreakerConfig::builder()` with both classify and failure_if is refused.
#[test]
fn classify_and_failure_if_are_refused_in_a_registry_config() {
    let config = BreakerConfig::builder()
        .classify(fail_ok)
        .failure_if(|_: &std::io::Error| true)
        .build();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        registry().get_or_create("rev3-both", config)
    }));
    eprintln!("get_or_create with both: panicked = {}", r.is_err());
}

#[circuit_breaker(name = "rev3-shared-warn", failure_threshold = 3)]
fn plain_one(up: bool) -> Result<u8, E> {
    if up {
        Ok(1)
    } else {
        Err(E::Down)
    }
}

#[circuit_breaker(name = "rev3-shared-warn", failure_threshold = 3, failure_if = is_outage)]
fn with_predicate(up: bool) -> Result<u8, E> {
    if up {
        Ok(1)
    } else {
        Err(E::NotFound)
    }
}

/// Two attribute functions share "rev3-shared-warn" with the same settings; one has a
/// `failure_if`, which it asks itself per call and which changes nothing in the shared
/// breaker. The placeholder that makes `settings()` show it also makes the two configs
/// differ: a warning that the breaker "already exists with other settings".
#[test]
fn a_failure_if_alone_draws_no_settings_warning_between_two_functions_of_one_name() {
    let ((), lines) = common::logs::with_logs(tracing::Level::INFO, |_| {
        assert_eq!(plain_one(true), Ok(1));
        assert_eq!(with_predicate(true), Ok(1));
    });
    let text = lines.take();
    assert!(
        !text.contains("already exists with other settings"),
        "{text}"
    );
}

fn status_verdict(r: &Result<u16, E>) -> Outcome {
    match r {
        Ok(s) if *s >= 500 => Outcome::Failure,
        Ok(_) => Outcome::Success,
        Err(_) => Outcome::Failure,
    }
}

#[circuit_breaker(name = "rev3-shared-builder-classify")]
fn status_call(status: u16) -> Result<u16, E> {
    Ok(status)
}

/// The code makes the breaker with a classify for `Result<u16, E>`; an attribute function
/// without `classify` of that name and result type calls through it. The breaker's settings
/// say `has_classify`, but the attribute judges by its own rules: its `Ok(503)` is a success.
#[test]
#[ignore = "LIMIT (documented on the builder's classify): an attribute fn sharing a builder breaker with classify for its exact Result type is not judged by it (Ok(503) a success) though settings() show has_classify; undocumented"]
fn an_attribute_fn_sharing_a_builder_breaker_with_classify() {
    let b = registry().get_or_create(
        "rev3-shared-builder-classify",
        BreakerConfig::builder()
            .failure_threshold(1)
            .reset_timeout(Duration::from_secs(3600))
            .classify(status_verdict)
            .build(),
    );
    assert!(b.settings().has_classify());
    assert_eq!(status_call(503), Ok(503));
    assert_eq!(b.state(), State::Open, "{:?}", b.metrics());
}

fn api_config() -> BreakerConfig {
    BreakerConfig::builder()
        .failure_threshold(3)
        .classify(verdict)
        .build()
}

/// The same config from one helper, asked for twice (two handlers joining one breaker by
/// name): the same settings, the same classify function; no "other settings" warning.
#[test]
fn the_same_classify_function_twice_draws_no_settings_warning() {
    let ((a, b), lines) = common::logs::with_logs(tracing::Level::INFO, |_| {
        let a = registry().get_or_create("rev3-same-classify", api_config());
        let b = registry().get_or_create("rev3-same-classify", api_config());
        (a, b)
    });
    assert!(std::sync::Arc::ptr_eq(&a, &b));
    let text = lines.take();
    assert!(
        !text.contains("already exists with other settings"),
        "{text}"
    );
}
