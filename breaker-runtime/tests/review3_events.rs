//! Review 3: the admin `/events` stream with extreme durations.
#![cfg(feature = "axum")]

use axum::body::Body;
use axum::http::Request;
use breaker_runtime::admin::AdminRouter;
use breaker_runtime::{BreakerConfig, Registry};
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

async fn first_chunks(admin: AdminRouter, n: usize) -> Vec<String> {
    let router: axum::Router = admin.into_router();
    let response = router
        .oneshot(Request::get("/events").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.into_body().into_data_stream();
    let mut out = Vec::new();
    for _ in 0..n {
        let chunk = tokio::time::timeout(Duration::from_secs(5), body.next())
            .await
            .expect("a chunk within 5 s")
            .expect("the stream stays open")
            .unwrap();
        out.push(String::from_utf8_lossy(&chunk).into_owned());
    }
    out
}

/// `heartbeat(Duration::MAX)`, a way to say "no heartbeat": the setter clamps only below.
/// `Instant::now() + every` then overflows in the handler.
#[tokio::test]
async fn a_huge_heartbeat_does_not_panic_the_events_handler() {
    let registry = Arc::new(Registry::new());
    registry.get_or_create("db", BreakerConfig::default());
    let admin = AdminRouter::with_registry(registry).heartbeat(Duration::MAX);
    let handle = tokio::spawn(first_chunks(admin, 1));
    let r = handle.await;
    assert!(r.is_ok(), "the /events handler panicked: {:?}", r.err());
}

/// A breaker open for `Duration::MAX` and one with `reset_timeout` zero: the hub's
/// wake-up time `now + next_move_ms` stays in range, and the stream keeps flowing.
#[tokio::test]
async fn extreme_open_periods_keep_the_stream_alive() {
    let registry = Arc::new(Registry::new());
    let forever = registry.get_or_create("forever", BreakerConfig::default());
    forever.open_for(Duration::MAX);
    let zero = registry.get_or_create(
        "zero",
        BreakerConfig::builder()
            .failure_threshold(1)
            .reset_timeout(Duration::ZERO)
            .half_open_timeout(Duration::MAX)
            .build(),
    );
    let _ = zero.call_sync(|| Err::<(), _>("down"));
    let _probe = zero.try_acquire();
    let admin = AdminRouter::with_registry(registry.clone());
    let other = registry.get_or_create("other", BreakerConfig::default());
    let chunks = tokio::spawn(async move {
        let router: axum::Router = admin.into_router();
        let response = router
            .oneshot(Request::get("/events").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let mut body = response.into_body().into_data_stream();
        let mut seen = String::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let mut forced = false;
        while tokio::time::Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_millis(500), body.next()).await {
                Ok(Some(Ok(c))) => seen.push_str(&String::from_utf8_lossy(&c)),
                Ok(other) => panic!("stream ended: {other:?}"),
                Err(_) => {}
            }
            if !forced {
                other.force_open();
                forced = true;
            }
            if seen.contains("forced_open") {
                return seen;
            }
        }
        panic!("no forced_open event within 5 s: {seen}");
    });
    let r = chunks.await;
    assert!(r.is_ok(), "{:?}", r.err());
}

/// Default names hold `<`, `>`, spaces, `::`, and after a collision `@src/file.rs:1:2`:
/// the admin routes address them percent-encoded in one path segment.
#[tokio::test]
async fn admin_routes_address_default_method_names() {
    let registry = Arc::new(Registry::new());
    let names = [
        "<app::Client as app::Api>::get",
        "app::Pair::pm@src/pair.rs:31:12",
        "<alloc::vec::Vec<u8> as app::Api>::get",
    ];
    for n in names {
        registry.get_or_create(n, BreakerConfig::default());
    }
    let router: axum::Router = AdminRouter::with_registry(registry.clone()).into_router();
    for n in names {
        let encoded: String = n
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let r = router
            .clone()
            .oneshot(
                Request::post(format!("/breakers/{encoded}/open"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{n} as {encoded}");
        assert_eq!(
            registry.get(n).unwrap().state(),
            breaker_runtime::State::ForcedOpen,
            "{n}"
        );
    }
}

/// A breaker removed while watched, open with a timed move pending: the stream drops it
/// (within the refresh), keeps flowing, and a transition of another breaker comes through.
#[tokio::test]
async fn a_breaker_removed_while_watched_leaves_the_stream() {
    let registry = Arc::new(Registry::new());
    let gone = registry.get_or_create(
        "rev3-gone",
        BreakerConfig::builder()
            .reset_timeout(Duration::from_millis(300))
            .build(),
    );
    gone.force_open();
    gone.close();
    gone.open_for(Duration::from_millis(300));
    let stay = registry.get_or_create("rev3-stay", BreakerConfig::default());
    let router: axum::Router = AdminRouter::with_registry(registry.clone()).into_router();
    let response = router
        .oneshot(Request::get("/events").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let mut body = response.into_body().into_data_stream();
    let first = String::from_utf8_lossy(&body.next().await.unwrap().unwrap()).into_owned();
    assert!(first.contains("rev3-gone"), "{first}");
    registry.remove("rev3-gone");
    drop(gone);
    stay.force_open();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut last = String::new();
    while tokio::time::Instant::now() < deadline {
        if let Ok(Some(Ok(c))) = tokio::time::timeout(Duration::from_millis(500), body.next()).await
        {
            let text = String::from_utf8_lossy(&c).into_owned();
            if text.starts_with("data:") {
                last = text;
                if last.contains("forced_open") && !last.contains("rev3-gone") {
                    return;
                }
            }
        }
    }
    panic!("last event: {last}");
}
