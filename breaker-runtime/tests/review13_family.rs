//! Review 13: `Registry::family` under attack: members removed by someone else, races on a
//! new key, members in every state other than closed, odd keys, and 100,000 keys through a
//! small family.

use breaker_runtime::{BreakerConfig, Registry, State};
use std::sync::Arc;
use std::time::Duration;

fn config() -> BreakerConfig {
    BreakerConfig::builder()
        .failure_threshold(1)
        .reset_timeout(Duration::from_secs(3600))
        .build()
}

#[test]
fn many_threads_asking_for_one_new_key_get_one_breaker() {
    let registry = Registry::new();
    let hosts = registry.family("race", config()).max_members(2);
    let barrier = std::sync::Barrier::new(8);
    let got: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    hosts.get("k")
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(got.iter().all(|b| Arc::ptr_eq(b, &got[0])));
    assert!(Arc::ptr_eq(&registry.get("race/k").unwrap(), &got[0]));
    assert_eq!(registry.len(), 1);
}

/// A member someone removed from the registry (an operator, `remove`) must not go on being
/// handed out: the family's breaker would be one nobody can see or force open, while a
/// `get_or_create` of its name makes another.
#[test]
fn a_member_removed_from_the_registry_is_not_handed_out_unlisted() {
    let registry = Registry::new();
    let hosts = registry.family("rm", config());
    let old = hosts.get("a");
    assert!(Arc::ptr_eq(&registry.remove("rm/a").unwrap(), &old));
    let now = hosts.get("a");
    let listed = registry
        .get("rm/a")
        .expect("the family's member of key `a` is in the registry");
    assert!(
        Arc::ptr_eq(&listed, &now),
        "the family hands out the listed breaker"
    );
    // An operator forcing the listed breaker open reaches the family's callers.
    listed.force_open();
    assert_eq!(hosts.get("a").state(), State::ForcedOpen);
}

/// Open within its open period, or set by hand: each stays, idle or not, full or not.
#[test]
fn members_open_or_set_by_hand_are_not_evicted() {
    let registry = Registry::new();
    let hosts = registry
        .family("states", config())
        .max_members(1)
        .idle_after(Duration::ZERO);
    hosts.get("open").force_open();
    hosts.get("forced").force_open();
    hosts.get("disabled").disable();
    hosts.get("metrics").metrics_only();
    let _ = hosts.get("failed").call_sync(|| Err::<(), _>("down"));
    hosts.get("closed");
    assert_eq!(
        hosts.keys(),
        ["closed", "disabled", "failed", "forced", "metrics", "open"]
    );
    assert_eq!(hosts.get("forced").state(), State::ForcedOpen);
    assert_eq!(hosts.get("disabled").state(), State::Disabled);
    assert_eq!(hosts.get("metrics").state(), State::MetricsOnly);
    assert_eq!(hosts.get("failed").state(), State::Open);
    hosts.get("next"); // `closed` is the one closed member: it goes
    assert!(!hosts.keys().contains(&"closed".to_owned()));
    assert!(registry.get("states/closed").is_none());
    assert_eq!(registry.len(), hosts.len());
}

/// Half-open and idle, but someone holds it (a probe may be on its way): it stays.
#[tokio::test(start_paused = true)]
async fn a_half_open_member_someone_holds_is_not_evicted() {
    let registry = Registry::new();
    let cfg = BreakerConfig::builder()
        .failure_threshold(1)
        .reset_timeout(Duration::from_secs(1))
        .build();
    let hosts = registry
        .family("half", cfg)
        .max_members(1)
        .idle_after(Duration::ZERO);
    let a = hosts.get("a");
    let _ = a.call_sync(|| Err::<(), _>("down"));
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(a.state(), State::HalfOpen);
    hosts.get("b");
    assert!(Arc::ptr_eq(&hosts.get("a"), &a));
    assert_eq!(a.state(), State::HalfOpen);
}

#[test]
fn odd_keys_are_kept_as_they_are() {
    let registry = Registry::new();
    let hosts = registry.family("odd", config());
    for key in ["", "a/b", "ä ö", "x\ny", "[::1]:443", "odd/nested"] {
        let b = hosts.get(key);
        assert_eq!(b.name(), format!("odd/{key}"));
        assert!(Arc::ptr_eq(&hosts.get(key), &b));
        assert!(Arc::ptr_eq(
            &registry.get(&format!("odd/{key}")).unwrap(),
            &b
        ));
    }
    assert_eq!(hosts.len(), 6);
}

#[test]
fn a_hundred_thousand_keys_through_a_small_family_stay_bounded() {
    let registry = Registry::new();
    let hosts = registry.family("many", config()).max_members(4);
    for i in 0..100_000u32 {
        let b = hosts.get(&format!("host-{i}"));
        if i % 10_000 == 0 {
            // Some open members stay, each one outage the family remembers.
            let _ = b.call_sync(|| Err::<(), _>("down"));
        }
        assert!(hosts.len() <= 4 + 10, "{} members at {i}", hosts.len());
    }
    assert_eq!(registry.len(), hosts.len());
    let open = hosts
        .keys()
        .iter()
        .filter(|k| hosts.get(k).state() == State::Open)
        .count();
    assert_eq!(open, 10, "every open member kept");
}

/// Hosts that failed and were never asked for again (a pod that died, an address service
/// discovery dropped): once their open period is over they are half-open, nothing ever probes
/// them back to closed, and nobody holds them. Kept, a per-host family with churn would grow
/// without bound, whatever `max_members` says; idle for `idle_after`, they go.
#[tokio::test(start_paused = true)]
async fn failed_hosts_nobody_asks_for_again_do_not_pile_up() {
    let registry = Registry::new();
    let cfg = BreakerConfig::builder()
        .failure_threshold(1)
        .reset_timeout(Duration::from_secs(1))
        .build();
    let hosts = registry
        .family("churn", cfg)
        .max_members(4)
        .idle_after(Duration::from_secs(60));
    for i in 0..1_000 {
        let _ = hosts
            .get(&format!("dead-{i}"))
            .call_sync(|| Err::<(), _>("refused"));
    }
    tokio::time::advance(Duration::from_secs(3600)).await;
    hosts.get("alive");
    assert!(hosts.len() <= 4, "{} members an hour later", hosts.len());
}
