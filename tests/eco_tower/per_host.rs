//! `CircuitBreakerLayer::per_host`: one breaker per host, so one failing host does not cut off
//! the others (issue 13, item 18). Real axum servers on 127.0.0.1 behind a hyper client, and
//! stub services that answer by the request's host.

use super::{client, send_get, status_service};
use axum::http::{Request, Response};
use breaker_runtime::tower::{CircuitBreakerLayer, PerHostLayer};
use breaker_runtime::{registry, BreakerConfig, BreakerError, CallError, State};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;
use tower::{service_fn, Layer, Service, ServiceBuilder, ServiceExt};

fn config(failures: u32) -> BreakerConfig {
    BreakerConfig::builder()
        .failure_threshold(failures)
        .success_threshold(1)
        .reset_timeout(Duration::from_secs(30))
        .build()
}

fn member(family: &str, addr: SocketAddr) -> String {
    format!("{family}/127.0.0.1:{}", addr.port())
}

#[tokio::test(start_paused = true)]
async fn a_failing_server_opens_only_its_own_breaker_and_the_other_keeps_serving() {
    let (down, down_hits) = status_service();
    let (up, up_hits) = status_service();
    let layer = CircuitBreakerLayer::per_host("eco-per-host", config(2)).http();
    let mut svc = ServiceBuilder::new().layer(layer.clone()).service(client());

    for _ in 0..2 {
        let r = send_get(&mut svc, down, "/status/503").await.unwrap();
        assert_eq!(r.status(), 503);
    }
    let down_breaker = registry().get(&member("eco-per-host", down)).unwrap();
    assert_eq!(down_breaker.state(), State::Open);

    // The failing host is rejected without a request; the other one is served.
    match send_get(&mut svc, down, "/status/200").await {
        Err(CallError::Breaker(BreakerError::Open { name, retry_after })) => {
            assert_eq!(name, member("eco-per-host", down));
            assert_eq!(retry_after, Duration::from_secs(30));
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(down_hits.load(SeqCst), 2);
    for path in ["/status/200", "/status/404", "/status/200"] {
        assert!(send_get(&mut svc, up, path).await.is_ok(), "{path}");
    }
    assert_eq!(up_hits.load(SeqCst), 3);

    // The registry shows both members, each with its own counts.
    let up_breaker = registry().get(&member("eco-per-host", up)).unwrap();
    assert_eq!(up_breaker.state(), State::Closed);
    let m = up_breaker.metrics();
    assert_eq!((m.successes, m.failures), (3, 0), "a 404 is an answer");
    let m = down_breaker.metrics();
    assert_eq!((m.successes, m.failures, m.rejected), (0, 2, 1));
    let mut keys = vec![
        format!("127.0.0.1:{}", down.port()),
        format!("127.0.0.1:{}", up.port()),
    ];
    keys.sort();
    assert_eq!(layer.family().keys(), keys);
    let names: Vec<String> = registry()
        .snapshot()
        .into_iter()
        .map(|s| s.name.to_string())
        .filter(|n| n.starts_with("eco-per-host/"))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");

    // The failing host's breaker probes and closes on its own clock.
    tokio::time::advance(Duration::from_secs(30)).await;
    let probe = send_get(&mut svc, down, "/status/200").await.unwrap();
    assert_eq!(probe.status(), 200);
    assert_eq!(down_breaker.state(), State::Closed);
}

/// A stand-in for a gRPC channel to several hosts: `sick.example` answers `UNAVAILABLE`,
/// every other host `NOT_FOUND`, in the response head.
async fn grpc_by_host(req: Request<()>) -> Result<Response<()>, Infallible> {
    let code = if req.uri().host() == Some("sick.example") {
        "14"
    } else {
        "5"
    };
    Ok(Response::builder()
        .header("grpc-status", code)
        .body(())
        .unwrap())
}

fn get(uri: &str) -> Request<()> {
    Request::get(uri).body(()).unwrap()
}

#[tokio::test]
async fn the_grpc_classifier_applies_per_host() {
    let svc = CircuitBreakerLayer::per_host("eco-per-host-grpc", config(3))
        .grpc()
        .layer(service_fn(grpc_by_host));
    for _ in 0..3 {
        svc.clone()
            .oneshot(get("http://sick.example:50051/svc/Get"))
            .await
            .unwrap();
        svc.clone()
            .oneshot(get("http://well.example:50051/svc/Get"))
            .await
            .unwrap();
    }
    let sick = registry()
        .get("eco-per-host-grpc/sick.example:50051")
        .unwrap();
    let well = registry()
        .get("eco-per-host-grpc/well.example:50051")
        .unwrap();
    assert_eq!((sick.state(), well.state()), (State::Open, State::Closed));
    assert_eq!(well.metrics().successes, 3, "NOT_FOUND is an answer");
    assert_eq!(sick.open_cause().as_deref(), Some("grpc-status 14"));
    assert!(svc
        .clone()
        .oneshot(get("http://sick.example:50051/svc/Get"))
        .await
        .unwrap_err()
        .is_circuit_open());
}

#[tokio::test(start_paused = true)]
async fn retry_after_opens_only_the_host_that_sent_it() {
    let svc = CircuitBreakerLayer::per_host("eco-per-host-ra", config(100))
        .http()
        .honour_retry_after()
        .layer(service_fn(|req: Request<()>| async move {
            let busy = req.uri().host() == Some("busy.example");
            let mut r = Response::builder().status(if busy { 429 } else { 200 });
            if busy {
                r = r.header("retry-after", "120");
            }
            Ok::<_, Infallible>(r.body(()).unwrap())
        }));
    svc.clone()
        .oneshot(get("https://busy.example/"))
        .await
        .unwrap();
    svc.clone()
        .oneshot(get("https://idle.example/"))
        .await
        .unwrap();
    let busy = registry().get("eco-per-host-ra/busy.example:443").unwrap();
    let idle = registry().get("eco-per-host-ra/idle.example:443").unwrap();
    assert_eq!((busy.state(), idle.state()), (State::Open, State::Closed));
    tokio::time::advance(Duration::from_secs(120)).await;
    assert_eq!(busy.state(), State::HalfOpen);
}

/// The `Host` header names the host of a request whose URI does not; a request with neither
/// goes through one breaker named as the family itself.
#[tokio::test]
async fn the_host_header_else_one_breaker_named_for_the_family() {
    let family = "eco-per-host-none";
    let svc = CircuitBreakerLayer::per_host(family, config(1)).layer(service_fn(
        |req: Request<()>| async move {
            match req.headers().get("host") {
                Some(_) => Ok(()),
                None => Err("who?"),
            }
        },
    ));
    let with_header = Request::get("/x")
        .header("host", "Api.Example:8080")
        .body(())
        .unwrap();
    svc.clone().oneshot(with_header).await.unwrap();
    assert!(registry()
        .get("eco-per-host-none/api.example:8080")
        .is_some());

    for _ in 0..2 {
        let _ = svc.clone().oneshot(get("/x")).await;
    }
    let unkeyed = registry().get(family).unwrap();
    assert_eq!(unkeyed.state(), State::Open);
    assert_eq!(unkeyed.metrics().rejected, 1);
    assert_eq!(svc.family().keys(), ["api.example:8080"], "not a member");
    let with_header = Request::get("/x")
        .header("host", "api.example:8080")
        .body(())
        .unwrap();
    assert!(svc.clone().oneshot(with_header).await.is_ok());
}

/// A request in flight holds its host's breaker: however small and idle-eager the family, it
/// is not evicted under the request, and the request's verdict lands on the listed breaker.
#[tokio::test]
async fn a_host_with_a_request_in_flight_is_not_evicted() {
    let hosts = registry()
        .family("eco-per-host-held", config(1))
        .max_members(1)
        .idle_after(Duration::ZERO);
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let released = std::sync::Mutex::new(Some(released));
    let mut svc = PerHostLayer::new(hosts).layer(service_fn(move |req: Request<()>| {
        let wait = (req.uri().host() == Some("slow.example"))
            .then(|| released.lock().unwrap().take().unwrap());
        async move {
            if let Some(wait) = wait {
                let _ = wait.await;
                return Err("slow.example failed");
            }
            Ok(())
        }
    }));
    // Admitted (its permit taken) when called; it runs when awaited, below.
    let slow = svc.ready().await.unwrap().call(get("http://slow.example/"));
    for host in ["a", "b", "c"] {
        let uri = format!("http://{host}.example/");
        svc.ready().await.unwrap().call(get(&uri)).await.unwrap();
    }
    assert_eq!(svc.family().keys(), ["c.example:80", "slow.example:80"]);
    release.send(()).unwrap();
    assert!(matches!(slow.await, Err(CallError::Inner(_))));
    let listed = registry().get("eco-per-host-held/slow.example:80").unwrap();
    assert_eq!(
        listed.state(),
        State::Open,
        "the verdict reached the listed breaker"
    );
}
