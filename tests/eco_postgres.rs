//! The PostgreSQL example, run against a real PostgreSQL (the Debian package `postgresql`):
//! the breaker opens when the server stops and the cache answers, a read cut by `call_timeout`
//! is cancelled on the server, and after the restart the breaker closes and reads are fresh.
//! Skips on a machine without PostgreSQL, saying what to install; fails under `CI=true`.

mod common;

// The example's own code, not a copy: its `main` is unused here.
#[allow(dead_code)]
#[path = "../examples/postgres.rs"]
mod example;

use breaker_runtime::State;
use common::real_tool::find_tool;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_trips_serves_the_cache_and_recovers() {
    let postgres = breaker::postgres::bin_dir()
        .map(|bin| bin.join("postgres").display().to_string())
        .unwrap_or_else(|| "/usr/lib/postgresql/<version>/bin/postgres".into());
    if find_tool(&[&postgres], "postgresql").is_none() {
        return;
    }
    let report = example::run().await.expect("the example runs");
    let (old, new) = report.prices;
    let steps = |phase: &str| -> Vec<&example::Step> {
        report.steps.iter().filter(|s| s.phase == phase).collect()
    };
    let quote = |step: &example::Step| -> example::Quote {
        step.result
            .clone()
            .unwrap_or_else(|e| panic!("{} read failed: {e}", step.phase))
    };

    // Healthy: fresh reads, closed.
    for step in steps("healthy") {
        let q = quote(step);
        assert_eq!(
            (q.price, q.stale.as_deref(), step.state),
            (old, None, State::Closed)
        );
    }

    // Locked table: cut at call_timeout (500 ms), answered from the cache, cancelled on the
    // server, and the next read goes through at once.
    let locked = steps("locked");
    assert_eq!(locked.len(), 1);
    let q = quote(locked[0]);
    assert_eq!(q.price, old);
    assert!(
        q.stale
            .as_deref()
            .is_some_and(|why| why.contains("timed out")),
        "{q:?}"
    );
    assert!(
        locked[0].took >= Duration::from_millis(500) && locked[0].took < Duration::from_secs(3),
        "{:?}",
        locked[0].took
    );
    let cancelled = report
        .cancelled_after
        .expect("the cut query was cancelled on the server");
    assert!(cancelled < Duration::from_secs(3), "{cancelled:?}");
    let unlocked = steps("unlocked");
    assert_eq!(quote(unlocked[0]).stale, None);
    assert!(
        unlocked[0].took < Duration::from_secs(1),
        "{:?}",
        unlocked[0].took
    );

    // Outage: three failures open it (failure_threshold = 3), each served from the cache.
    let outage = steps("outage");
    assert_eq!(outage.len(), 3, "{outage:?}");
    assert_eq!(outage.last().unwrap().state, State::Open);
    for step in &outage {
        let q = quote(step);
        assert_eq!(q.price, old);
        assert!(q.stale.is_some(), "{q:?}");
    }
    // Open: rejected without touching the database, still served from the cache.
    let open = steps("open");
    assert_eq!(open.len(), 3);
    for step in &open {
        let q = quote(step);
        assert_eq!((q.price, step.state), (old, State::Open));
        assert!(
            q.stale
                .as_deref()
                .is_some_and(|why| why.contains("is open")),
            "{q:?}"
        );
    }

    // Recovered: two probes (success_threshold = 2) close it, with the price written during
    // the outage.
    let recovered = steps("recovered");
    assert_eq!(recovered.len(), 3);
    for step in &recovered {
        let q = quote(step);
        assert_eq!((q.price, q.stale.as_deref()), (new, None));
    }
    assert_eq!(recovered[0].state, State::HalfOpen);
    assert_eq!(recovered[1].state, State::Closed);
    assert_eq!(recovered[2].state, State::Closed);
}
