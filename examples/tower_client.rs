//! A hyper client behind `CircuitBreakerLayer`, talking to a real axum service on 127.0.0.1.
//!
//! Run it with `cargo run --example tower_client --features tower`. The service fails for a
//! while: the layer counts its `5xx` answers as failures, opens, rejects requests without
//! sending them, probes after the reset timeout and closes again. Ends by itself in about
//! a second.

use axum::extract::State as AxumState;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use breaker_runtime::tower::CircuitBreakerLayer;
use breaker_runtime::{CallError, CircuitBreaker};
use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::{ServiceBuilder, ServiceExt};

#[tokio::main]
async fn main() {
    // The dependency: `GET /` answers 200, or 500 while it is down.
    let healthy = Arc::new(AtomicBool::new(true));
    async fn root(AxumState(healthy): AxumState<Arc<AtomicBool>>) -> StatusCode {
        if healthy.load(Ordering::SeqCst) {
            StatusCode::OK
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
    let app = Router::new()
        .route("/", get(root))
        .with_state(healthy.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let url = format!("http://{}/", listener.local_addr().expect("bound address"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The client: hyper's, behind a breaker that treats 5xx answers and errors as failures.
    let breaker = CircuitBreaker::builder("dependency")
        .failure_threshold(3)
        .success_threshold(2)
        .reset_timeout(Duration::from_millis(500))
        .build();
    // The timeout goes *inside* the breaker: a request cut by it is an error the breaker
    // sees, so a dependency that hangs opens it. Outside the breaker it would drop the call
    // instead, which counts as cancelled, and a hung dependency would never open it. (The
    // breaker's own `.call_timeout(..)` is the other right choice.)
    let client = ServiceBuilder::new()
        .layer(CircuitBreakerLayer::new(breaker.clone()).http())
        .timeout(Duration::from_secs(2))
        .service(Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>());

    // Clients are cheap to clone; every clone shares the one breaker.
    let request = |step: &'static str| {
        let req = Request::get(&url)
            .body(Empty::new())
            .expect("a valid request");
        let (client, breaker) = (client.clone(), breaker.clone());
        async move {
            let started = Instant::now();
            let outcome = client.oneshot(req).await;
            let took = started.elapsed();
            let what = match outcome {
                Ok(response) => format!("HTTP {}", response.status()),
                Err(CallError::Breaker(e)) => format!("rejected: {e}"),
                // A transport error, or the timeout's `Elapsed`.
                Err(CallError::Inner(e)) => format!("transport error: {e}"),
            };
            println!(
                "{step:<10} {what:<60} {took:>12.2?}   breaker {:?}",
                breaker.state()
            );
        }
    };

    for _ in 0..2 {
        request("healthy").await;
    }
    healthy.store(false, Ordering::SeqCst);
    for _ in 0..5 {
        request("down").await;
    }
    healthy.store(true, Ordering::SeqCst);
    println!("... the dependency recovers; waiting out the 500 ms reset timeout");
    tokio::time::sleep(Duration::from_millis(550)).await;
    for _ in 0..3 {
        request("recovered").await;
    }

    let m = breaker.metrics();
    println!(
        "\n{} calls: {} succeeded, {} failed, {} rejected without a request; opened {} time(s)",
        m.calls, m.successes, m.failures, m.rejected, m.opened_count
    );
}
