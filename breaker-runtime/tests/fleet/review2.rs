//! Review 2: the seam between fleets and the registry's other readers (`Coordinators`): two
//! fleets started at once on one registry and namespace, a fleet of another registry, a
//! fleet dropped without `shutdown`, and fleet mode under a family that drops its members.

use crate::server::Redis;
use crate::*;
use breaker_runtime::fleet::Fleet;
use breaker_runtime::{BreakerConfig, Registry};
use std::sync::{Arc, Barrier};
use std::time::Duration;

/// "One process, one instance: `start` refuses a second running fleet of one registry that
/// would share some of the same breakers under the same namespace." Two `start`s racing on
/// two threads each looked for a running fleet, found none, and both attached: the check
/// and the attach were apart.
#[test]
fn two_fleets_started_at_once_on_one_registry_and_namespace_are_not_both_accepted() {
    let Some(redis) = Redis::start() else { return };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = redis.url();
    for round in 0..300 {
        let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
        registry.get_or_create("db", BreakerConfig::default());
        let barrier = Arc::new(Barrier::new(2));
        let started: Vec<Option<Fleet>> = std::thread::scope(|s| {
            let starts: Vec<_> = (0..2)
                .map(|_| {
                    let barrier = barrier.clone();
                    let (runtime, url) = (&runtime, &url);
                    s.spawn(move || {
                        runtime.block_on(async {
                            barrier.wait();
                            Fleet::builder(url.as_str())
                                .namespace("r2-twice")
                                .sync_interval(SYNC)
                                .share(["db"])
                                .start(registry)
                                .await
                                .ok()
                        })
                    })
                })
                .collect();
            starts.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let running = started.iter().flatten().count();
        runtime.block_on(async {
            for fleet in started.into_iter().flatten() {
                fleet.shutdown().await;
            }
        });
        assert_eq!(
            running, 1,
            "round {round}: two fleets of one registry share `db` under one namespace"
        );
    }
}

/// A fleet stops sharing the moment its handle drops, without `shutdown`: a second one may
/// start at once under the same namespace, and the router's seam no longer finds the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_dropped_without_shutdown_leaves_the_namespace_at_once() {
    let Some(redis) = Redis::start() else { return };
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let start = || {
        Fleet::builder(redis.url())
            .namespace("r2-dropped")
            .sync_interval(SYNC)
            .share(["db"])
            .start(registry)
    };
    let first = start().await.expect("the first starts");
    assert!(start().await.is_err(), "a second one while the first runs");
    drop(first);
    let second = start().await.expect("the first is gone");
    second.shutdown().await;
}

/// Fleet mode with `share_all()` follows every breaker of the registry, family members
/// included (README, "Many breakers"). A family's members leave when nobody holds them, but
/// the fleet's syncer keeps an `Arc` of each breaker it follows: to the family every member
/// looked held, so none was ever evicted, however idle, nor left when the family went: a
/// family of hosts that come and go grew without bound in fleet mode.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_all_does_not_keep_family_members_from_leaving() {
    let Some(redis) = Redis::start() else { return };
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let fleet = Fleet::builder(redis.url())
        .namespace("r2-family")
        .sync_interval(SYNC)
        .share_all()
        .start(registry)
        .await
        .unwrap();
    let hosts = registry
        .family("hosts", BreakerConfig::default())
        .max_members(2)
        .idle_after(Duration::ZERO);
    // Once the fleet has synced `name`: its state is in Redis.
    let mut redis_client = redis.client();
    let mut synced = |name: &str| -> bool {
        redis::Commands::exists(&mut redis_client, format!("{{r2-family:{name}}}:state"))
            .expect("EXISTS")
    };
    // Held by a caller, and shared: it stays whatever comes.
    let kept = hosts.get("kept");
    until(
        "the fleet shares the kept member",
        Duration::from_secs(10),
        || synced("hosts/kept"),
    )
    .await;
    for key in 0..6 {
        let member = hosts.get(&key.to_string());
        until(
            "the fleet shares the member",
            Duration::from_secs(10),
            || synced(member.name()),
        )
        .await;
    }
    // A sync under way holds the breakers a moment (a member then looks in use): each new
    // key tries again.
    let mut next = 6;
    until(
        "the family keeps at most max_members",
        Duration::from_secs(10),
        || {
            hosts.get(&next.to_string());
            next += 1;
            hosts.len() <= 2
        },
    )
    .await;
    assert!(hosts.keys().contains(&"kept".to_owned()));
    drop(hosts);
    assert_eq!(
        registry.names(),
        ["hosts/kept"],
        "the family is gone: only the member someone holds stays"
    );
    assert!(Arc::ptr_eq(&registry.get("hosts/kept").unwrap(), &kept));
    fleet.shutdown().await;
}

/// The router finds fleets through its own registry: a fleet of another registry sharing a
/// breaker of the same name shows no link there, and the router's controls stay on its own
/// breaker (they reach neither that fleet nor its instances).
#[cfg(feature = "axum")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_of_another_registry_does_not_appear_in_this_router() {
    use axum::body::Body;
    use axum::http::{Method, Request, StatusCode};
    use breaker_runtime::admin::AdminRouter;
    use breaker_runtime::State;
    use tower::ServiceExt;

    let Some(redis) = Redis::start() else { return };
    let theirs = Instance::start(
        &redis.url(),
        "r2-other",
        "a",
        "db",
        BreakerConfig::default(),
        1,
    )
    .await;
    connected(std::slice::from_ref(&theirs)).await;
    let ours: &'static Registry = Box::leak(Box::new(Registry::new()));
    let db = ours.get_or_create("db", BreakerConfig::default());
    let router = AdminRouter::new(ours).into_router();
    let ask = |method: Method, path: &str| {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap();
        let router = router.clone();
        async move {
            let response = router.oneshot(request).await.unwrap();
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .unwrap();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            (status, body)
        }
    };
    let (status, detail) = ask(Method::GET, "/breakers/db").await;
    assert_eq!(status, StatusCode::OK);
    assert!(detail.get("fleet").is_none(), "{detail}");
    let (status, after) = ask(Method::POST, "/breakers/db/open").await;
    assert_eq!(status, StatusCode::OK);
    assert!(after.get("fleet").is_none(), "{after}");
    assert_eq!(db.state(), State::ForcedOpen);
    // Their instance syncs on: two syncs later, still closed (the control never reached it).
    let mark = std::time::Instant::now();
    until("two syncs of theirs", Duration::from_secs(5), || {
        theirs
            .fleet()
            .status()
            .last_sync
            .is_some_and(|ago| ago + SYNC * 2 < mark.elapsed())
    })
    .await;
    assert_eq!(theirs.state(), State::Closed);
}

/// Two fleets of one registry sharing different names (under namespaces of their own): each
/// breaker's link is its own fleet's, an unshared one has none; once one fleet stops, its
/// breaker has no link and the other keeps its.
#[cfg(feature = "axum")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_fleets_of_one_registry_each_show_on_their_own_breakers() {
    use axum::body::Body;
    use axum::http::Request;
    use breaker_runtime::admin::AdminRouter;
    use tower::ServiceExt;

    let Some(redis) = Redis::start() else { return };
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    for name in ["x", "y", "z"] {
        registry.get_or_create(name, BreakerConfig::default());
    }
    let start = |ns: &'static str, name: &'static str| {
        Fleet::builder(redis.url())
            .namespace(ns)
            .sync_interval(SYNC)
            .share([name])
            .start(registry)
    };
    let fx = start("r2-x", "x").await.unwrap();
    let fy = start("r2-y", "y").await.unwrap();
    let router = AdminRouter::new(registry).into_router();
    let namespaces = || {
        let router = router.clone();
        async move {
            let request = Request::get("/breakers").body(Body::empty()).unwrap();
            let response = router.oneshot(request).await.unwrap();
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .unwrap();
            let list: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let of = |name: &str| {
                list.as_array()
                    .unwrap()
                    .iter()
                    .find(|b| b["name"] == name)
                    .and_then(|b| b.get("fleet"))
                    .map(|f| f["namespace"].as_str().unwrap().to_owned())
            };
            [of("x"), of("y"), of("z")]
        }
    };
    assert_eq!(
        namespaces().await,
        [Some("r2-x".to_owned()), Some("r2-y".to_owned()), None]
    );
    drop(fx);
    assert_eq!(namespaces().await, [None, Some("r2-y".to_owned()), None]);
    fy.shutdown().await;
    assert_eq!(namespaces().await, [None, None, None]);
}
