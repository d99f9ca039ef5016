//! `Family`'s eviction rule at its edges (issue 13, item 18): idle exactly `idle_after`, an
//! open member through its open period, members someone holds, a full family of open members
//! asked for recently, and `idle_after` of zero and of `Duration::MAX`. Expectations come from
//! the rule in `Family`'s docs: a member leaves when nobody holds it, nobody asked for it in
//! `idle_after`, and it is closed or half-open; a full family evicts the least recently used
//! closed member nobody holds.

use breaker_runtime::{BreakerConfig, Registry, State};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::advance;

/// Opens at the first failure, half-opens `reset` later.
fn config(reset: Duration) -> BreakerConfig {
    BreakerConfig::builder()
        .failure_threshold(1)
        .reset_timeout(reset)
        .build()
}

fn fail(breaker: &breaker_runtime::CircuitBreaker) {
    let _ = breaker.call_sync(|| Err::<(), _>("refused"));
}

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test(start_paused = true)]
async fn a_closed_member_goes_at_exactly_idle_after_not_a_millisecond_before() {
    let registry = Registry::new();
    let hosts = registry
        .family("edge-closed", config(MINUTE))
        .idle_after(MINUTE);
    hosts.get("a");
    advance(MINUTE - Duration::from_millis(1)).await;
    hosts.get("b");
    assert_eq!(hosts.keys(), ["a", "b"], "idle 59,999 ms: stays");
    advance(Duration::from_millis(1)).await;
    hosts.get("c");
    assert_eq!(hosts.keys(), ["b", "c"], "idle 60,000 ms: goes");
    assert!(registry.get("edge-closed/a").is_none());
}

#[tokio::test(start_paused = true)]
async fn a_half_open_member_goes_at_exactly_idle_after() {
    let registry = Registry::new();
    let hosts = registry
        .family("edge-half", config(Duration::from_secs(1)))
        .idle_after(MINUTE);
    fail(&hosts.get("a"));
    advance(MINUTE - Duration::from_millis(1)).await;
    assert_eq!(hosts.get("b").state(), State::Closed);
    assert_eq!(
        registry.get("edge-half/a").unwrap().state(),
        State::HalfOpen
    );
    assert_eq!(hosts.keys(), ["a", "b"], "half-open, idle 59,999 ms: stays");
    advance(Duration::from_millis(1)).await;
    hosts.get("c");
    assert_eq!(hosts.keys(), ["b", "c"], "half-open, idle 60,000 ms: goes");
    assert!(registry.get("edge-half/a").is_none());
}

/// The open member is what the family knows of an outage: it stays, idle or not, until its
/// open period is over, and goes at the first new key after that.
#[tokio::test(start_paused = true)]
async fn an_open_member_stays_through_its_open_period_however_idle() {
    let registry = Registry::new();
    let hour = Duration::from_secs(3600);
    let hosts = registry
        .family("edge-open", config(hour))
        .idle_after(MINUTE);
    fail(&hosts.get("a"));
    advance(hour - Duration::from_millis(1)).await;
    hosts.get("b");
    assert_eq!(
        hosts.keys(),
        ["a", "b"],
        "open, idle 59 min 59.999 s: stays"
    );
    assert_eq!(
        hosts.get("a").state(),
        State::Open,
        "and keeps rejecting its host"
    );
    advance(MINUTE + Duration::from_millis(1)).await;
    hosts.get("c");
    assert_eq!(
        hosts.keys(),
        ["c"],
        "a's open period is over and nobody asked for a or b in a minute"
    );

    // `open_for` longer than the reset timeout holds the member as long.
    let d = hosts.get("d");
    d.open_for(2 * hour);
    drop(d);
    advance(2 * hour - Duration::from_millis(1)).await;
    hosts.get("e");
    assert!(hosts.keys().contains(&"d".to_owned()));
    advance(Duration::from_millis(1)).await;
    hosts.get("f");
    assert_eq!(
        hosts.keys(),
        ["e", "f"],
        "d's two hours are over; e was asked for 1 ms ago"
    );
}

/// A breaker a caller still holds (or a call through it is in flight) never leaves: its holder
/// would go on using a breaker the registry no longer lists, while `get` made another.
#[tokio::test(start_paused = true)]
async fn a_member_someone_holds_is_never_evicted_idle_or_full() {
    let registry = Registry::new();
    let hosts = registry
        .family("edge-held", config(Duration::from_secs(1)))
        .max_members(1)
        .idle_after(Duration::ZERO);
    let closed = hosts.get("closed");
    let half = hosts.get("half");
    fail(&half);
    advance(Duration::from_secs(3600)).await;
    assert_eq!(half.state(), State::HalfOpen);
    // A probe in flight: the permit borrows the breaker its holder keeps.
    let probe = half.try_acquire().unwrap();
    for key in ["x", "y", "z"] {
        hosts.get(key);
    }
    assert_eq!(
        hosts.keys(),
        ["closed", "half", "z"],
        "full and idle, but held"
    );
    assert!(Arc::ptr_eq(
        &registry.get("edge-held/closed").unwrap(),
        &closed
    ));
    assert!(Arc::ptr_eq(&hosts.get("half"), &half));
    probe.success();

    drop((closed, half));
    hosts.get("w");
    assert_eq!(
        hosts.keys(),
        ["w"],
        "let go, they leave at the next new key"
    );
    assert_eq!(registry.len(), 1);
}

/// Every member open and asked for a moment ago: the family grows past `max_members` rather
/// than forget an outage; once their open periods are over they still stay while asked for,
/// and go together once idle.
#[tokio::test(start_paused = true)]
async fn a_full_family_of_open_members_asked_for_recently_grows_then_shrinks() {
    let registry = Registry::new();
    let hosts = registry
        .family("edge-full", config(Duration::from_secs(30)))
        .max_members(3)
        .idle_after(MINUTE);
    let dead = ["d1", "d2", "d3", "d4", "d5"];
    for key in dead {
        fail(&hosts.get(key));
    }
    advance(Duration::from_secs(10)).await;
    for key in dead {
        assert_eq!(hosts.get(key).state(), State::Open, "{key}");
    }
    hosts.get("new");
    assert_eq!(hosts.len(), 6, "five open members and the new one");

    advance(Duration::from_secs(30)).await; // half-open now, asked for 30 s ago
    hosts.get("new2");
    // Full: the one closed member nobody holds makes room; the half-open ones stay.
    assert_eq!(hosts.keys(), ["d1", "d2", "d3", "d4", "d5", "new2"]);
    for key in dead {
        assert_eq!(
            registry.get(&format!("edge-full/{key}")).unwrap().state(),
            State::HalfOpen
        );
    }

    advance(MINUTE).await;
    hosts.get("last");
    assert_eq!(hosts.keys(), ["last"]);
    assert_eq!(registry.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn zero_idle_after_lets_a_member_go_at_the_next_new_key_unless_it_knows_an_outage() {
    let registry = Registry::new();
    let hosts = registry
        .family("edge-zero", config(Duration::from_secs(1)))
        .idle_after(Duration::ZERO);
    hosts.get("closed");
    fail(&hosts.get("open"));
    hosts.get("next"); // the same millisecond: idle for zero is idle enough
    assert_eq!(hosts.keys(), ["next", "open"]);
    advance(Duration::from_secs(1)).await;
    hosts.get("after");
    assert_eq!(
        hosts.keys(),
        ["after"],
        "open is half-open now: it goes too"
    );
}

#[tokio::test(start_paused = true)]
async fn duration_max_idle_after_never_counts_a_member_idle() {
    let registry = Registry::new();
    let hosts = registry
        .family("edge-max", config(Duration::from_secs(1)))
        .max_members(2)
        .idle_after(Duration::MAX);
    fail(&hosts.get("failed"));
    hosts.get("closed");
    advance(Duration::from_secs(10 * 365 * 24 * 3600)).await;
    assert_eq!(hosts.get("failed").state(), State::HalfOpen);
    hosts.get("new");
    // Ten years unasked is not idle; only the full family's rule evicts, closed members only.
    assert_eq!(hosts.keys(), ["failed", "new"]);
}

/// Two families of one name (two per-host layers for one upstream, say) share their members:
/// apart, each would hold the other's, and a member someone holds never leaves.
#[tokio::test(start_paused = true)]
async fn two_families_of_one_name_share_their_members_and_still_evict() {
    let registry = Registry::new();
    let first = registry
        .family("edge-twin", config(MINUTE))
        .idle_after(MINUTE);
    let second = registry
        .family("edge-twin", config(MINUTE))
        .idle_after(MINUTE);
    let a = first.get("a");
    assert!(Arc::ptr_eq(&second.get("a"), &a));
    assert_eq!(second.keys(), ["a"]);
    drop(a);
    advance(MINUTE).await;
    second.get("b");
    assert_eq!(
        first.keys(),
        ["b"],
        "a, idle a minute and held by nobody, went"
    );
    assert!(registry.get("edge-twin/a").is_none());
    // Another name, or another registry, is another family.
    assert!(registry.family("edge-twin-2", config(MINUTE)).is_empty());
    assert!(Registry::new()
        .family("edge-twin", config(MINUTE))
        .is_empty());
}

#[tokio::test(start_paused = true)]
async fn when_the_last_family_of_a_name_goes_its_members_leave_the_registry() {
    let registry = Registry::new();
    let first = registry.family("gone", config(MINUTE));
    let second = registry.family("gone", config(MINUTE));
    for key in ["closed", "open", "half-open", "held", "forced", "disabled"] {
        first.get(key);
    }
    fail(&first.get("open"));
    fail(&first.get("half-open"));
    advance(MINUTE).await;
    assert_eq!(first.get("half-open").state(), State::HalfOpen);
    let held = first.get("held");
    first.get("forced").force_open();
    first.get("disabled").disable();
    let names = |registry: &Registry| {
        let mut names = registry.names();
        names.sort();
        names
    };

    // Another family of the name still shares them: nothing leaves.
    drop(first);
    assert_eq!(names(&registry).len(), 6, "{:?}", names(&registry));
    assert_eq!(second.len(), 6);

    // The last one goes: only the held member and those set by hand stay.
    drop(second);
    assert_eq!(
        names(&registry),
        ["gone/disabled", "gone/forced", "gone/held"]
    );
    assert!(Arc::ptr_eq(&registry.get("gone/held").unwrap(), &held));

    // A family made later under the name starts afresh, and finds what stayed.
    let again = registry.family("gone", config(MINUTE));
    assert_eq!(again.get("open").state(), State::Closed);
    assert_eq!(again.get("forced").state(), State::ForcedOpen);
}
