//! Breaker names: what a dropped or removed breaker leaves behind (nothing), what
//! `Registry::remove` does, and that errors and events carry the breaker's name whatever it
//! was made from (a literal, a `String`, an `Arc<str>`; short or long).

use breaker_runtime::{
    circuit_breaker, registry, BreakerConfig, BreakerError, BreakerEvent, CallError,
    CircuitBreaker, Name, Registry, State,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

// ----- counting what the test's own thread keeps allocated ---------------------------------

/// The system allocator, counting the bytes each thread has allocated and not freed. Each
/// test runs on a thread of its own, so the other tests' allocations do not show.
struct Counting;

thread_local! {
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

fn live_bytes() -> i64 {
    LIVE.with(Cell::get)
}

fn count(delta: i64) {
    LIVE.with(|live| live.set(live.get() + delta));
}

// SAFETY: every call goes to `System` as it is; only the counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller keeps `alloc`'s contract, which is `System.alloc`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as i64);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as i64);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        // SAFETY: `p` came from this allocator, that is from `System`, with `layout`.
        unsafe { System.dealloc(p, layout) };
        count(-(layout.size() as i64));
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and the caller keeps `realloc`'s contract.
        let q = unsafe { System.realloc(p, layout, new_size) };
        if !q.is_null() {
            count(new_size as i64 - layout.size() as i64);
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What `round` leaves allocated on this thread, once a first round has warmed up whatever
/// is made once (thread-locals, the shared settings, the registry's table).
fn left_behind(mut round: impl FnMut(usize)) -> i64 {
    round(0);
    let before = live_bytes();
    round(1);
    live_bytes() - before
}

const BREAKERS: usize = 200_000;

/// Per-host names, as a service with a breaker per upstream host makes them: half short
/// enough to be kept inside the name, half long enough to need an allocation of their own.
fn host_name(round: usize, i: usize) -> String {
    if i.is_multiple_of(2) {
        format!("host-{round}-{i}:443")
    } else {
        format!("host-{round}-{i}.eu-west-1.internal.example.com:443")
    }
}

/// The regression: every name used to be interned for good, so building and dropping
/// 200,000 breakers with per-host names kept every name (900,000 of them kept 58 MiB).
#[test]
fn built_and_dropped_breakers_leave_nothing_behind() {
    let kept = left_behind(|round| {
        for i in 0..BREAKERS {
            let b = CircuitBreaker::builder(host_name(round, i))
                .failure_threshold(5)
                .build();
            assert_eq!(b.state(), State::Closed);
        }
    });
    // Before the fix: at least the 200,000 names, 5 MB. Now: nothing; a little slack for
    // a table that happens to grow during the second round.
    assert!(
        kept < 64 * 1024,
        "{BREAKERS} breakers built and dropped left {kept} bytes behind"
    );
}

#[test]
fn removed_breakers_leave_nothing_behind() {
    let config = BreakerConfig::builder().failure_threshold(5).build();
    let kept = left_behind(|round| {
        for i in 0..BREAKERS / 4 {
            let name = format!("names-removed-{}", host_name(round, i));
            let b = registry().get_or_create(&name, config.clone());
            // A rejection and its error, so the name has been handed out too.
            b.force_open();
            let err = b.call_sync(|| Ok::<_, ()>(())).unwrap_err();
            assert!(err.is_circuit_open());
            drop(err);
            let removed = registry().remove(&name).expect("registered");
            assert!(Arc::ptr_eq(&b, &removed));
        }
    });
    assert!(
        kept < 64 * 1024,
        "{} breakers registered and removed left {kept} bytes behind",
        BREAKERS / 4
    );
}

// ----- Registry::remove ----------------------------------------------------------------------

fn opens_after_one() -> BreakerConfig {
    BreakerConfig::builder()
        .failure_threshold(1)
        .reset_timeout(Duration::from_secs(3600))
        .build()
}

fn fail(b: &CircuitBreaker) {
    let r = b.call_sync(|| Err::<(), _>("down"));
    assert!(matches!(r, Err(CallError::Inner("down"))), "{r:?}");
}

#[test]
fn remove_forgets_the_name_and_a_later_get_or_create_starts_afresh() {
    let old = registry().get_or_create("names-remove", opens_after_one());
    fail(&old);
    assert_eq!(old.state(), State::Open);

    let removed = registry()
        .remove("names-remove")
        .expect("it was registered");
    assert!(Arc::ptr_eq(&old, &removed));
    drop(removed);
    assert!(registry().get("names-remove").is_none());
    assert!(!registry().names().iter().any(|n| n == "names-remove"));
    assert!(!registry()
        .snapshot()
        .iter()
        .any(|s| s.name == "names-remove"));
    assert!(registry().remove("names-remove").is_none(), "removed twice");

    let fresh = registry().get_or_create("names-remove", opens_after_one());
    assert!(!Arc::ptr_eq(&old, &fresh));
    assert_eq!(fresh.state(), State::Closed);
    let m = fresh.metrics();
    assert_eq!(
        (m.calls, m.failures, m.rejected, m.opened_count),
        (0, 0, 0, 0)
    );
    assert!(Arc::ptr_eq(
        &fresh,
        &registry().get("names-remove").unwrap()
    ));

    // The old breaker still works for whoever holds it, apart from the new one.
    let err = old.call_sync(|| Ok::<_, ()>(())).unwrap_err();
    assert!(
        matches!(&err, CallError::Breaker(BreakerError::Open { name, .. }) if name == "names-remove")
    );
    assert_eq!(old.metrics().rejected, 1);
    old.close();
    assert_eq!(old.call_sync(|| Ok::<_, ()>(7)), Ok(7));
    fail(&fresh);
    assert_eq!(fresh.state(), State::Open);
    assert_eq!(old.state(), State::Closed);
}

#[test]
fn remove_of_an_unknown_name_is_none() {
    assert!(registry().remove("names-never-registered").is_none());
    assert!(Registry::new().remove("").is_none());
}

#[test]
fn a_removed_breaker_is_not_counted_or_listed() {
    let r = Registry::new();
    r.get_or_create("names-a", opens_after_one());
    fail(&r.get_or_create("names-b", opens_after_one()));
    assert_eq!((r.len(), r.health().total, r.health().open), (2, 2, 1));

    let b = r.remove("names-b").unwrap();
    assert_eq!(b.state(), State::Open);
    assert_eq!(r.names(), ["names-a"]);
    assert_eq!((r.len(), r.health().total, r.health().open), (1, 1, 0));
    let snapshot = r.snapshot();
    assert_eq!(snapshot.len(), 1);
    assert_eq!(snapshot[0].name, "names-a");
}

#[cfg(feature = "config")]
#[test]
fn loads_skip_a_removed_breaker_and_reach_the_next_one_of_that_name() {
    use breaker_runtime::config::load_str_into;

    let r = Registry::new();
    let code = BreakerConfig::builder().failure_threshold(3).build();
    let old = r.get_or_create("names-cfg", code.clone());
    r.remove("names-cfg").unwrap();
    load_str_into(&r, "[breakers.\"names-cfg\"]\nfailure_threshold = 1\n").unwrap();

    fail(&old);
    assert_eq!(
        old.state(),
        State::Closed,
        "the removed breaker kept its settings"
    );
    let fresh = r.get_or_create("names-cfg", code);
    fail(&fresh);
    assert_eq!(
        fresh.state(),
        State::Open,
        "the loaded table applies to the new one"
    );
}

#[circuit_breaker(name = "names-macro", failure_threshold = 1, reset_timeout = "1h")]
fn annotated(fail: bool) -> Result<u32, BreakerError> {
    if fail {
        Err(BreakerError::ForcedOpen {
            name: "downstream".into(),
        })
    } else {
        Ok(1)
    }
}

/// As `Registry::remove` documents it: an annotated function keeps the breaker it reached
/// first; the registry makes another one under the same name.
#[test]
fn an_annotated_function_keeps_its_breaker_after_remove() {
    assert!(annotated(true).is_err());
    let err = annotated(false).unwrap_err();
    assert_eq!(err.name(), "names-macro");
    assert!(err.is_circuit_open());

    let removed = registry()
        .remove("names-macro")
        .expect("registered on first call");
    assert_eq!(removed.state(), State::Open);
    assert!(registry().get("names-macro").is_none());

    let other = registry().get_or_create("names-macro", BreakerConfig::default());
    assert_eq!(other.state(), State::Closed);
    let err = annotated(false).unwrap_err();
    assert_eq!(
        err.name(),
        "names-macro",
        "still the function's first breaker"
    );
    assert_eq!(removed.metrics().rejected, 2);
    assert_eq!(other.metrics().calls, 0);
}

// ----- the name in errors and events -----------------------------------------------------

/// Every way a breaker gets its name, and the name it must show.
fn named_breakers() -> Vec<(Arc<CircuitBreaker>, String)> {
    let long = "names-a-dependency-with-a-rather-long-name.example.com:8443";
    let builders = [
        (CircuitBreaker::builder("names-literal"), "names-literal"),
        (
            CircuitBreaker::builder_named("names-static"),
            "names-static",
        ),
        (CircuitBreaker::builder_named(long), long),
        (
            CircuitBreaker::builder(format!("names-{}", "runtime")),
            "names-runtime",
        ),
        (CircuitBreaker::builder(long.to_owned()), long),
        (
            CircuitBreaker::builder_named(Arc::<str>::from("names-arc")),
            "names-arc",
        ),
        (
            CircuitBreaker::builder_named(Name::new(&format!("{long}/new"))),
            "names-a-dependency-with-a-rather-long-name.example.com:8443/new",
        ),
    ];
    builders
        .into_iter()
        .map(|(builder, name)| {
            let b = builder
                .failure_threshold(1)
                .reset_timeout(Duration::from_secs(30))
                .half_open_max_calls(1)
                .build();
            (b, name.to_owned())
        })
        .collect()
}

#[test]
fn errors_carry_the_name_and_outlive_the_breaker() {
    for (b, name) in named_breakers() {
        assert_eq!(b.name(), name);
        fail(&b);
        let Err(CallError::Breaker(open)) = b.call_sync(|| Ok::<_, ()>(())) else {
            panic!("`{name}` must reject");
        };
        b.force_open();
        let Err(CallError::Breaker(forced)) = b.call_sync(|| Ok::<_, ()>(())) else {
            panic!("`{name}` must reject");
        };
        let copy = open.clone();
        drop(b);

        assert_eq!(open.name(), name);
        assert_eq!(forced.name(), name);
        assert_eq!(copy, open);
        assert_eq!(
            open.to_string(),
            format!("circuit breaker `{name}` is open; retry in 30s")
        );
        assert_eq!(
            forced,
            BreakerError::ForcedOpen {
                name: name.clone().into()
            }
        );
        assert!(matches!(&open, BreakerError::Open { name: n, .. } if *n == *name));
    }
}

#[tokio::test(start_paused = true)]
async fn timeouts_and_half_open_rejections_carry_the_name() {
    for (b, name) in named_breakers() {
        let slow = CircuitBreaker::builder(name.clone())
            .call_timeout(Duration::from_secs(1))
            .build();
        let r = slow.call(std::future::pending::<Result<(), ()>>).await;
        let Err(CallError::Breaker(err)) = r else {
            panic!("`{name}` must time out");
        };
        assert!(err.is_timeout());
        assert_eq!(err.name(), name);

        fail(&b);
        tokio::time::advance(Duration::from_secs(30)).await;
        let probe = b.try_acquire().expect("the first probe");
        let err = b.try_acquire().unwrap_err();
        assert_eq!(
            err,
            BreakerError::HalfOpenFull {
                name: Name::new(&name)
            }
        );
        drop(probe);
    }
}

#[test]
fn events_carry_the_name() {
    for (b, name) in named_breakers() {
        let mut events = b.subscribe();
        fail(&b);
        let _ = b.call_sync(|| Ok::<_, ()>(()));
        drop(b);
        let mut seen = Vec::new();
        while let Some(e) = events.try_recv() {
            seen.push(e);
        }
        assert_eq!(seen.len(), 2, "{seen:?}");
        for e in &seen {
            let (BreakerEvent::StateTransition { name: n, .. }
            | BreakerEvent::Rejected { name: n, .. }) = e
            else {
                panic!("unexpected {e:?}");
            };
            assert_eq!(n, &name);
        }
        let json = serde_json::to_value(&seen[1]).unwrap();
        assert_eq!(json["Rejected"]["name"], name.as_str(), "{json}");
    }
}

#[test]
fn registered_names_are_listed_as_given() {
    let r = Registry::new();
    let long = format!("names-{}", "x".repeat(40));
    for name in ["names-b", long.as_str(), "names-a"] {
        assert_eq!(r.get_or_create(name, BreakerConfig::default()).name(), name);
    }
    let names = r.names();
    assert_eq!(names, ["names-a", "names-b", long.as_str()]);
    assert_eq!(names[2].len(), long.len());
    assert!(r.get(&names[2]).is_some());
}
