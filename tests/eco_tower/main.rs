//! Feature `tower`: `CircuitBreakerLayer` around a real hyper client talking to a real axum
//! server on 127.0.0.1, around an axum route on the server side, and around plain services.
#![cfg(feature = "tower")]

#[path = "../common/mod.rs"]
mod common;

use axum::extract::{Path, State as AxumState};
use axum::http::{Request, Response, StatusCode};
use axum::routing::get;
use axum::Router;
use breaker_runtime::tower::{CircuitBreakerLayer, HttpClassifier};
use breaker_runtime::{registry, BreakerError, CallError, CircuitBreaker, Outcome, State};
use bytes::Bytes;
use common::serve;
use http_body_util::Empty;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;
use tower::{service_fn, Layer, Service, ServiceBuilder, ServiceExt};

mod cause;
mod composition;
mod per_host;
mod retry_after;

/// A service answering `GET /status/{code}` with that status, counting the requests it saw.
fn status_service() -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    async fn status(
        AxumState(hits): AxumState<Arc<AtomicUsize>>,
        Path(code): Path<u16>,
    ) -> StatusCode {
        hits.fetch_add(1, SeqCst);
        StatusCode::from_u16(code).unwrap()
    }
    let app = Router::new()
        .route("/status/{code}", get(status))
        .with_state(hits.clone());
    (serve(app), hits)
}

fn get_req(addr: SocketAddr, path: &str) -> Request<Empty<Bytes>> {
    Request::get(format!("http://{addr}{path}"))
        .body(Empty::new())
        .unwrap()
}

fn client() -> Client<HttpConnector, Empty<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

/// `GET path` through `svc`, once it is ready.
async fn send_get<S>(svc: &mut S, addr: SocketAddr, path: &str) -> Result<S::Response, S::Error>
where
    S: Service<Request<Empty<Bytes>>>,
    S::Error: std::fmt::Debug,
{
    svc.ready().await.unwrap().call(get_req(addr, path)).await
}

#[tokio::test(start_paused = true)]
async fn hyper_client_through_the_layer_opens_on_5xx_rejects_without_a_request_and_recovers() {
    let (addr, hits) = status_service();
    let breaker = CircuitBreaker::builder("eco-tower-hyper")
        .failure_threshold(3)
        .success_threshold(1)
        .reset_timeout(Duration::from_secs(30))
        .build();
    let mut svc = ServiceBuilder::new()
        .layer(CircuitBreakerLayer::new(breaker.clone()).http())
        .service(client());

    let ok = send_get(&mut svc, addr, "/status/200").await.unwrap();
    assert_eq!(ok.status(), 200);
    // A 404 is an answer: a success.
    let missing = send_get(&mut svc, addr, "/status/404").await.unwrap();
    assert_eq!(missing.status(), 404);
    for _ in 0..3 {
        // 5xx responses come back as responses, and count as failures.
        let r = send_get(&mut svc, addr, "/status/503").await.unwrap();
        assert_eq!(r.status(), 503);
    }
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(hits.load(SeqCst), 5);

    let rejected = send_get(&mut svc, addr, "/status/200").await;
    match rejected {
        Err(CallError::Breaker(BreakerError::Open { name, retry_after })) => {
            assert_eq!(name, "eco-tower-hyper");
            assert_eq!(retry_after, Duration::from_secs(30));
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(
        hits.load(SeqCst),
        5,
        "a rejected request never reaches the server"
    );

    tokio::time::advance(Duration::from_secs(30)).await;
    let probe = send_get(&mut svc, addr, "/status/200").await.unwrap();
    assert_eq!(probe.status(), 200);
    assert_eq!(breaker.state(), State::Closed);
    assert_eq!(hits.load(SeqCst), 6);

    let m = breaker.metrics();
    assert_eq!((m.successes, m.failures, m.rejected, m.calls), (3, 3, 1, 7));
}

#[tokio::test]
async fn connection_errors_are_failures() {
    // A port that was just free: nothing listens there.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let breaker = CircuitBreaker::builder("eco-tower-refused")
        .failure_threshold(2)
        .build();
    let svc = CircuitBreakerLayer::new(breaker.clone())
        .http()
        .layer(client());
    for _ in 0..2 {
        let err = svc.clone().oneshot(get_req(free, "/")).await.unwrap_err();
        assert!(
            matches!(err, CallError::Inner(ref e) if e.is_connect()),
            "{err:?}"
        );
    }
    assert_eq!(breaker.state(), State::Open);
    assert!(svc
        .clone()
        .oneshot(get_req(free, "/"))
        .await
        .unwrap_err()
        .is_circuit_open());
}

/// Needs `axum` too: the rejection becomes a response through `CallError: IntoResponse`.
#[cfg(feature = "axum")]
#[tokio::test]
async fn server_side_route_answers_503_with_retry_after_once_open() {
    use axum::error_handling::HandleErrorLayer;

    let breaker = CircuitBreaker::builder("eco-tower-server")
        .failure_threshold(2)
        .reset_timeout(Duration::from_secs(60))
        .build();
    let handled = Arc::new(AtomicUsize::new(0));
    let seen = handled.clone();
    let app = Router::new()
        .route(
            "/flaky",
            get(move || {
                seen.fetch_add(1, SeqCst);
                async { (StatusCode::INTERNAL_SERVER_ERROR, "database unreachable") }
            }),
        )
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(
                    |e: CallError<Infallible>| async move { e },
                ))
                .layer(CircuitBreakerLayer::new(breaker.clone()).http()),
        );
    let addr = serve(app);
    let url = format!("http://{addr}/flaky");

    for _ in 0..2 {
        assert_eq!(reqwest::get(&url).await.unwrap().status(), 500);
    }
    let rejected = reqwest::get(&url).await.unwrap();
    assert_eq!(rejected.status(), 503);
    assert_eq!(rejected.headers()["retry-after"], "60");
    let body: serde_json::Value = serde_json::from_str(&rejected.text().await.unwrap()).unwrap();
    assert_eq!(body["breaker"], "eco-tower-server");
    // Real time passes on the server between opening and answering.
    assert!((59_000..=60_000).contains(&body["retry_after_ms"].as_u64().unwrap()));
    assert!(body["error"].as_str().unwrap().contains("is open"));
    assert_eq!(
        handled.load(SeqCst),
        2,
        "the handler never ran for the rejected request"
    );
}

/// Regression: at 4,488 ms left the error's message said "retry in 4s" (rounded to nearest)
/// while the `Retry-After` header said 5 (rounded up). Every place that shows the wait rounds
/// it up, the same way: the header and the message give the same whole seconds, and
/// `retry_after_ms` (body and snapshot) the same milliseconds.
#[cfg(feature = "axum")]
#[tokio::test(start_paused = true)]
async fn retry_after_header_message_and_milliseconds_round_up_alike() {
    use axum::body::{to_bytes, Body};
    use axum::error_handling::HandleErrorLayer;

    let breaker = CircuitBreaker::builder("eco-tower-retry-rounding")
        .failure_threshold(1)
        .reset_timeout(Duration::from_millis(4_488))
        .build();
    let app = Router::new()
        .route(
            "/flaky",
            get(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        )
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(
                    |e: CallError<Infallible>| async move { e },
                ))
                .layer(CircuitBreakerLayer::new(breaker.clone()).http()),
        );
    let request = || Request::get("/flaky").body(Body::empty()).unwrap();
    assert_eq!(app.clone().oneshot(request()).await.unwrap().status(), 500);
    assert_eq!(breaker.state(), State::Open);

    let opened = tokio::time::Instant::now();

    // (ms since it opened, ms left, Retry-After and the message's seconds)
    for (elapsed, left, secs) in [
        (0, 4_488, 5),
        (487, 4_001, 5),
        (488, 4_000, 4),
        (489, 3_999, 4),
        (3_487, 1_001, 2),
        (4_487, 1, 1),
    ] {
        let at = opened + Duration::from_millis(elapsed);
        tokio::time::advance(at - tokio::time::Instant::now()).await;
        let rejected = app.clone().oneshot(request()).await.unwrap();
        assert_eq!(rejected.status(), 503, "{elapsed} ms");
        assert_eq!(
            rejected.headers()["retry-after"],
            secs.to_string().as_str(),
            "{elapsed} ms"
        );
        let body = to_bytes(rejected.into_body(), usize::MAX).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body["error"],
            format!("circuit breaker `eco-tower-retry-rounding` is open; retry in {secs}s"),
            "{elapsed} ms"
        );
        assert_eq!(body["retry_after_ms"], left, "{elapsed} ms");
        assert_eq!(
            breaker.snapshot().retry_after_ms,
            Some(left),
            "{elapsed} ms"
        );
    }
    tokio::time::advance(opened + Duration::from_millis(4_488) - tokio::time::Instant::now()).await;
    assert_eq!(breaker.state(), State::HalfOpen);
}

#[tokio::test(start_paused = true)]
async fn poll_ready_takes_no_permit_and_a_dropped_response_gives_its_slot_back() {
    let breaker = CircuitBreaker::builder("eco-tower-ready")
        .failure_threshold(1)
        .success_threshold(1)
        .half_open_max_calls(1)
        .reset_timeout(Duration::from_secs(1))
        .build();
    breaker.try_acquire().unwrap().failure();
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(breaker.state(), State::HalfOpen);

    let layer = CircuitBreakerLayer::new(breaker.clone());
    let mut hanging = layer.layer(service_fn(|_: ()| {
        std::future::pending::<Result<(), Infallible>>()
    }));
    for _ in 0..3 {
        hanging.ready().await.unwrap();
    }
    assert_eq!(breaker.metrics().calls, 1, "readiness is not a call");

    // The one half-open slot: taken by a call that never answers, then given back on drop.
    let mut call = hanging.call(());
    assert!(tokio::time::timeout(Duration::from_millis(10), &mut call)
        .await
        .is_err());
    let mut other = layer.layer(service_fn(|_: ()| async { Ok::<_, Infallible>(7) }));
    let full = other.ready().await.unwrap().call(()).await.unwrap_err();
    assert!(matches!(
        full,
        CallError::Breaker(BreakerError::HalfOpenFull { .. })
    ));
    drop(call);
    assert_eq!(breaker.metrics().cancelled, 1);

    assert_eq!(other.ready().await.unwrap().call(()).await.unwrap(), 7);
    assert_eq!(breaker.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn call_timeout_cuts_slow_responses() {
    let breaker = CircuitBreaker::builder("eco-tower-timeout")
        .call_timeout(Duration::from_secs(2))
        .build();
    let slow =
        CircuitBreakerLayer::new(breaker.clone()).layer(service_fn(|secs: u64| async move {
            tokio::time::sleep(Duration::from_secs(secs)).await;
            Ok::<_, Infallible>(secs)
        }));
    assert_eq!(slow.clone().oneshot(1).await.unwrap(), 1);
    let started = tokio::time::Instant::now();
    match slow.clone().oneshot(10).await {
        Err(CallError::Breaker(BreakerError::TimedOut { name, after })) => {
            assert_eq!(
                (name.as_str(), after),
                ("eco-tower-timeout", Duration::from_secs(2))
            );
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    let m = breaker.metrics();
    assert_eq!((m.successes, m.failures, m.timeouts), (1, 1, 1));
}

#[tokio::test]
async fn closures_classify_and_named_layers_share_the_registry_breaker() {
    let layer = CircuitBreakerLayer::named("eco-tower-named");
    assert!(Arc::ptr_eq(
        layer.breaker(),
        &registry().get("eco-tower-named").unwrap()
    ));

    // "not found" means the dependency answered; "unavailable" is a failure; "bad input" is
    // not the dependency's doing at all.
    let classify = |r: &Result<u32, &'static str>| match r {
        Ok(_) | Err("not found") => Outcome::Success,
        Err("bad input") => Outcome::Ignored,
        Err(_) => Outcome::Failure,
    };
    let svc = layer
        .classifier(classify)
        .layer(service_fn(|e: &'static str| async move {
            if e.is_empty() {
                Ok(1)
            } else {
                Err(e)
            }
        }));
    for input in ["", "not found", "bad input", "unavailable"] {
        let _ = svc.clone().oneshot(input).await;
    }
    let m = registry().get("eco-tower-named").unwrap().metrics();
    assert_eq!((m.successes, m.ignored, m.failures), (2, 1, 1));
}

#[test]
fn http_classifier_reads_the_status() {
    use breaker_runtime::tower::Classify;
    let status = |s: u16| Ok::<_, ()>(Response::builder().status(s).body(()).unwrap());
    let http = HttpClassifier::default();
    assert_eq!(http.classify(&status(200)), Outcome::Success);
    assert_eq!(http.classify(&status(429)), Outcome::Success);
    assert_eq!(http.classify(&status(500)), Outcome::Failure);
    assert_eq!(http.classify(&status(599)), Outcome::Failure);
    assert_eq!(http.classify(&Err::<Response<()>, _>(())), Outcome::Failure);
}

#[tokio::test]
async fn grpc_status_in_the_response_head_is_classified() {
    use breaker_runtime::tower::GrpcClassifier;
    // A gRPC-style service answering "trailers-only": the status is in the head.
    async fn call(Path(code): Path<u16>) -> ([(&'static str, String); 1], &'static str) {
        ([("grpc-status", code.to_string())], "")
    }
    let addr = serve(Router::new().route("/grpc/{code}", get(call)));
    let breaker = CircuitBreaker::builder("eco-tower-grpc")
        .failure_threshold(10)
        .build();
    let svc = CircuitBreakerLayer::new(breaker.clone())
        .grpc()
        .layer(client());
    // OK, NOT_FOUND, INVALID_ARGUMENT: answers. UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL,
    // RESOURCE_EXHAUSTED: failures.
    for code in [0, 5, 3, 14, 4, 13, 8] {
        let r = svc
            .clone()
            .oneshot(get_req(addr, &format!("/grpc/{code}")))
            .await
            .unwrap();
        assert_eq!(r.headers()["grpc-status"], code.to_string().as_str());
    }
    let m = breaker.metrics();
    assert_eq!((m.successes, m.failures), (3, 4));

    let only_unavailable = CircuitBreakerLayer::named("eco-tower-grpc-strict")
        .classifier(GrpcClassifier::new(|code| code == 14))
        .layer(client());
    for code in [4, 14] {
        let _ = only_unavailable
            .clone()
            .oneshot(get_req(addr, &format!("/grpc/{code}")))
            .await;
    }
    let m = registry().get("eco-tower-grpc-strict").unwrap().metrics();
    assert_eq!((m.successes, m.failures), (1, 1));
}
