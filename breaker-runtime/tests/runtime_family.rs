//! `Registry::family`: one breaker per key, sharing a config, the set kept bounded without
//! ever dropping what it knows about an outage (issue 13, item 18).

use breaker_runtime::{BreakerConfig, Registry, State};
use std::time::Duration;

fn config() -> BreakerConfig {
    BreakerConfig::builder()
        .failure_threshold(1)
        .reset_timeout(Duration::from_secs(3600))
        .build()
}

#[test]
fn one_breaker_per_key_registered_under_family_slash_key() {
    let registry = Registry::new();
    let hosts = registry.family("up", config());
    let a = hosts.get("a:443");
    assert!(
        std::sync::Arc::ptr_eq(&a, &hosts.get("a:443")),
        "same key, same breaker"
    );
    let b = hosts.get("b:443");
    let _ = a.call_sync(|| Err::<(), _>("refused"));
    assert_eq!(a.state(), State::Open);
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.call_sync(|| Ok::<_, ()>(1)).unwrap(), 1);
    let names: Vec<String> = registry.names().iter().map(|n| n.to_string()).collect();
    assert_eq!(names, ["up/a:443", "up/b:443"]);
}

#[test]
fn a_full_family_evicts_the_least_recently_used_closed_member_never_an_open_one() {
    let registry = Registry::new();
    let hosts = registry.family("lru", config()).max_members(2);
    let a = hosts.get("a");
    let _ = a.call_sync(|| Err::<(), _>("down")); // open: must stay
    hosts.get("b");
    hosts.get("c"); // full: b (closed, least recently used) goes
    assert_eq!(hosts.keys(), ["a", "c"]);
    assert!(
        registry.get("lru/b").is_none(),
        "evicted members leave the registry"
    );
    assert_eq!(
        hosts.get("a").state(),
        State::Open,
        "the open member kept its state"
    );

    // Every member open: the family grows past its maximum rather than forget an outage.
    let _ = hosts.get("c").call_sync(|| Err::<(), _>("down"));
    hosts.get("d");
    assert_eq!(hosts.keys(), ["a", "c", "d"]);
}

#[tokio::test(start_paused = true)]
async fn idle_closed_members_leave_when_a_new_key_comes() {
    let registry = Registry::new();
    let hosts = registry
        .family("idle", config())
        .idle_after(Duration::from_secs(60));
    hosts.get("a");
    let b = hosts.get("b");
    let _ = b.call_sync(|| Err::<(), _>("down"));
    tokio::time::advance(Duration::from_secs(30)).await;
    hosts.get("c");
    assert_eq!(hosts.keys(), ["a", "b", "c"], "nobody idle for 60 s yet");
    tokio::time::advance(Duration::from_secs(31)).await;
    hosts.get("d");
    // a went (closed, idle 61 s); b stays (open); c is 31 s idle.
    assert_eq!(hosts.keys(), ["b", "c", "d"]);
}
