//! Review 2: `Family`'s Drop (the members of the last family of a name leave the registry,
//! except those someone holds and those set by hand) attacked from other threads: two
//! families of a name dropped at once, a breaker taken from the registry while the last
//! family drops, a family of the name made and used meanwhile, a member someone else
//! replaced in the registry, and the lock order of Drop against `get`, `remove` and
//! `family`. No sleeps: threads meet at barriers, and waits have generous bounds.

use breaker_runtime::{BreakerConfig, CircuitBreaker, Registry, State};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::Duration;

fn config() -> BreakerConfig {
    BreakerConfig::builder().failure_threshold(1).build()
}

/// Two families of one name dropped at the same moment on two threads: each may see the
/// other's share of the members and leave the clearing up to it, and then nobody does.
/// Whichever goes last must take the members out of the registry.
#[test]
fn two_families_of_one_name_dropped_at_once_leave_nothing_behind() {
    for round in 0..3_000 {
        let registry = Registry::new();
        let first = registry.family("hosts", config());
        let second = registry.family("hosts", config());
        for key in ["a", "b", "c"] {
            first.get(key);
        }
        assert_eq!(second.len(), 3);
        let barrier = Barrier::new(2);
        thread::scope(|s| {
            for family in [first, second] {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    drop(family);
                });
            }
        });
        assert!(
            registry.is_empty(),
            "round {round}: both families are gone, yet the registry keeps {:?}",
            registry.names()
        );
    }
}

/// While the last family of a name drops, another thread takes its members' breakers from
/// the registry (`registry.get`, as the admin routes do) and keeps them. A breaker someone
/// holds must not leave: whatever that thread got and still holds is still listed once the
/// family is gone. (Drop looked at who holds a member, then took the registry's lock to
/// remove it: a `get` in between went unseen.)
#[test]
fn a_breaker_taken_from_the_registry_while_the_last_family_drops_stays_listed() {
    const KEYS: usize = 300;
    for round in 0..40 {
        let registry = Registry::new();
        let family = registry.family("hosts", config());
        for key in 0..KEYS {
            family.get(&key.to_string());
        }
        let done = AtomicBool::new(false);
        let barrier = Barrier::new(2);
        let taken: Vec<Arc<CircuitBreaker>> = thread::scope(|s| {
            let taker = s.spawn(|| {
                let mut taken = Vec::new();
                let mut have = vec![false; KEYS];
                barrier.wait();
                // Backwards, to meet the dropping thread somewhere in the middle.
                while !done.load(Ordering::Acquire) {
                    for key in (0..KEYS).rev() {
                        if have[key] {
                            continue;
                        }
                        if let Some(b) = registry.get(&format!("hosts/{key}")) {
                            have[key] = true;
                            taken.push(b);
                        }
                    }
                }
                taken
            });
            barrier.wait();
            drop(family);
            done.store(true, Ordering::Release);
            taker.join().unwrap()
        });
        for breaker in &taken {
            let listed = registry.get(breaker.name());
            assert!(
                listed.is_some_and(|l| Arc::ptr_eq(&l, breaker)),
                "round {round}: {} was held when the family dropped, yet it left the registry",
                breaker.name()
            );
        }
    }
}

/// One thread makes a family of a name, uses it and drops it, over and over; another does
/// the same with its own family of that name and holds what `get` gave it for a while. What
/// a family's `get` handed out and is still held stays the registry's breaker of that name.
#[test]
fn a_family_made_while_the_last_of_its_name_drops_hands_out_only_listed_breakers() {
    let registry = Registry::new();
    let stop = AtomicBool::new(false);
    let barrier = Barrier::new(2);
    thread::scope(|s| {
        s.spawn(|| {
            barrier.wait();
            while !stop.load(Ordering::Acquire) {
                let family = registry.family("hosts", config());
                for key in ["a", "b", "c"] {
                    family.get(key);
                }
                drop(family);
            }
        });
        barrier.wait();
        for round in 0..20_000 {
            let family = registry.family("hosts", config());
            let held = family.get(["a", "b", "c"][round % 3]);
            drop(family);
            // Some other work while holding it, so the other thread's drop may run.
            for _ in 0..(round % 50) {
                std::hint::spin_loop();
            }
            let listed = registry.get(held.name());
            assert!(
                listed.is_some_and(|l| Arc::ptr_eq(&l, &held)),
                "round {round}: {} is held, yet the registry no longer lists it",
                held.name()
            );
        }
        stop.store(true, Ordering::Release);
    });
}

/// Someone removed a member from the registry and registered another breaker under its name:
/// the family's Drop leaves that one alone (it is not the family's).
#[test]
fn the_last_family_dropping_leaves_a_breaker_someone_registered_under_a_members_name() {
    let registry = Registry::new();
    let family = registry.family("hosts", config());
    family.get("a");
    family.get("b");
    registry.remove("hosts/a");
    let theirs = registry.get_or_create("hosts/a", config());
    fail(&theirs);
    drop(theirs);
    drop(family);
    let names = registry.names();
    assert_eq!(names, ["hosts/a"]);
    assert_eq!(registry.get("hosts/a").unwrap().state(), State::Open);
}

fn fail(breaker: &CircuitBreaker) {
    let _ = breaker.call_sync(|| Err::<(), _>("refused"));
}

/// Drop takes the members' lock and then the registry's; `get` does too, `remove` and
/// `get_or_create` take the registry's alone, `family` the families' alone. Run them all at
/// once on one name for a while: they must all finish (a bound of two minutes, not a sleep).
#[test]
fn dropping_families_while_others_get_remove_and_make_them_does_not_deadlock() {
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let (tx, rx) = mpsc::channel();
    for worker in 0..4 {
        let tx = tx.clone();
        thread::spawn(move || {
            for round in 0..2_000usize {
                let key = (round % 7).to_string();
                match worker {
                    0 | 1 => {
                        let family = registry.family("hosts", config()).max_members(3);
                        family.get(&key);
                        family.get(&format!("{key}x"));
                        drop(family);
                    }
                    2 => {
                        registry.remove(&format!("hosts/{key}"));
                        registry.get_or_create(&format!("hosts/{key}x"), config());
                    }
                    _ => {
                        if let Some(b) = registry.get(&format!("hosts/{key}")) {
                            b.force_open();
                            b.reset();
                        }
                        registry.names();
                    }
                }
            }
            tx.send(worker).unwrap();
        });
    }
    drop(tx);
    for _ in 0..4 {
        rx.recv_timeout(Duration::from_secs(120))
            .expect("a worker is stuck: Drop, get, remove and family deadlocked");
    }
}

/// The per-host layer's services share one family (an `Arc`): a clone dropped leaves the
/// members to the others; the last one dropped takes them away, except a host with a request
/// in flight (its future holds the breaker), which stays listed with its verdict.
#[cfg(feature = "tower")]
#[tokio::test]
async fn per_host_services_drop_the_family_only_with_the_last_clone() {
    use breaker_runtime::tower::PerHostLayer;
    use http::Request;
    use tower::{service_fn, Layer, Service, ServiceExt};

    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let get = |uri: &str| Request::get(uri).body(()).unwrap();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let released = Arc::new(std::sync::Mutex::new(Some(released)));
    let layer = PerHostLayer::new(registry.family("ph", config()));
    let mut first = layer.layer(service_fn(move |req: Request<()>| {
        let wait = (req.uri().host() == Some("slow.example"))
            .then(|| released.lock().unwrap().take().unwrap());
        async move {
            if let Some(wait) = wait {
                let _ = wait.await;
                return Err("slow.example failed");
            }
            Ok::<_, &str>(())
        }
    }));
    let mut second = first.clone();
    drop(layer);
    first
        .ready()
        .await
        .unwrap()
        .call(get("http://a.example/"))
        .await
        .unwrap();
    let slow = second
        .ready()
        .await
        .unwrap()
        .call(get("http://slow.example/"));
    drop(first);
    assert_eq!(second.family().keys(), ["a.example:80", "slow.example:80"]);
    assert_eq!(registry.names(), ["ph/a.example:80", "ph/slow.example:80"]);

    drop(second);
    assert_eq!(registry.names(), ["ph/slow.example:80"]);
    release.send(()).unwrap();
    assert!(slow.await.is_err());
    assert_eq!(
        registry.get("ph/slow.example:80").unwrap().state(),
        State::Open,
        "the verdict reached the listed breaker"
    );
    // A layer made later under the name finds it.
    let again = PerHostLayer::new(registry.family("ph", config()));
    assert_eq!(again.family().get("slow.example:80").state(), State::Open);
}

/// A family's `unkeyed` breaker "never leaves". But family `a/b`'s unkeyed breaker is named
/// `a/b`, as family `a`'s member of key `b` is: `a` adopted it as a member, and when `a` went
/// it took the breaker out of the registry, open or not, while `a/b` still stood. (The same
/// clash of spelled names the docs allow for eviction; Drop took it whatever its state.)
#[test]
fn a_family_dropping_leaves_another_familys_unkeyed_breaker_that_spells_the_same() {
    let registry = Registry::new();
    let inner = registry.family("a/b", config());
    fail(&inner.unkeyed());
    assert_eq!(inner.unkeyed().state(), State::Open);
    let outer = registry.family("a", config());
    assert_eq!(outer.get("b").state(), State::Open);
    drop(outer);
    assert_eq!(
        inner.unkeyed().state(),
        State::Open,
        "family a/b's own breaker forgot its outage"
    );
}
