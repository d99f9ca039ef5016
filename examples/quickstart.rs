//! The quickstart: a real HTTP service on 127.0.0.1 that can be made to fail, called through a
//! `#[circuit_breaker]` function with a real HTTP client. Watch the breaker open, reject in
//! nanoseconds instead of waiting on a sick dependency, probe and close again.
//!
//! Run it with `cargo run --example quickstart`. It needs no network beyond loopback and ends
//! by itself in a few seconds.

use axum::extract::{Path, State as AxumState};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use breaker_runtime::{circuit_breaker, registry, BreakerError, CallError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What can go wrong when fetching a quote.
#[derive(Debug)]
enum AppError {
    Http(String),
    Breaker(BreakerError),
}

impl From<BreakerError> for AppError {
    fn from(e: BreakerError) -> Self {
        AppError::Breaker(e)
    }
}

/// Fetches a quote from the quote service; behind a breaker that opens after three failures
/// in a row, probes after two seconds, and gives up on calls slower than half a second.
#[circuit_breaker(
    name = "quotes",
    failure_threshold = 3,
    reset_timeout = "2s",
    success_threshold = 2,
    call_timeout = "500ms"
)]
async fn fetch_quote(
    client: &reqwest::Client,
    base: &str,
    symbol: &str,
) -> Result<String, AppError> {
    let response = client
        .get(format!("{base}/quote/{symbol}"))
        .send()
        .await
        .map_err(|e| AppError::Http(e.to_string()))?;
    if !response.status().is_success() {
        return Err(AppError::Http(format!("status {}", response.status())));
    }
    response
        .text()
        .await
        .map_err(|e| AppError::Http(e.to_string()))
}

/// The quote service: answers `GET /quote/{symbol}`, or 503 while it is "down".
async fn start_quote_service(healthy: Arc<AtomicBool>) -> String {
    async fn quote(
        AxumState(healthy): AxumState<Arc<AtomicBool>>,
        Path(symbol): Path<String>,
    ) -> (StatusCode, String) {
        if healthy.load(Ordering::SeqCst) {
            (StatusCode::OK, format!("{symbol}: 101.25"))
        } else {
            // A sick dependency is slow as well as failing.
            tokio::time::sleep(Duration::from_millis(150)).await;
            (StatusCode::SERVICE_UNAVAILABLE, "try later".into())
        }
    }
    let app = Router::new()
        .route("/quote/{symbol}", get(quote))
        .with_state(healthy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    format!("http://{addr}")
}

async fn call(client: &reqwest::Client, base: &str, label: &str) {
    let started = Instant::now();
    let result = fetch_quote(client, base, "ACME").await;
    let took = started.elapsed();
    match result {
        Ok(q) => println!("  {label:<10} ok        {took:>10.2?}  {q}"),
        Err(AppError::Http(e)) => println!("  {label:<10} failed    {took:>10.2?}  {e}"),
        Err(AppError::Breaker(e)) => println!("  {label:<10} rejected  {took:>10.2?}  {e}"),
    }
}

#[tokio::main]
async fn main() {
    // Transitions are logged by the runtime: opening at WARN, closing at INFO.
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .compact()
        .init();

    let healthy = Arc::new(AtomicBool::new(true));
    let base = start_quote_service(healthy.clone()).await;
    let client = reqwest::Client::new();
    println!("quote service on {base}\n");

    println!("1. The service is healthy: calls go through.");
    for _ in 0..3 {
        call(&client, &base, "healthy").await;
    }
    let breaker = registry()
        .get("quotes")
        .expect("registered on the first call");

    println!("\n2. The service goes down: three failures open the breaker.");
    healthy.store(false, Ordering::SeqCst);
    for _ in 0..3 {
        call(&client, &base, "outage").await;
    }

    println!("\n3. Open: calls are rejected at once, without touching the service.");
    for _ in 0..3 {
        call(&client, &base, "open").await;
    }
    let rejections = 100_000u32;
    let started = Instant::now();
    for _ in 0..rejections {
        let r: Result<(), CallError<()>> = breaker.call(|| async { Ok(()) }).await;
        assert!(r.unwrap_err().is_circuit_open());
    }
    println!(
        "  {rejections} more rejections took {:.1} ns each (a call to the sick service took ~150 ms)",
        started.elapsed().as_nanos() as f64 / rejections as f64
    );

    println!("\n4. The service recovers; after reset_timeout (2 s) probes close the breaker.");
    healthy.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(2_050)).await;
    for _ in 0..3 {
        call(&client, &base, "recovered").await;
    }

    println!("\nMetrics:");
    println!(
        "  {:<8} {:<7} {:>6} {:>9} {:>8} {:>8} {:>9} {:>7}",
        "breaker", "state", "calls", "successes", "failures", "rejected", "timeouts", "opened"
    );
    for s in registry().snapshot() {
        let m = &s.metrics;
        println!(
            "  {:<8} {:<7} {:>6} {:>9} {:>8} {:>8} {:>9} {:>7}",
            s.name,
            s.state,
            m.calls,
            m.successes,
            m.failures,
            m.rejected,
            m.timeouts,
            m.opened_count
        );
    }
    assert_eq!(breaker.state(), breaker_runtime::State::Closed);
}
