//! Feature `axum`: the dashboard example (`cargo run --example dashboard --features axum`),
//! run in this process on the real clock. Its breakers show every state the page draws from
//! its first seconds, not only when the simulated traffic happens to pass through one.
#![cfg(feature = "axum")]

// The example's own code, not a copy: its `main` is unused here.
#[allow(dead_code)]
#[path = "../examples/dashboard.rs"]
mod example;

use serde_json::Value;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// The README's promise ("a few breakers in every state"): all six states show in
/// `GET /breakers` within the first 3 seconds, half-open included (it used to appear only
/// after about 5.5 s, for a tenth of a second).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_state_shows_within_the_first_3_seconds() {
    let started = Instant::now();
    let addr = example::start().await;
    let all: BTreeSet<&str> = [
        "closed",
        "open",
        "half_open",
        "forced_open",
        "disabled",
        "metrics_only",
    ]
    .into();
    let mut seen = BTreeSet::new();
    while started.elapsed() < Duration::from_secs(3) && seen != all {
        let body = reqwest::get(format!("http://{addr}/admin/breakers"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let list: Value = serde_json::from_str(&body).unwrap();
        for b in list.as_array().unwrap() {
            let state = b["state"].as_str().unwrap();
            seen.insert(*all.get(state).unwrap_or_else(|| panic!("state {state:?}")));
        }
        // Polls, spaced so the example's own traffic keeps the cores.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(seen, all, "states shown in the first 3 s");
}
