//! The page given snapshots with fields missing or of the wrong kind (an older or newer
//! server, a proxy that trims): each missing value shows a dash and no tile breaks. The real
//! page and policy, served beside a hand-written `/events`.

use super::{browser, eventually, tiles, BOUND, ONE_BROWSER};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use breaker_runtime::admin::AdminRouter;
use breaker_runtime::Registry;
use std::sync::Arc;

/// What the hand-written stream sends: one complete-enough breaker, one with nothing but a
/// name, one with values of the wrong kinds, entries that are not breakers at all, and the
/// fleet link (fleet mode) of two breakers, one of them cut off from Redis.
const EVENT: &str = r#"[
    {"name": "bare"},
    {"name": "odd", "state": "exploded", "metrics": {"failures": "many", "successes": 7},
     "thresholds": "none", "last_transition": 5, "probes": [], "retry_after_ms": "soon",
     "fleet": "yes"},
    {"nope": 1}, null, 42,
    {"name": "whole", "state": "open", "retry_after_ms": 9000,
     "metrics": {"successes": 1, "failures": 2, "ignored": 0, "rejected": 3, "timeouts": 0, "cancelled": 0},
     "fleet": {"namespace": "checkout", "connected": false, "last_sync_ms": 4000, "errors": 9}},
    {"name": "linked", "state": "closed",
     "fleet": {"namespace": "<b>checkout</b>", "connected": true, "last_sync_ms": 20, "errors": 0}}
]"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_odd_fields_show_dashes_and_break_no_tile() {
    let _one = ONE_BROWSER.lock().await;
    let Some((_driver, client)) = browser().await else {
        return;
    };
    // The real page, with its policy, from the real router.
    let real = crate::server::Server::start(
        AdminRouter::with_registry(Arc::new(Registry::new())).into_router(),
        "127.0.0.1:0".parse().unwrap(),
    );
    let response = reqwest::get(format!("http://{}/dashboard", real.addr))
        .await
        .unwrap();
    // With no breaker at all, the page says so rather than showing nothing.
    client
        .goto(&format!("http://{}/dashboard", real.addr))
        .await
        .unwrap();
    let empty =
        r#"const e = document.getElementById("empty"); return e.hidden ? "" : e.textContent;"#;
    eventually("the empty message", BOUND, || async {
        let text = client.execute(empty, vec![]).await.unwrap();
        (text == "No circuit breakers registered yet.").then_some(())
    })
    .await;
    let csp = response.headers()["content-security-policy"].clone();
    let html = response.text().await.unwrap();
    let page = move || {
        let (csp, html) = (csp.clone(), html.clone());
        async move {
            (
                [(header::CONTENT_SECURITY_POLICY, csp)],
                axum::response::Html(html),
            )
                .into_response()
        }
    };
    let events = || async {
        (
            [(header::CONTENT_TYPE, "text/event-stream")],
            format!("data: {}\n\n", EVENT.replace('\n', " ")),
        )
    };
    let app = Router::new()
        .route("/dashboard", get(page))
        .route("/events", get(events));
    let fake = crate::server::Server::start(app, "127.0.0.1:0".parse().unwrap());
    client
        .goto(&format!("http://{}/dashboard", fake.addr))
        .await
        .unwrap();

    let shown = eventually("four tiles", BOUND, || async {
        let tiles = tiles(&client).await;
        (tiles.len() == 4).then_some(tiles)
    })
    .await;
    let by = |name: &str| shown.iter().find(|t| t["name"] == name).unwrap().clone();
    let bare = by("bare");
    assert_eq!(bare["state"], "–");
    assert_eq!(
        (&bare["successes"], &bare["failures"]),
        (&"–".into(), &"–".into())
    );
    assert_eq!(bare["last"], "last change: –");
    let odd = by("odd");
    assert_eq!(odd["state"], "exploded");
    assert_eq!(
        (&odd["successes"], &odd["failures"]),
        (&"7".into(), &"–".into())
    );
    let whole = by("whole");
    assert_eq!(whole["state"], "Open");
    assert_eq!(whole["rejected"], "3");
    assert!(whole["phase"]
        .as_str()
        .unwrap()
        .starts_with("next probe in "));

    // The fleet line: none without a link (or with a link of the wrong kind); a link cut off
    // from Redis says so; names are text, not HTML (as HTML, `<b>…</b>` would not show).
    assert_eq!((&bare["fleet"], &odd["fleet"]), (&"".into(), &"".into()));
    assert_eq!(
        whole["fleet"],
        "fleet checkout: Redis unreachable, deciding alone"
    );
    let linked = by("linked");
    assert_eq!(
        linked["fleet"],
        "fleet <b>checkout</b>: linked (open, close and reset act fleet-wide)"
    );
    client.close().await.unwrap();
}
