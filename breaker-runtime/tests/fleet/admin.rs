//! The admin router over an instance of a fleet (features `fleet` and `axum`): snapshots of a
//! shared breaker show the fleet's link, and `open`, `close` and `reset` posted to one
//! instance's router reach every instance; `disable` stays on the instance, and a breaker the
//! fleet does not share answers as without fleet mode.

use crate::server::Redis;
use crate::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use breaker_runtime::admin::AdminRouter;
use breaker_runtime::{BreakerConfig, State};
use serde_json::Value;
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// How long a sync may take here.
const BOUND: Duration = Duration::from_secs(5);

/// The router's answer to `method path`, as JSON.
async fn ask(router: &axum::Router, method: Method, path: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .expect("a valid request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("a body");
    (status, serde_json::from_slice(&body).expect("JSON"))
}

/// The entry named `name` in a `GET /breakers` answer.
fn entry<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .expect("an array")
        .iter()
        .find(|b| b["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {list}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_shows_the_link_and_its_controls_reach_every_instance() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let config = BreakerConfig::builder().failure_threshold(5).build();
    let fleet = three(&redis.url(), "admin", "db", &config, 1).await;
    connected(&fleet).await;
    // A breaker of the first instance's that no fleet shares.
    let alone = fleet[0]
        .registry
        .get_or_create("local-only", config.clone());
    let router = AdminRouter::new(fleet[0].registry).into_router();

    let (status, list) = ask(&router, Method::GET, "/breakers").await;
    assert_eq!(status, StatusCode::OK);
    let link = &entry(&list, "db")["fleet"];
    assert_eq!(link["namespace"], "admin", "{list}");
    assert_eq!(link["connected"], true, "{list}");
    assert!(link["last_sync_ms"].as_u64().is_some(), "{list}");
    assert!(
        entry(&list, "local-only").get("fleet").is_none(),
        "an unshared breaker has no link: {list}"
    );
    let (_, detail) = ask(&router, Method::GET, "/breakers/db").await;
    assert_eq!(detail["fleet"]["connected"], true, "{detail}");
    assert!(detail["settings"].is_object(), "{detail}");

    // Fleet-wide: here at once, on the others at their next sync.
    let (status, after) = ask(&router, Method::POST, "/breakers/db/open").await;
    assert_eq!(
        (status, &after["state"]),
        (StatusCode::OK, &Value::from("forced_open"))
    );
    assert_eq!(after["fleet"]["namespace"], "admin", "{after}");
    until("forced open everywhere", Duration::from_secs(5), || {
        fleet.iter().all(|i| i.state() == State::ForcedOpen)
    })
    .await;
    ask(&router, Method::POST, "/breakers/db/close").await;
    until("closed everywhere", Duration::from_secs(5), || {
        fleet.iter().all(|i| i.state() == State::Closed)
    })
    .await;
    for i in &fleet {
        let _ = ok(&i.breaker).await;
    }
    ask(&router, Method::POST, "/breakers/db/reset").await;
    until("reset everywhere", Duration::from_secs(5), || {
        fleet.iter().all(|i| i.breaker.metrics().calls == 0)
    })
    .await;

    // On this instance only: disable, and any control of an unshared breaker.
    ask(&router, Method::POST, "/breakers/db/disable").await;
    ask(&router, Method::POST, "/breakers/local-only/open").await;
    assert_eq!(
        (fleet[0].state(), alone.state()),
        (State::Disabled, State::ForcedOpen)
    );
    // A control would reach the others at their next sync after this instance's next one:
    // wait for both, then the others are still as they were.
    synced_since(&fleet[0], Instant::now(), BOUND).await;
    synced_since(&fleet[1], Instant::now(), BOUND).await;
    synced_since(&fleet[2], Instant::now(), BOUND).await;
    assert_eq!(
        (fleet[1].state(), fleet[2].state()),
        (State::Closed, State::Closed)
    );

    // Redis gone: the snapshot says this instance decides alone.
    redis.kill();
    until("the link shows as lost", Duration::from_secs(5), || {
        !fleet[0].fleet().status().connected
    })
    .await;
    let (_, list) = ask(&router, Method::GET, "/breakers").await;
    assert_eq!(entry(&list, "db")["fleet"]["connected"], false, "{list}");

    // A stopped fleet shares nothing: the router answers as without fleet mode.
    let [mut a, _b, _c] = fleet;
    a.fleet.take().expect("running").shutdown().await;
    let (_, list) = ask(&router, Method::GET, "/breakers").await;
    assert!(entry(&list, "db").get("fleet").is_none(), "{list}");
}
