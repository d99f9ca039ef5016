//! The script alone, driven by hand as instances would: reports decided on an older fleet
//! generation move nothing, only the lease's owner gives the verdict, and keys expire.

use crate::server::Redis;
use crate::*;
use std::time::Duration;

const SCRIPT: &str = include_str!("../../src/fleet/sync.lua");

/// The script's answer: generation, state, ms left, holder, lease ms left, control.
type Answer = (u64, String, u64, u64, u64, String);

/// One report as `instance` with these arguments (see the head of sync.lua).
fn report(
    con: &mut redis::Connection,
    instance: &str,
    seen: u64,
    event: &str,
    left_ms: u64,
    wants_lease: bool,
    ttl_ms: u64,
) -> Answer {
    let keys = ["state", "window", "opens", "lease"].map(|k| format!("{{fenced:db}}:{k}"));
    redis::Script::new(SCRIPT)
        .key(keys.as_slice())
        .arg(instance)
        .arg(seen)
        .arg(event)
        .arg(left_ms)
        .arg([0, 0, 0].as_slice())
        // minimum_calls, failure_rate, slow_call_rate, span, bucket: no window
        .arg(10)
        .arg(-1)
        .arg(-1)
        .arg(0)
        .arg(1)
        // min_instances, open window, open ms, ttl, lease ms
        .arg(1)
        .arg(60_000)
        .arg(1_000)
        .arg(ttl_ms)
        .arg(60_000)
        .arg(if wants_lease { "1" } else { "0" })
        .arg("breaker-fleet:fenced")
        .invoke(con)
        .expect("the script runs")
}

#[test]
fn reports_from_an_older_generation_move_nothing() {
    let Some(redis) = Redis::start() else { return };
    let mut con = redis.client();
    let ttl = 60_000;
    // A fresh state starts its generations at Redis's clock (ms), never at 0 again.
    let g = report(&mut con, "a", 0, "", 0, false, ttl).0;
    assert!(g > 1_600_000_000_000, "generation {g}");
    let opened = report(&mut con, "a", g, "open", 0, false, ttl);
    assert_eq!((opened.0, opened.1.as_str()), (g + 1, "open"));
    // b decided its open on generation g: stale, nothing moves.
    assert_eq!(report(&mut con, "b", g, "open", 5_000, false, ttl).0, g + 1);
    // The open period (0 ms) is over: a takes the lease, b cannot.
    assert_eq!(
        report(&mut con, "a", g + 1, "", 0, true, ttl).3,
        1,
        "a holds the lease"
    );
    assert_eq!(
        report(&mut con, "b", g + 1, "", 0, true, ttl).3,
        0,
        "one holder"
    );
    // A verdict from b (no lease) or from a on generation g (stale) moves nothing.
    assert_eq!(
        report(&mut con, "b", g + 1, "closed", 0, false, ttl).0,
        g + 1
    );
    assert_eq!(report(&mut con, "a", g, "closed", 0, false, ttl).0, g + 1);
    let closed = report(&mut con, "a", g + 1, "closed", 0, false, ttl);
    assert_eq!((closed.0, closed.1.as_str()), (g + 2, "closed"));
    // Late: a's verdict again, and a re-open on generation g + 1, after the close.
    assert_eq!(
        report(&mut con, "a", g + 1, "reopen", 5_000, false, ttl).0,
        g + 2
    );
    assert_eq!(
        report(&mut con, "a", g + 1, "open", 5_000, false, ttl).0,
        g + 2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_expire_after_their_ttl() {
    let Some(redis) = Redis::start() else { return };
    let mut con = redis.client();
    report(&mut con, "a", 0, "", 0, false, 300);
    let exists = |con: &mut redis::Connection| -> u64 {
        redis::cmd("EXISTS")
            .arg("{fenced:db}:state")
            .query(con)
            .unwrap()
    };
    assert_eq!(exists(&mut con), 1);
    until("the state key expires", Duration::from_secs(5), || {
        exists(&mut con) == 0
    })
    .await;
}
