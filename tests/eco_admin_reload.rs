//! `POST /config/reload` (issue 13, item 13): an admin router given a config file reloads it
//! on request; breakers keep their state; a bad file is a `422` that changes nothing.
#![cfg(all(feature = "axum", feature = "config"))]

mod common;

use breaker_runtime::admin::AdminRouter;
use breaker_runtime::{BreakerConfig, Registry, State};
use common::serve;
use serde_json::Value;
use std::sync::Arc;

async fn post(addr: std::net::SocketAddr, path: &str, origin: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(format!("http://{addr}{path}"));
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn config_file(name: &str, body: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("{name}-{}.toml", std::process::id()));
    std::fs::write(&path, body).unwrap();
    path
}

#[tokio::test]
async fn an_edited_file_applies_on_reload_and_the_breaker_keeps_its_state() {
    let mine = Arc::new(Registry::new());
    let path = config_file(
        "eco-admin-reload",
        "[breakers.\"reload-db\"]\nfailure_threshold = 3\n",
    );
    breaker_runtime::config::load_file_into(&mine, &path).unwrap();
    let db = mine.get_or_create("reload-db", BreakerConfig::default());
    assert_eq!(db.settings().failure_threshold, Some(3));
    db.force_open();
    let addr = serve(
        AdminRouter::with_registry(mine.clone())
            .config_file(&path)
            .into_router(),
    );

    std::fs::write(
        &path,
        "[breakers.\"reload-db\"]\nfailure_threshold = 9\n\n[breakers.\"reload-dbb\"]\nreset_timeout = \"5s\"\n",
    )
    .unwrap();
    let (status, body) = post(addr, "/config/reload", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reloaded"], path.display().to_string());
    assert_eq!(body["unmatched"], serde_json::json!(["reload-dbb"]));
    assert_eq!(db.settings().failure_threshold, Some(9), "the edit applies");
    assert_eq!(db.state(), State::ForcedOpen, "the state stays");

    // A bad file: 422 with the loader's words, and nothing changes.
    std::fs::write(&path, "[breakers.\"reload-db\"]\nfailure_rate = 1.5\n").unwrap();
    let (status, body) = post(addr, "/config/reload", None).await;
    assert_eq!(status, 422, "{body}");
    let message = body["error"].as_str().unwrap();
    assert!(message.contains("failure_rate"), "{message}");
    assert_eq!(db.settings().failure_threshold, Some(9));

    // Guarded like the other POST routes: a cross-site page cannot trigger it.
    let (status, _) = post(addr, "/config/reload", Some("http://evil.example")).await;
    assert_eq!(status, 403);
    // Only POST.
    let response = reqwest::get(format!("http://{addr}/config/reload"))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    std::fs::remove_file(&path).ok();
}

#[tokio::test]
async fn without_a_file_there_is_nothing_to_reload() {
    let addr = serve(AdminRouter::with_registry(Arc::new(Registry::new())).into_router());
    let (status, body) = post(addr, "/config/reload", None).await;
    assert_eq!(status, 404);
    assert!(
        body["error"].as_str().unwrap().contains("config_file"),
        "{body}"
    );
}
