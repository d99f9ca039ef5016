//! `GET /breakers/{name}` carries `settings`: each setting's value and where it came from.
#![cfg(all(feature = "axum", feature = "config"))]

mod common;

use breaker_runtime::admin::AdminRouter;
use breaker_runtime::{config, BreakerConfig, Registry};
use common::serve;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, Value) {
    let response = reqwest::get(format!("http://{addr}{path}")).await.unwrap();
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_str(&response.text().await.unwrap()).unwrap(),
    )
}

#[tokio::test]
async fn each_setting_shows_its_value_and_its_source() {
    let mine = Arc::new(Registry::new());
    let name = "eco-admin-settings";
    config::load_str_into(
        &mine,
        r#"
        [default]
        half_open_timeout = "45s"

        [breakers."eco-admin-settings"]
        success_threshold = 3
        "#,
    )
    .unwrap();
    std::env::set_var("BREAKER_ECO_ADMIN_SETTINGS_CALL_TIMEOUT", "2s");
    config::load_env_into(&mine).unwrap();
    let code = BreakerConfig::builder()
        .failure_threshold(7)
        .reset_timeout(Duration::from_secs(20))
        .failure_if(|_: &std::io::Error| true)
        .build();
    let breaker = mine.get_or_create(name, code);
    assert_eq!(
        breaker.settings().call_timeout,
        Some(Duration::from_secs(2))
    );
    let addr = serve(AdminRouter::with_registry(mine.clone()).into_router());

    let (status, one) = get(addr, &format!("/breakers/{name}")).await;
    assert_eq!(status, 200);
    assert_eq!(one["name"], name);
    assert_eq!(one["state"], "closed");
    let settings = &one["settings"];
    let source = |key: &str| {
        settings[key]["source"]
            .as_str()
            .unwrap_or("missing")
            .to_owned()
    };
    assert_eq!(
        settings["failure_threshold"],
        json!({"value": 7, "source": "code"})
    );
    assert_eq!(source("reset_timeout"), "code");
    assert_eq!(
        settings["success_threshold"],
        json!({"value": 3, "source": "file"})
    );
    assert_eq!(source("half_open_timeout"), "file");
    assert_eq!(source("call_timeout"), "env");
    assert_eq!(
        settings["minimum_calls"],
        json!({"value": 10, "source": "default"})
    );
    assert_eq!(
        settings["failure_rate"],
        json!({"value": null, "source": "default"})
    );
    assert_eq!(
        settings["failure_if"],
        json!({"value": true, "source": "code"})
    );
    assert_eq!(
        settings["ignore_if"],
        json!({"value": false, "source": "default"})
    );
    // Every setting, each with both.
    for spec in [
        "failure_threshold",
        "failure_rate",
        "minimum_calls",
        "window",
        "slow_call",
        "slow_call_rate",
        "success_threshold",
        "half_open_max_calls",
        "reset_timeout",
        "backoff",
        "half_open_timeout",
        "call_timeout",
    ] {
        let s = &settings[spec];
        assert!(
            s.get("value").is_some() && s.get("source").is_some(),
            "{spec}: {s}"
        );
    }

    // The list stays as it was: snapshots without settings.
    let (status, list) = get(addr, "/breakers").await;
    assert_eq!(status, 200);
    assert!(list[0].get("settings").is_none());
}

#[tokio::test]
async fn the_cause_of_an_open_breaker_shows_in_the_json() {
    let mine = Arc::new(Registry::new());
    let b = mine.get_or_create(
        "eco-admin-cause",
        BreakerConfig::builder().failure_threshold(1).build(),
    );
    b.try_acquire()
        .unwrap()
        .failure_because(&"db down: connection refused");
    let addr = serve(AdminRouter::with_registry(mine.clone()).into_router());
    let (_, list) = get(addr, "/breakers").await;
    assert_eq!(list[0]["state"], "open");
    assert_eq!(list[0]["open_cause"], "db down: connection refused");
    let (_, one) = get(addr, "/breakers/eco-admin-cause").await;
    assert_eq!(one["open_cause"], "db down: connection refused");
    b.close();
    let (_, one) = get(addr, "/breakers/eco-admin-cause").await;
    assert_eq!(one["open_cause"], Value::Null);
}

#[derive(Debug)]
struct Down;

impl From<breaker_runtime::BreakerError> for Down {
    fn from(_: breaker_runtime::BreakerError) -> Self {
        Down
    }
}

fn is_down(_: &Down) -> bool {
    true
}

fn by_code(r: &Result<u16, Down>) -> breaker_runtime::Outcome {
    match r {
        Ok(code) if *code >= 500 => breaker_runtime::Outcome::Failure,
        Ok(_) => breaker_runtime::Outcome::Success,
        Err(_) => breaker_runtime::Outcome::Failure,
    }
}

#[breaker_runtime::circuit_breaker(name = "eco-admin-settings-attr-if", failure_if = is_down, ignore_if = is_down)]
fn judged_by_predicates() -> Result<u16, Down> {
    Ok(200)
}

#[breaker_runtime::circuit_breaker(name = "eco-admin-settings-attr-classify", classify = by_code)]
fn judged_by_classify() -> Result<u16, Down> {
    Ok(200)
}

/// The attribute asks its functions per call; the breaker's settings still say they are set,
/// by the code (they said "not set, default" before).
#[tokio::test]
async fn the_attributes_functions_show_as_set_in_code() {
    assert!(judged_by_predicates().is_ok());
    assert!(judged_by_classify().is_ok());
    let addr = serve(AdminRouter::new(breaker_runtime::registry()).into_router());
    let (_, one) = get(addr, "/breakers/eco-admin-settings-attr-if").await;
    let settings = &one["settings"];
    assert_eq!(
        settings["failure_if"],
        json!({"value": true, "source": "code"})
    );
    assert_eq!(
        settings["ignore_if"],
        json!({"value": true, "source": "code"})
    );
    assert_eq!(
        settings["classify"],
        json!({"value": false, "source": "default"})
    );
    let (_, one) = get(addr, "/breakers/eco-admin-settings-attr-classify").await;
    let settings = &one["settings"];
    assert_eq!(
        settings["classify"],
        json!({"value": true, "source": "code"})
    );
    assert_eq!(
        settings["failure_if"],
        json!({"value": false, "source": "default"})
    );
    let b = breaker_runtime::registry()
        .get("eco-admin-settings-attr-classify")
        .unwrap();
    assert!(b.settings().has_classify());
    // What the attribute judges stays the attribute's: a call through the breaker itself is
    // judged as without a verdict (the marks answer for no type).
    let _ = b.call_sync(|| Ok::<u16, Down>(503));
    assert_eq!(b.metrics().failures, 0);
}
