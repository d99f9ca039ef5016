//! Breaker metrics in Prometheus text format, through the `metrics` facade and
//! `metrics-exporter-prometheus`.
//!
//! Run it with `cargo run --example prometheus --features metrics`. It installs the exporter
//! as the global recorder, runs calls through a `#[circuit_breaker]` function and a built
//! breaker, serves the text at `GET /metrics` on 127.0.0.1 (any free port), scrapes it once
//! with a real HTTP client, prints the breaker series and exits.

use axum::routing::get;
use axum::Router;
use breaker_runtime::metrics_export::{CALL_DURATION_SECONDS, DURATION_BUCKETS};
use breaker_runtime::{circuit_breaker, CircuitBreaker};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use std::io;
use std::time::Duration;

/// Looks up stock; the service is down for items 10 to 15. Opens after three failures in a
/// row and probes again after 200 ms.
#[circuit_breaker(name = "inventory", failure_threshold = 3, reset_timeout = "200ms")]
async fn stock(item: u32) -> io::Result<u32> {
    tokio::time::sleep(Duration::from_millis(u64::from(item % 5))).await;
    if (10..16).contains(&item) {
        Err(io::Error::other("inventory is down"))
    } else {
        Ok(item * 10)
    }
}

#[tokio::main]
async fn main() {
    // Install the recorder before the first breaker exists: each breaker registers its
    // series with the recorder installed when it is created. Call durations are opt-in
    // (timing a call reads the clock twice); the counts are always there.
    breaker_runtime::metrics_export::record_durations(true);
    let prometheus = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(CALL_DURATION_SECONDS.into()),
            DURATION_BUCKETS,
        )
        .expect("valid buckets")
        .install_recorder()
        .expect("no other recorder installed");

    // Items 10-12 fail and open the breaker, 13-19 are rejected, and after the reset timeout
    // items 20 and 21 probe and close it.
    for item in 0..30 {
        if item == 20 {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let _ = stock(item).await;
    }

    let payments = CircuitBreaker::builder("payments")
        .failure_threshold(2)
        .build();
    for _ in 0..3 {
        let _ = payments
            .call(|| async { Err::<(), _>("card network timeout") })
            .await;
    }

    // A scrape endpoint, as a service would mount it, and one real scrape.
    let app = Router::new().route(
        "/metrics",
        get(move || {
            // Counts are published once a second in the background; this makes them exact
            // to the moment of the scrape.
            breaker_runtime::metrics_export::publish();
            std::future::ready(prometheus.render())
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("bound address");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .and_then(|r| r.error_for_status())
        .expect("scrape /metrics")
        .text()
        .await
        .expect("read the scrape");
    println!("GET http://{addr}/metrics (breaker series, histogram buckets left out):\n");
    for line in text.lines() {
        if line.contains("breaker_") && !line.contains("_bucket{") {
            println!("{line}");
        }
    }
}
