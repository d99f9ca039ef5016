//! Redis is optional at every moment: down at start, killed mid-run, paused. Calls never wait
//! or fail because of it, breakers keep working alone, and the link comes back.

use crate::server::Redis;
use crate::*;
use breaker_runtime::{BreakerConfig, State};
use std::time::Duration;

/// No call through a closed breaker takes anywhere near a response timeout (a third of the
/// 100 ms sync interval, three times over for connecting): generous for a loaded machine.
const FAST: Duration = Duration::from_millis(50);

async fn calls_stay_fast(i: &Instance) {
    for _ in 0..50 {
        let (r, took) = timed(ok(&i.breaker)).await;
        assert!(r.is_ok(), "a call failed: {r:?}");
        assert!(took < FAST, "a call took {took:?}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn config() -> BreakerConfig {
    BreakerConfig::builder()
        .failure_threshold(3)
        .reset_timeout(Duration::from_secs(30))
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_at_start_then_killed_then_back() {
    let Some(mut redis) = Redis::not_started() else {
        return;
    };
    let i = Instance::start(&redis.url(), "optional", "a", "db", config(), 1).await;
    // Down at start: the fleet started anyway, and the breaker works alone.
    calls_stay_fast(&i).await;
    until("a failed sync is counted", Duration::from_secs(5), || {
        i.fleet().status().errors > 0
    })
    .await;
    assert!(!i.fleet().status().connected);
    for _ in 0..3 {
        let _ = fail(&i.breaker).await;
    }
    assert_eq!(i.state(), State::Open, "alone, as without fleet mode");
    i.breaker.close();

    redis.restart();
    until("the link comes up", Duration::from_secs(10), || {
        i.fleet().status().connected
    })
    .await;
    calls_stay_fast(&i).await;

    redis.kill();
    calls_stay_fast(&i).await;
    until("the loss is seen", Duration::from_secs(5), || {
        !i.fleet().status().connected
    })
    .await;
    calls_stay_fast(&i).await;

    redis.restart();
    until("the link is back", Duration::from_secs(10), || {
        i.fleet().status().connected
    })
    .await;
    // Resynced: an open made now is shared again.
    let j = Instance::start(&redis.url(), "optional", "b", "db", config(), 1).await;
    connected(std::slice::from_ref(&j)).await;
    for _ in 0..3 {
        let _ = fail(&i.breaker).await;
    }
    until("the other instance opens", Duration::from_secs(5), || {
        j.state() == State::Open
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_redis_costs_calls_nothing() {
    let Some(redis) = Redis::start() else { return };
    let i = Instance::start(&redis.url(), "paused", "a", "db", config(), 1).await;
    connected(std::slice::from_ref(&i)).await;
    redis.signal("-STOP");
    // Longer than the response timeout, many times over.
    let errors = i.fleet().status().errors;
    calls_stay_fast(&i).await;
    until("the silence is seen", Duration::from_secs(5), || {
        !i.fleet().status().connected && i.fleet().status().errors > errors
    })
    .await;
    calls_stay_fast(&i).await;
    for _ in 0..3 {
        let _ = fail(&i.breaker).await;
    }
    assert_eq!(i.state(), State::Open, "alone, as without fleet mode");
    redis.signal("-CONT");
    until("the link is back", Duration::from_secs(10), || {
        i.fleet().status().connected
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_carries_a_ttl_and_one_hash_tag() {
    let Some(redis) = Redis::start() else { return };
    let i = Instance::start(&redis.url(), "tidy", "a", "db", config(), 2).await;
    connected(std::slice::from_ref(&i)).await;
    for _ in 0..3 {
        let _ = fail(&i.breaker).await;
    }
    let mut con = redis.client();
    until("the open is reported", Duration::from_secs(5), || {
        redis::cmd("EXISTS")
            .arg("{tidy:db}:opens")
            .query::<u64>(&mut con)
            .unwrap_or(0)
            == 1
    })
    .await;
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut con).unwrap();
    assert!(!keys.is_empty());
    for k in keys {
        assert!(k.starts_with("{tidy:db}:"), "one hash tag: {k}");
        let ttl: i64 = redis::cmd("PTTL").arg(&k).query(&mut con).unwrap();
        assert!(ttl > 0, "{k} has a TTL ({ttl})");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_first_connection_is_no_lost_link() {
    let Some(redis) = Redis::start() else { return };
    // A Redis that takes longer than the response timeout (33 ms here) to answer the fleet's
    // first connection, as a machine busy starting a service may: no failed sync, no WARN.
    redis.signal("-STOP");
    let i = Instance::start(&redis.url(), "slow-start", "a", "db", config(), 1).await;
    // How long Redis stays frozen: the scenario's pace, not a wait for a result. Six
    // response timeouts, and well under the first connection's allowance (two seconds).
    tokio::time::sleep(Duration::from_millis(200)).await;
    redis.signal("-CONT");
    until("the fleet connects", Duration::from_secs(10), || {
        i.fleet().status().connected
    })
    .await;
    assert_eq!(i.fleet().status().errors, 0, "a slow start is no lost link");
}
