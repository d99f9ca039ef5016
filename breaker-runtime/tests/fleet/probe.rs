//! Probe once: when the fleet's open period is over, exactly one instance probes, and its
//! verdict applies to all; a probe holder that dies, or gets no call, hands over after the
//! lease runs out.

use crate::server::Redis;
use crate::*;
use breaker_runtime::State;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_probe_for_the_fleet_and_its_verdict_closes_all_three() {
    let Some(redis) = Redis::start() else { return };
    let reset = Duration::from_secs(1);
    let fleet = three(
        &redis.url(),
        "probe-once",
        "db",
        &one_probe(reset, Duration::from_secs(30)),
        1,
    )
    .await;
    tripped_by_the_first(&fleet).await;

    // Every instance calls every 5 ms. The dependency answers slowly (500 ms, many syncs):
    // while the one probe runs, nobody else reaches it.
    let reached = Arc::new(AtomicU64::new(0));
    let during_probe = Arc::new(AtomicU64::new(u64::MAX));
    let mut callers = Vec::new();
    for i in &fleet {
        let (b, reached, during_probe) = (i.breaker.clone(), reached.clone(), during_probe.clone());
        callers.push(tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
            while tokio::time::Instant::now() < deadline && during_probe.load(SeqCst) == u64::MAX {
                let _ = b
                    .call(|| async {
                        if reached.fetch_add(1, SeqCst) == 0 {
                            tokio::time::sleep(Duration::from_millis(500)).await;
                            during_probe.store(reached.load(SeqCst), SeqCst);
                        }
                        Ok::<_, &str>(())
                    })
                    .await;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    for c in callers {
        c.await.unwrap();
    }
    assert_eq!(
        during_probe.load(SeqCst),
        1,
        "exactly one call reached the dependency while the fleet's probe ran"
    );
    until(
        "the verdict closes all three",
        Duration::from_secs(5),
        || fleet.iter().all(|i| i.state() == State::Closed),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_holder_that_dies_hands_over_once_its_lease_runs_out() {
    let Some(redis) = Redis::start() else { return };
    let lease = Duration::from_secs(1);
    let mut fleet = three(
        &redis.url(),
        "holder-dies",
        "db",
        &one_probe(Duration::from_millis(500), lease),
        1,
    )
    .await;
    tripped_by_the_first(&fleet).await;
    // The holder's breaker half-opens (its turn to probe); the others stay open.
    let holder = half_opened(&fleet, None).await;
    let others: Vec<usize> = (0..3).filter(|&k| k != holder).collect();
    assert!(
        others.iter().all(|&k| fleet[k].state() == State::Open),
        "one probe at a time"
    );
    // The holder dies mid-probe: its fleet stops and its verdict never comes.
    let _permit = fleet[holder]
        .breaker
        .try_acquire()
        .expect("the holder's probe");
    fleet[holder].fleet.take().unwrap().shutdown().await;

    let took = until("another instance probes", Duration::from_secs(10), || {
        others.iter().any(|&k| fleet[k].state() == State::HalfOpen)
    })
    .await;
    assert!(took >= lease / 2, "not before the lease runs out: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_probe_holder_whose_lease_runs_out_waits_again_with_the_others() {
    let Some(redis) = Redis::start() else { return };
    let lease = Duration::from_secs(1);
    let fleet = three(
        &redis.url(),
        "idle-holder",
        "db",
        &one_probe(Duration::from_millis(500), lease),
        1,
    )
    .await;
    connected(&fleet).await;
    for _ in 0..2 {
        let _ = fail(&fleet[0].breaker).await;
    }
    let first = half_opened(&fleet, None).await;
    // No call comes to the holder: its lease runs out and another instance takes its turn.
    let next = half_opened(&fleet, Some(first)).await;
    // The first holder gave its turn up: it rejects again, and waits for the fleet's verdict.
    until(
        "the idle holder waits again",
        SYNC * 2 + Duration::from_millis(300),
        || fleet[first].state() == State::Open,
    )
    .await;
    assert!(
        fleet[first].breaker.try_acquire().is_err(),
        "one probe at a time: the idle holder's turn is over"
    );
    ok(&fleet[next].breaker)
        .await
        .expect("the new holder probes");
    until(
        "the verdict closes all three",
        Duration::from_secs(5),
        || fleet.iter().all(|i| i.state() == State::Closed),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_whose_probe_outlives_its_lease_closes_with_the_next_holders_verdict() {
    let Some(redis) = Redis::start() else { return };
    let lease = Duration::from_secs(1);
    // Syncs 300 ms apart: the lease ends between two of the holder's syncs, and its hung
    // probe times out (half_open_timeout after its admission) before the next one, which
    // then carries a verdict the fleet no longer takes from it.
    let sync = Duration::from_millis(300);
    let config = one_probe(Duration::from_millis(500), lease);
    let mut fleet = Vec::new();
    for id in ["a", "b", "c"] {
        let url = redis.url();
        fleet.push(Instance::start_with(&url, "outlived", id, "db", config.clone(), 1, sync).await);
    }
    connected(&fleet).await;
    for _ in 0..2 {
        let _ = fail(&fleet[0].breaker).await;
    }
    let first = half_opened(&fleet, None).await;
    // Its probe hangs: no verdict within the lease.
    let _hung = fleet[first]
        .breaker
        .try_acquire()
        .expect("the holder's probe");
    let next = half_opened(&fleet, Some(first)).await;
    ok(&fleet[next].breaker)
        .await
        .expect("the new holder probes");
    until(
        "the verdict closes all three",
        Duration::from_secs(5),
        || fleet.iter().all(|i| i.state() == State::Closed),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fleet_probe_reopens_all_and_each_round_has_one_probe() {
    let Some(redis) = Redis::start() else { return };
    let reset = Duration::from_millis(600);
    let fleet = three(
        &redis.url(),
        "reopen",
        "db",
        &one_probe(reset, Duration::from_secs(30)),
        1,
    )
    .await;
    tripped_by_the_first(&fleet).await;

    // The dependency stays down; every instance calls every 5 ms for 4 s. Each probe the
    // fleet lets through fails and re-opens every instance for another reset timeout.
    let start = tokio::time::Instant::now();
    let probes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut callers = Vec::new();
    for i in &fleet {
        let (b, probes) = (i.breaker.clone(), probes.clone());
        callers.push(tokio::spawn(async move {
            let mut closed = false;
            while start.elapsed() < Duration::from_secs(4) {
                let _ = b
                    .call(|| async {
                        probes.lock().unwrap().push(start.elapsed());
                        Err::<(), _>("still down")
                    })
                    .await;
                closed |= b.state() == State::Closed;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            closed
        }));
    }
    for c in callers {
        assert!(!c.await.unwrap(), "no instance closed on a failed probe");
    }
    let probes = probes.lock().unwrap().clone();
    assert!(
        probes.len() >= 2,
        "the fleet probed again after a failed probe: {probes:?}"
    );
    for pair in probes.windows(2) {
        // One probe per round: the next comes a whole open period later (less rounding).
        assert!(
            pair[1] - pair[0] >= reset - Duration::from_millis(20),
            "two probes in one round: {probes:?}"
        );
    }
}
