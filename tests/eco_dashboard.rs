//! Feature `axum`: the dashboard's routes over a real server on 127.0.0.1 and a real HTTP
//! client. `GET /dashboard` is one self-contained page whose `Content-Security-Policy`
//! allows exactly its own inline script and style; `GET /events` streams the JSON of
//! `GET /breakers`, first on connect, then on every change, with heartbeats; both work with
//! the guard and the bearer token as the page uses them.
#![cfg(feature = "axum")]

mod common;

use base64::Engine as _;
use breaker_runtime::admin::AdminRouter;
use breaker_runtime::{circuit_breaker, registry, BreakerConfig, Registry};
use common::serve;
use common::sse::{find, Block, Sse};
use reqwest::Client;
use serde_json::{json, Value};
use sha2::Digest as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

fn own(names: &[&str]) -> Arc<Registry> {
    let registry = Arc::new(Registry::new());
    for name in names {
        registry.get_or_create(name, BreakerConfig::default());
    }
    registry
}

async fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = Client::new().get(format!("http://{addr}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn json_of(response: reqwest::Response) -> Value {
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// The text between the one `<{tag}>` and its closing tag.
fn inline<'a>(html: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    assert_eq!(html.matches(&open).count(), 1, "one <{tag}> in the page");
    let start = html.find(&open).unwrap() + open.len();
    let end = html[start..].find(&format!("</{tag}>")).unwrap();
    &html[start..start + end]
}

fn csp_hash(text: &str) -> String {
    let digest = sha2::Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

#[tokio::test]
async fn the_page_is_served_with_a_policy_that_allows_only_its_own_script_and_style() {
    let addr = serve(AdminRouter::with_registry(own(&["db"])).into_router());
    let response = get(addr, "/dashboard", None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type"),
        "text/html; charset=utf-8"
    );
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    let csp = header(&response, "content-security-policy");
    let html = response.text().await.unwrap();

    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    let script = format!("script-src {}", csp_hash(inline(&html, "script")));
    let style = format!("style-src {}", csp_hash(inline(&html, "style")));
    for wanted in [
        "default-src 'none'",
        script.as_str(),
        style.as_str(),
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(directives.contains(&wanted), "{wanted:?} in {csp:?}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    // One script and one style, both inline: nothing loaded from elsewhere, no handler
    // attributes (which the policy would block anyway).
    assert!(!html.contains("<script src") && !html.contains("stylesheet"));
    assert!(!html.contains(" onclick=") && !html.contains(" onload="));
    assert!(html.len() < 32 * 1024, "a few KB: {}", html.len());
}

#[tokio::test]
async fn the_page_names_no_other_host() {
    let addr = serve(AdminRouter::with_registry(own(&[])).into_router());
    let html = get(addr, "/dashboard", None).await.text().await.unwrap();
    for scheme in [
        "http://",
        "https://",
        "ws://",
        "wss://",
        "src=\"//",
        "href=\"//",
    ] {
        assert!(!html.contains(scheme), "the page holds {scheme:?}");
    }
    // Its requests are relative, to the router it came from.
    assert!(html.contains(r#"fetch("events""#));
    assert!(html.contains(r#"fetch("breakers/""#));
}

#[tokio::test]
async fn the_first_event_is_what_get_breakers_answers() {
    let registry = own(&["db", "cache", "payments"]);
    let cache = registry.get("cache").unwrap();
    let _ = cache.call_sync(|| Ok::<_, &str>(()));
    let _ = cache.call_sync(|| Err::<(), _>("miss"));
    let addr = serve(AdminRouter::with_registry(registry).into_router());

    let response = get(addr, "/events", None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "text/event-stream");
    let mut events = Sse::new(response);
    let first = events.next_json().await;
    let list: Value = json_of(get(addr, "/breakers", None).await).await;
    assert_eq!(first, list);
    let names: Vec<&str> = first
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cache", "db", "payments"]);
    assert_eq!(first[0]["metrics"]["failures"], 1);
}

#[tokio::test]
async fn a_change_is_sent_without_asking() {
    let registry = own(&["db", "cache"]);
    let db = registry.get("db").unwrap();
    let addr = serve(AdminRouter::with_registry(registry).into_router());
    let mut events = Sse::new(get(addr, "/events", None).await);
    assert_eq!(
        find(&events.next_json().await, "db").unwrap()["state"],
        "closed"
    );

    db.force_open();
    let event = events
        .until(|list| find(list, "db").is_some_and(|b| b["state"] == "forced_open"))
        .await;
    let shown = find(&event, "db").unwrap();
    assert_eq!(shown["last_transition"]["reason"], "manual");
    assert_eq!(find(&event, "cache").unwrap()["state"], "closed");

    // Counts change without a transition; the stream shows them too.
    let _ = db.try_acquire();
    events
        .until(|list| find(list, "db").is_some_and(|b| b["metrics"]["rejected"] == 1))
        .await;
}

#[tokio::test]
async fn a_burst_of_changes_is_coalesced_to_at_most_one_event_per_quarter_second() {
    let registry = own(&["db"]);
    let db = registry.get("db").unwrap();
    let addr = serve(AdminRouter::with_registry(registry).into_router());
    let mut events = Sse::new(get(addr, "/events", None).await);
    events.next_json().await;
    let start = tokio::time::Instant::now();
    // 201 transitions as fast as they go.
    for _ in 0..100 {
        db.force_open();
        db.close();
    }
    db.disable();
    let mut seen = 0;
    events
        .until(|list| {
            seen += 1;
            find(list, "db").is_some_and(|b| b["state"] == "disabled")
        })
        .await;
    let took = start.elapsed();
    let allowed = took.as_millis() / 250 + 2;
    assert!(seen as u128 <= allowed, "{seen} events in {took:?}");
}

#[tokio::test]
async fn a_quiet_stream_sends_heartbeats() {
    let admin = AdminRouter::with_registry(own(&["db"])).heartbeat(Duration::from_millis(50));
    let addr = serve(admin.into_router());
    let mut events = Sse::new(get(addr, "/events", None).await);
    let mut heartbeats = 0;
    while heartbeats < 3 {
        if events.next().await == Block::Comment("heartbeat".into()) {
            heartbeats += 1;
        }
    }
}

#[tokio::test]
async fn with_a_token_the_page_loads_and_the_stream_and_actions_need_it() {
    let registry = own(&["db"]);
    let db = registry.get("db").unwrap();
    let admin = AdminRouter::with_registry(registry).bearer_token("s3cret");
    let addr = serve(admin.into_router());

    // The page holds no data: a browser loads it without a header, then sends the token.
    assert_eq!(get(addr, "/dashboard", None).await.status(), 200);
    let refused = get(addr, "/events", None).await;
    assert_eq!(refused.status(), 401);
    assert_eq!(header(&refused, "www-authenticate"), "Bearer");
    assert_eq!(get(addr, "/events", Some("wrong")).await.status(), 401);
    let mut events = Sse::new(get(addr, "/events", Some("s3cret")).await);
    assert_eq!(
        find(&events.next_json().await, "db").unwrap()["state"],
        "closed"
    );

    // What the page's buttons send: the token, JSON, and the browser's own Origin.
    let post = |origin: String, token: &'static str| {
        Client::new()
            .post(format!("http://{addr}/breakers/db/open"))
            .bearer_auth(token)
            .header("origin", origin)
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/json")
            .body("{}")
            .send()
    };
    assert_eq!(
        post(format!("http://{addr}"), "wrong")
            .await
            .unwrap()
            .status(),
        401
    );
    let other = post("http://evil.example".into(), "s3cret").await.unwrap();
    assert_eq!(other.status(), 403);
    assert_eq!(db.state(), breaker_runtime::State::Closed);
    let ok = post(format!("http://{addr}"), "s3cret").await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(db.state(), breaker_runtime::State::ForcedOpen);
    events
        .until(|list| find(list, "db").is_some_and(|b| b["state"] == "forced_open"))
        .await;
}

#[circuit_breaker(name = "eco-dashboard-never-called", failure_rate = 0.5)]
async fn never_called() -> Result<(), std::io::Error> {
    Ok(())
}

#[tokio::test]
async fn annotated_breakers_are_shown_before_their_first_call() {
    let _ = never_called; // declared, never called
    let addr = serve(AdminRouter::new(registry()).into_router());
    let mut events = Sse::new(get(addr, "/events", None).await);
    let first = events.next_json().await;
    let shown = find(&first, "eco-dashboard-never-called").expect("listed before its first call");
    assert_eq!(shown["state"], "closed");
    assert_eq!(shown["metrics"]["calls"], 0);
    assert_eq!(shown["thresholds"]["failure_rate"], 0.5);
}

#[tokio::test]
async fn a_snapshot_shows_what_the_tiles_draw() {
    let registry = Arc::new(Registry::new());
    let watched = registry.get_or_create(
        "watched",
        BreakerConfig::builder()
            .failure_rate(0.5)
            .minimum_calls(2)
            .window(Duration::from_secs(60))
            .build(),
    );
    let probing = registry.get_or_create(
        "probing",
        BreakerConfig::builder()
            .half_open_max_calls(3)
            .success_threshold(2)
            .build(),
    );
    watched.metrics_only();
    for _ in 0..2 {
        let _ = watched.call_sync(|| Err::<(), _>("down"));
    }
    probing.open_for(Duration::ZERO);
    let probe = probing.try_acquire().unwrap();
    let addr = serve(AdminRouter::with_registry(registry).into_router());
    let list: Value = json_of(get(addr, "/breakers", None).await).await;

    let w = find(&list, "watched").unwrap();
    assert_eq!(w["state"], "metrics_only");
    // Forced into metrics-only, but its counts would have opened it.
    assert_eq!(w["computed_state"], "open");
    assert_eq!(w["metrics"]["failure_rate"], 1.0);
    assert_eq!(
        w["thresholds"],
        json!({"failure_threshold": null, "failure_rate": 0.5, "slow_call_rate": null, "minimum_calls": 2})
    );
    let p = find(&list, "probing").unwrap();
    assert_eq!(p["state"], "half_open");
    assert_eq!(p["computed_state"], Value::Null);
    assert_eq!(
        p["probes"],
        json!({"in_flight": 1, "max_in_flight": 3, "successes": 0, "success_threshold": 2})
    );
    assert_eq!(p["last_transition"]["reason"], "reset_timeout_elapsed");
    drop(probe);
}
