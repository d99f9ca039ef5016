//! The layer among other tower middleware: it fails fast in front of a saturated
//! concurrency limit or a full buffer, its rejections are recognisable once boxed, gRPC's HTTP
//! mapping, readiness errors of the inner service, and joining a breaker by name.

use super::*;

// ---- 1. An open breaker fails fast, however busy the service behind it is. ----

/// A service that is always ready and never answers.
fn hung() -> impl Service<
    (),
    Response = (),
    Error = Infallible,
    Future = std::future::Pending<Result<(), Infallible>>,
> + Clone {
    service_fn(|_: ()| std::future::pending::<Result<(), Infallible>>())
}

/// Generous: under the paused clock it only passes when nothing else can happen.
const AT_ONCE: Duration = Duration::from_secs(5);

#[tokio::test(start_paused = true)]
async fn a_forced_open_breaker_rejects_at_once_in_front_of_a_saturated_concurrency_limit() {
    use tower::limit::ConcurrencyLimitLayer;

    let breaker = CircuitBreaker::builder("eco-tower-ready-limit").build();
    let mut svc = ServiceBuilder::new()
        .layer(CircuitBreakerLayer::new(breaker.clone()))
        .layer(ConcurrencyLimitLayer::new(1))
        .service(hung());
    // The limit's one slot, held by a call that never answers.
    let stuck = svc.ready().await.unwrap().call(());
    assert!(
        tokio::time::timeout(AT_ONCE, svc.ready()).await.is_err(),
        "the limit is saturated"
    );

    breaker.force_open();
    let rejected = tokio::time::timeout(AT_ONCE, async { svc.ready().await?.call(()).await })
        .await
        .expect("a forced-open breaker answers at once, busy service or not");
    assert!(
        matches!(
            rejected,
            Err(CallError::Breaker(BreakerError::ForcedOpen { .. }))
        ),
        "{rejected:?}"
    );
    assert_eq!(breaker.metrics().rejected, 1);

    // Closed again: readiness is the limit's again, and the slot comes back with the call.
    breaker.close();
    assert!(tokio::time::timeout(AT_ONCE, svc.ready()).await.is_err());
    drop(stuck);
    assert_eq!(breaker.metrics().cancelled, 1);
    tokio::time::timeout(AT_ONCE, svc.ready())
        .await
        .expect("the slot is free")
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_open_breaker_rejects_at_once_in_front_of_a_full_buffer() {
    use tower::buffer::Buffer;
    use tower::limit::ConcurrencyLimit;

    // As a tonic `Channel` is: a buffer in front of a service that is busy.
    let buffer = Buffer::new(ConcurrencyLimit::new(hung(), 1), 1);
    let mut direct = buffer.clone();
    let mut stuck = Vec::new();
    while let Ok(ready) = tokio::time::timeout(AT_ONCE, direct.ready()).await {
        stuck.push(ready.unwrap().call(()));
        assert!(stuck.len() < 10, "the buffer never fills");
    }

    let breaker = CircuitBreaker::builder("eco-tower-ready-buffer").build();
    let mut svc = CircuitBreakerLayer::new(breaker.clone()).layer(buffer);
    breaker.open_for(Duration::from_secs(30));
    let started = tokio::time::Instant::now();
    let rejected = tokio::time::timeout(AT_ONCE, async { svc.ready().await?.call(()).await })
        .await
        .expect("an open breaker answers at once, busy service or not");
    assert_eq!(started.elapsed(), Duration::ZERO);
    match rejected {
        Err(CallError::Breaker(BreakerError::Open { retry_after, .. })) => {
            assert!(retry_after <= Duration::from_secs(30), "{retry_after:?}")
        }
        other => panic!("expected a rejection, got {other:?}"),
    }

    // Once probes are let in, readiness is the buffer's again: no probe is taken from a
    // service that cannot run it.
    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(breaker.state(), State::HalfOpen);
    assert!(tokio::time::timeout(AT_ONCE, svc.ready()).await.is_err());
    let m = breaker.metrics();
    assert_eq!((m.rejected, m.calls), (1, 1));
    drop(stuck);
}

// ---- 2. A rejection is recognisable once boxed, without knowing `CallError<E>`. ----

/// The recipe of the README's tower section: the `BreakerError` anywhere in the chain.
fn breaker_error_in<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a BreakerError> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(b) = e.downcast_ref::<BreakerError>() {
            return Some(b);
        }
        next = e.source();
    }
    None
}

#[tokio::test]
async fn a_rejection_behind_a_buffer_is_found_in_the_boxed_errors_sources() {
    use tower::buffer::Buffer;
    use tower::BoxError;

    let breaker = CircuitBreaker::builder("eco-tower-boxed")
        .failure_threshold(1)
        .build();
    let failing = service_fn(|_: ()| async { Err::<(), _>(std::io::Error::other("refused")) });
    let svc = Buffer::new(CircuitBreakerLayer::new(breaker.clone()).layer(failing), 4);

    // The service's own failure: no breaker error anywhere in it.
    let failed: BoxError = svc.clone().oneshot(()).await.unwrap_err();
    assert_eq!(failed.to_string(), "refused");
    assert!(breaker_error_in(&*failed).is_none());
    assert!(BreakerError::find_in(&*failed).is_none());

    // The rejection: found by walking the sources, its message unchanged.
    let rejected: BoxError = svc.clone().oneshot(()).await.unwrap_err();
    assert!(
        rejected.downcast_ref::<BreakerError>().is_none(),
        "boxed as a CallError"
    );
    let found = breaker_error_in(&*rejected).expect("the BreakerError is a source");
    assert!(found.is_circuit_open());
    assert_eq!(found.name(), "eco-tower-boxed");
    assert_eq!(BreakerError::find_in(&*rejected), Some(found));
    assert_eq!(rejected.to_string(), found.to_string());
}

// ---- 3. gRPC's HTTP mapping, and errors of the inner readiness. ----

#[test]
fn grpc_classifier_maps_http_statuses_without_grpc_status_as_grpc_does() {
    use breaker_runtime::tower::{Classify, GrpcClassifier};
    let status = |s: u16| Ok::<_, ()>(Response::builder().status(s).body(()).unwrap());
    let grpc = GrpcClassifier::default();
    // 400 INTERNAL, 429 and 502/503/504 UNAVAILABLE: failing codes.
    for s in [400, 429, 502, 503, 504, 500] {
        assert_eq!(grpc.classify(&status(s)), Outcome::Failure, "{s}");
    }
    // 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 UNIMPLEMENTED, other UNKNOWN: answers.
    for s in [200, 401, 403, 404, 409] {
        assert_eq!(grpc.classify(&status(s)), Outcome::Success, "{s}");
    }
    // A predicate of codes sees the mapped code.
    let unimplemented = GrpcClassifier::new(|code| code == 12);
    assert_eq!(unimplemented.classify(&status(404)), Outcome::Failure);
    assert_eq!(unimplemented.classify(&status(429)), Outcome::Success);
    // A `grpc-status` in the head says it all.
    let with_code = Ok::<_, ()>(
        Response::builder()
            .status(429)
            .header("grpc-status", "5")
            .body(())
            .unwrap(),
    );
    assert_eq!(grpc.classify(&with_code), Outcome::Success);
}

/// A service whose readiness fails, as a connection pool that closed.
#[derive(Clone)]
struct Dead;

impl Service<()> for Dead {
    type Response = ();
    type Error = std::io::Error;
    type Future = std::future::Ready<Result<(), std::io::Error>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), std::io::Error>> {
        std::task::Poll::Ready(Err(std::io::Error::other("pool closed")))
    }

    fn call(&mut self, _: ()) -> Self::Future {
        unreachable!("never ready")
    }
}

#[tokio::test]
async fn readiness_errors_of_a_dead_buffer_worker_are_failures_and_open_the_breaker() {
    use tower::buffer::Buffer;

    let breaker = CircuitBreaker::builder("eco-tower-dead-worker")
        .failure_threshold(3)
        .build();
    let mut svc = CircuitBreakerLayer::new(breaker.clone()).layer(Buffer::new(Dead, 4));
    // The first request finds the service dead, and the worker dies with it.
    let first = svc.ready().await.unwrap().call(()).await.unwrap_err();
    assert!(matches!(first, CallError::Inner(_)), "{first:?}");
    // From then on the buffer is never ready: each such answer is a failed call.
    for _ in 0..2 {
        let err = svc.ready().await.map(|_| ()).unwrap_err();
        assert!(matches!(err, CallError::Inner(_)), "{err:?}");
    }
    let m = breaker.metrics();
    assert_eq!((m.failures, m.calls), (3, 3));
    assert_eq!(breaker.state(), State::Open);
    // Open: rejected without asking the dead service.
    let rejected = svc.ready().await.unwrap().call(()).await.unwrap_err();
    assert!(rejected.is_circuit_open(), "{rejected:?}");
}

// ---- 4. Joining a breaker by name imposes no settings. ----

#[breaker_runtime::circuit_breaker(
    name = "eco-tower-join",
    failure_threshold = 1,
    reset_timeout = "45s"
)]
fn joined_later() -> std::io::Result<()> {
    Err(std::io::Error::other("down"))
}

#[breaker_runtime::circuit_breaker(name = "eco-tower-join-first", failure_threshold = 1)]
fn joined_first() -> std::io::Result<()> {
    Err(std::io::Error::other("down"))
}

#[tokio::test]
async fn a_layer_named_before_the_attributes_first_call_does_not_impose_its_settings() {
    let layer = CircuitBreakerLayer::named("eco-tower-join");
    assert_eq!(layer.breaker().state(), State::Closed);
    // The attribute states the settings: one failure opens, for 45 s.
    let _ = joined_later();
    assert!(Arc::ptr_eq(
        layer.breaker(),
        &registry().get("eco-tower-join").unwrap()
    ));
    let settings = layer.breaker().settings();
    assert_eq!(settings.failure_threshold, Some(1));
    assert_eq!(layer.breaker().state(), State::Open);
    let err = layer.breaker().try_acquire().map(|_| ()).unwrap_err();
    assert!(
        err.retry_after().unwrap() > Duration::from_secs(30),
        "{err}"
    );

    // The other order: the attribute first, the layer joins it as it is.
    let _ = joined_first();
    let layer = CircuitBreakerLayer::named("eco-tower-join-first");
    assert_eq!(layer.breaker().settings().failure_threshold, Some(1));
    assert_eq!(layer.breaker().state(), State::Open);
}
