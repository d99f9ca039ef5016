//! Review 13: breakers known from the start (issue 13, item 12), attacked from the sides:
//! races between a first call and a first look, `remove`, config loads before the first
//! call, `Registry::new()`, and two functions that derive one default name.

use breaker_runtime::{circuit_breaker, registry, BreakerError, Registry, State};
use std::sync::Arc;

#[derive(Debug)]
struct Down;

impl From<BreakerError> for Down {
    fn from(_: BreakerError) -> Self {
        Down
    }
}

#[circuit_breaker(name = "rev13-race", failure_threshold = 1, reset_timeout = "1h")]
fn raced(up: bool) -> Result<u8, Down> {
    if up {
        Ok(1)
    } else {
        Err(Down)
    }
}

#[test]
fn a_first_call_and_first_looks_racing_from_many_threads_get_one_breaker() {
    let barrier = Arc::new(std::sync::Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                if i % 2 == 0 {
                    let _ = raced(true);
                }
                match i % 4 {
                    0 => {
                        registry().snapshot();
                    }
                    1 => {
                        registry().health();
                    }
                    _ => {}
                }
                registry().get("rev13-race").unwrap()
            })
        })
        .collect();
    let all: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(all.iter().all(|b| Arc::ptr_eq(b, &all[0])), "one breaker");
    assert_eq!(all[0].settings().failure_threshold, Some(1));
    // The function reaches that very breaker.
    let _ = raced(false);
    assert_eq!(all[0].state(), State::Open);
    assert!(
        raced(true).is_err(),
        "the function's breaker is the listed one"
    );
}

#[circuit_breaker(name = "rev13-removed", failure_threshold = 3)]
fn removable() -> Result<u8, Down> {
    Ok(1)
}

/// `remove` documents that from then on `get` does not find the name and `names`,
/// `snapshot`, `health` do not list it. For a declared name, `names()` (and so `len()`) kept
/// listing it while `snapshot()` (once every declared breaker was built) did not, and `get`
/// built a second breaker the function never uses.
#[test]
fn removing_a_declared_breaker_is_seen_alike_by_names_snapshot_and_get() {
    registry().snapshot(); // every declared breaker built
    assert_eq!(removable().unwrap(), 1); // the function reached it
    let listed = registry().get("rev13-removed").expect("declared");
    let removed = registry().remove("rev13-removed").expect("built");
    assert!(Arc::ptr_eq(&listed, &removed));
    let in_names = registry().names().iter().any(|n| n == "rev13-removed");
    let in_snapshot = registry()
        .snapshot()
        .iter()
        .any(|s| s.name == "rev13-removed");
    assert_eq!(
        in_names, in_snapshot,
        "names() and snapshot() disagree about a removed declared breaker"
    );
    assert!(!in_names, "remove: `names` does not list it");
    assert!(
        registry().get("rev13-removed").is_none(),
        "remove: `get` does not find it"
    );
    // The function keeps its old breaker, as `remove` documents; a later call is no error.
    assert_eq!(removable().unwrap(), 1);
    assert_eq!(removed.metrics().successes, 2);
    assert!(registry().get("rev13-removed").is_none());
    // A `get_or_create` registers the name again.
    let again = registry().get_or_create(
        "rev13-removed",
        breaker_runtime::BreakerConfig::builder()
            .failure_threshold(3)
            .build(),
    );
    assert!(!Arc::ptr_eq(&again, &removed));
    assert!(Arc::ptr_eq(
        &registry().get("rev13-removed").unwrap(),
        &again
    ));
    assert!(registry().names().iter().any(|n| n == "rev13-removed"));
}

#[circuit_breaker(name = "rev13-shared", failure_threshold = 2, reset_timeout = "1h")]
fn shared_a() -> Result<u8, Down> {
    Err(Down)
}

#[circuit_breaker(name = "rev13-shared", failure_threshold = 9, reset_timeout = "1h")]
fn shared_b() -> Result<u8, Down> {
    Ok(2)
}

#[test]
fn two_functions_sharing_a_name_share_the_breaker_get_returns() {
    let listed = registry().get("rev13-shared").unwrap();
    let threshold = listed.settings().failure_threshold.unwrap();
    assert!(threshold == 2 || threshold == 9, "one of the two configs");
    for _ in 0..threshold {
        let _ = shared_a();
    }
    assert_eq!(listed.state(), State::Open);
    assert!(shared_b().is_err(), "shared_b is behind the same breaker");
    assert_eq!(
        registry()
            .names()
            .iter()
            .filter(|n| *n == "rev13-shared")
            .count(),
        1
    );
}

#[test]
fn a_registry_of_ones_own_lists_no_declared_breaker() {
    let own = Registry::new();
    assert!(own.names().is_empty());
    assert_eq!(own.len(), 0);
    assert!(own.is_empty());
    assert!(own.snapshot().is_empty());
    assert_eq!(own.health().total, 0);
    assert!(own.get("rev13-race").is_none());
}

mod first {
    use super::*;
    pub(super) fn call(up: bool) -> Result<u8, Down> {
        #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
        fn inner(up: bool) -> Result<u8, Down> {
            if up {
                Ok(1)
            } else {
                Err(Down)
            }
        }
        inner(up)
    }
    pub(super) fn call_other(up: bool) -> Result<u8, Down> {
        #[circuit_breaker(failure_threshold = 50, reset_timeout = "1h")]
        fn inner(up: bool) -> Result<u8, Down> {
            if up {
                Ok(1)
            } else {
                Err(Down)
            }
        }
        inner(up)
    }
}

/// Two nested functions of one module derive one default name (`…::first::inner`), and both
/// declare it. The first to register claims the name (the other becomes `name@site`); a look
/// before the first call registers through a function's own cell, so whichever it built, each
/// function runs with its own settings.
#[test]
fn a_look_does_not_hand_one_function_another_ones_settings() {
    let name = "review13_declared::first::inner";
    let built = registry().get(name).expect("declared");
    let threshold = built.settings().failure_threshold;
    // Call first the function whose settings the look did not use.
    if threshold == Some(1) {
        let _ = first::call_other(false);
        assert!(
            first::call_other(true).is_ok(),
            "threshold 50: one failure does not open it"
        );
    } else {
        let _ = first::call(false);
        assert!(
            first::call(true).is_err(),
            "threshold 1: one failure opens it"
        );
    }
}

#[circuit_breaker(name = "rev13-goc-first", failure_threshold = 3, reset_timeout = "1h")]
fn goc_first(up: bool) -> Result<u8, Down> {
    if up {
        Ok(1)
    } else {
        Err(Down)
    }
}

#[circuit_breaker(name = "rev13-look-first", failure_threshold = 3, reset_timeout = "1h")]
fn look_first() -> Result<u8, Down> {
    Ok(1)
}

#[test]
fn a_declared_name_also_made_by_get_or_create_keeps_the_first_config() {
    use breaker_runtime::BreakerConfig;
    let one = BreakerConfig::builder()
        .failure_threshold(1)
        .reset_timeout(std::time::Duration::from_secs(3600))
        .build();
    // `get_or_create` before the first call: its config is the first, unless a look in a
    // test running alongside (a `snapshot`) built the declared breaker just before.
    let made = registry().get_or_create("rev13-goc-first", one.clone());
    let threshold = made.settings().failure_threshold.unwrap();
    assert!(threshold == 1 || threshold == 3);
    assert!(Arc::ptr_eq(
        &registry().get("rev13-goc-first").unwrap(),
        &made
    ));
    for _ in 0..threshold {
        let _ = goc_first(false);
    }
    assert_eq!(made.state(), State::Open, "the function is on that breaker");
    // A look first: the attribute's config is the first.
    let looked = registry().get("rev13-look-first").unwrap();
    let again = registry().get_or_create("rev13-look-first", one);
    assert!(Arc::ptr_eq(&looked, &again));
    assert_eq!(again.settings().failure_threshold, Some(3));
    assert_eq!(look_first().unwrap(), 1);
    assert_eq!(looked.metrics().successes, 1);
}
