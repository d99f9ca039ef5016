//! Feature `axum`: the admin router, mounted in a real axum server on 127.0.0.1 and driven
//! with a real HTTP client.
#![cfg(feature = "axum")]

mod common;

use axum::Router;
use breaker_runtime::admin::AdminRouter;
use breaker_runtime::{registry, BreakerConfig, Registry, State};
use common::serve;
use reqwest::{Client, Method};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;

struct Http {
    client: Client,
    base: String,
}

impl Http {
    fn new(addr: SocketAddr, prefix: &str) -> Http {
        Http {
            client: Client::new(),
            base: format!("http://{addr}{prefix}"),
        }
    }

    /// Status, `Allow` header and JSON body of `method path`.
    async fn send(&self, method: Method, path: &str) -> (u16, Option<String>, Value) {
        let response = self
            .client
            .request(method, format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let allow = response
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned());
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(content_type.as_deref(), Some("application/json"), "{path}");
        let body = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        (status, allow, body)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let (status, _, body) = self.send(Method::GET, path).await;
        (status, body)
    }

    async fn post(&self, path: &str) -> (u16, Value) {
        let (status, _, body) = self.send(Method::POST, path).await;
        (status, body)
    }
}

/// The breakers' names in a `GET /breakers` answer, in its order.
fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn list_show_and_control_breakers_over_http() {
    let db = registry().get_or_create("eco-admin-db", BreakerConfig::default());
    let cache = registry().get_or_create("eco-admin-cache", BreakerConfig::default());
    let _ = cache.call_sync(|| Ok::<_, &str>(()));
    let _ = cache.call_sync(|| Err::<(), _>("miss"));
    let app = Router::new().nest("/admin", AdminRouter::new(registry()).into_router());
    let http = Http::new(serve(app), "/admin");

    let (status, list) = http.get("/breakers").await;
    assert_eq!(status, 200);
    let names = names(&list);
    assert!(names.contains(&"eco-admin-db") && names.contains(&"eco-admin-cache"));
    assert!(
        names.windows(2).all(|w| w[0] <= w[1]),
        "sorted by name: {names:?}"
    );

    let (status, one) = http.get("/breakers/eco-admin-cache").await;
    assert_eq!(status, 200);
    assert_eq!(one["name"], "eco-admin-cache");
    assert_eq!(one["state"], "closed");
    assert_eq!(one["retry_after_ms"], Value::Null);
    assert_eq!(one["metrics"]["calls"], 2);
    assert_eq!(one["metrics"]["successes"], 1);
    assert_eq!(one["metrics"]["failures"], 1);

    let (status, opened) = http.post("/breakers/eco-admin-db/open").await;
    assert_eq!((status, &opened["state"]), (200, &json!("forced_open")));
    assert_eq!(db.state(), State::ForcedOpen);
    assert!(db.try_acquire().is_err());
    let (_, shown) = http.get("/breakers/eco-admin-db").await;
    assert_eq!(shown["state"], "forced_open");
    assert_eq!(shown["metrics"]["rejected"], 1);

    for (action, state) in [
        ("disable", State::Disabled),
        ("metrics_only", State::MetricsOnly),
        ("close", State::Closed),
    ] {
        let (status, body) = http.post(&format!("/breakers/eco-admin-db/{action}")).await;
        assert_eq!(status, 200, "{action}");
        assert_eq!(body["state"], state.as_str());
        assert_eq!(db.state(), state);
    }
    let (status, reset) = http.post("/breakers/eco-admin-cache/reset").await;
    assert_eq!((status, &reset["metrics"]["calls"]), (200, &json!(0)));
    assert_eq!(cache.metrics().calls, 0);
}

#[tokio::test]
async fn unknown_names_and_actions_are_404_and_wrong_methods_405_all_in_json() {
    registry().get_or_create("eco-admin-errors", BreakerConfig::default());
    let http = Http::new(serve(AdminRouter::default().into_router()), "");

    let (status, body) = http.get("/breakers/eco-admin-nobody").await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({ "error": "no circuit breaker named `eco-admin-nobody`" })
    );
    let (status, body) = http.post("/breakers/eco-admin-nobody/open").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "no circuit breaker named `eco-admin-nobody`");
    let (status, body) = http.post("/breakers/eco-admin-errors/explode").await;
    assert_eq!(status, 404);
    assert_eq!(
        body["error"],
        "unknown action `explode`; use open, close, disable, metrics_only or reset"
    );
    assert_eq!(
        registry().get("eco-admin-errors").unwrap().state(),
        State::Closed
    );

    for (method, path, allow) in [
        (Method::DELETE, "/breakers/eco-admin-errors", "GET,HEAD"),
        (Method::POST, "/breakers", "GET,HEAD"),
        (Method::GET, "/breakers/eco-admin-errors/open", "POST"),
        (Method::PUT, "/health", "GET,HEAD"),
    ] {
        let (status, got_allow, body) = http.send(method.clone(), path).await;
        assert_eq!(status, 405, "{method} {path}");
        assert_eq!(got_allow.as_deref(), Some(allow), "{method} {path}");
        assert_eq!(body["error"], format!("method not allowed; use {allow}"));
    }
}

#[tokio::test]
async fn health_is_503_while_a_critical_breaker_is_open() {
    let payments = registry().get_or_create(
        "eco-admin-payments",
        BreakerConfig::builder().failure_threshold(2).build(),
    );
    let search = registry().get_or_create("eco-admin-search", BreakerConfig::default());
    let admin = AdminRouter::new(registry()).critical(["eco-admin-payments", "eco-admin-not-yet"]);
    let http = Http::new(
        serve(Router::new().nest("/ops", admin.into_router())),
        "/ops",
    );

    let (status, body) = http.get("/health").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["open_critical"], json!([]));
    assert_eq!(
        body["critical"],
        json!([
            { "name": "eco-admin-payments", "state": "closed" },
            { "name": "eco-admin-not-yet", "state": null },
        ])
    );
    assert!(body["breakers"]["total"].as_u64().unwrap() >= 2);

    // A breaker that is not critical may be open: still healthy.
    search.force_open();
    assert_eq!(http.get("/health").await.0, 200);

    // The critical breaker opens on its own.
    for _ in 0..2 {
        let _ = payments.call_sync(|| Err::<(), _>("card network down"));
    }
    let (status, body) = http.get("/health").await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["open_critical"], json!(["eco-admin-payments"]));
    assert_eq!(body["critical"][0]["state"], "open");

    // Closed over HTTP: healthy again. Forced open over HTTP: unhealthy.
    assert_eq!(http.post("/breakers/eco-admin-payments/close").await.0, 200);
    assert_eq!(http.get("/health").await.0, 200);
    assert_eq!(http.post("/breakers/eco-admin-payments/open").await.0, 200);
    let (status, body) = http.get("/health").await;
    assert_eq!(
        (status, &body["critical"][0]["state"]),
        (503, &json!("forced_open"))
    );
    search.close();
    payments.close();
}

#[tokio::test]
async fn own_registry_and_names_that_need_percent_encoding() {
    let mine = Arc::new(Registry::new());
    let name = "<app::Db as app::Store>::get";
    mine.get_or_create(name, BreakerConfig::default());
    mine.get_or_create("eco-admin-own", BreakerConfig::default());
    let http = Http::new(
        serve(AdminRouter::with_registry(mine.clone()).into_router()),
        "",
    );

    let (status, list) = http.get("/breakers").await;
    assert_eq!(status, 200);
    let names = names(&list);
    assert_eq!(names, [name, "eco-admin-own"]);
    assert_eq!(
        list[1],
        json!({
            "name": "eco-admin-own",
            "state": "closed",
            "retry_after_ms": null,
            "metrics": {
                "calls": 0, "successes": 0, "failures": 0, "ignored": 0, "rejected": 0,
                "cancelled": 0, "timeouts": 0, "slow_calls": 0, "failure_rate": null,
                "slow_call_rate": null, "state": "closed", "opened_count": 0
            },
            "open_cause": null,
            "computed_state": null,
            "thresholds": {
                "failure_threshold": 5, "failure_rate": null, "slow_call_rate": null,
                "minimum_calls": 10
            },
            "last_transition": null,
            "probes": null
        })
    );

    let encoded = "/breakers/%3Capp::Db%20as%20app::Store%3E::get";
    let (status, one) = http.get(encoded).await;
    assert_eq!((status, one["name"].as_str()), (200, Some(name)));
    let (status, _) = http.post(&format!("{encoded}/open")).await;
    assert_eq!(status, 200);
    assert_eq!(mine.get(name).unwrap().state(), State::ForcedOpen);
    // Not in the global registry: the router reads only its own.
    assert!(registry().get(name).is_none());
}

#[tokio::test]
async fn bad_paths_and_unknown_routes_under_breakers_are_json_too() {
    registry().get_or_create("eco-admin-paths", BreakerConfig::default());
    let http = Http::new(
        serve(Router::new().nest("/admin", AdminRouter::default().into_router())),
        "/admin",
    );

    // A name that does not percent-decode to UTF-8: axum's rejection was 400 text/plain.
    for (method, path) in [
        (Method::GET, "/breakers/%FF"),
        (Method::POST, "/breakers/%FF/open"),
    ] {
        let (status, _, body) = http.send(method.clone(), path).await;
        assert_eq!(status, 400, "{method} {path}");
        assert!(
            body["error"].as_str().unwrap().contains("UTF-8"),
            "{method} {path}: {body}"
        );
    }

    // Unknown routes under /breakers: the JSON 404, not an empty one.
    for (method, path) in [
        (Method::GET, "/breakers/"),
        (Method::POST, "/breakers/"),
        (Method::GET, "/breakers/eco-admin-paths/"),
        (Method::POST, "/breakers/eco-admin-paths/open/now"),
        (Method::GET, "/breakers/eco-admin-paths/open/"),
    ] {
        let (status, _, body) = http.send(method.clone(), path).await;
        assert_eq!(status, 404, "{method} {path}");
        assert!(
            body["error"].as_str().unwrap().starts_with("no such route"),
            "{method} {path}: {body}"
        );
    }

    // An unknown action is 404 whatever the method; a known one with the wrong method 405.
    let (status, allow, body) = http
        .send(Method::GET, "/breakers/eco-admin-paths/frobnicate")
        .await;
    assert_eq!((status, allow), (404, None));
    assert_eq!(
        body["error"],
        "unknown action `frobnicate`; use open, close, disable, metrics_only or reset"
    );
    let (status, allow, _) = http
        .send(Method::GET, "/breakers/eco-admin-paths/open")
        .await;
    assert_eq!((status, allow.as_deref()), (405, Some("POST")));
    assert_eq!(
        registry().get("eco-admin-paths").unwrap().state(),
        State::Closed
    );
}
