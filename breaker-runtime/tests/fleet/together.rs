//! Trip together: an open made on some instances reaches all of them, and a low-traffic fleet
//! reaches `minimum_calls` together.

use crate::server::Redis;
use crate::*;
use breaker_runtime::{BreakerConfig, State};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_on_two_instances_open_all_three_within_two_sync_intervals() {
    let Some(redis) = Redis::start() else { return };
    let config = BreakerConfig::builder()
        .failure_threshold(3)
        .reset_timeout(Duration::from_secs(30))
        .build();
    let fleet = three(&redis.url(), "together", "db", &config, 2).await;
    connected(&fleet).await;

    // One instance's open is not enough with min_instances = 2.
    for _ in 0..3 {
        let _ = fail(&fleet[0].breaker).await;
    }
    assert_eq!(fleet[0].state(), State::Open);
    tokio::time::sleep(SYNC * 5).await;
    assert_eq!(
        fleet[1].state(),
        State::Closed,
        "one instance opened, two are needed"
    );
    assert_eq!(fleet[2].state(), State::Closed);

    for _ in 0..3 {
        let _ = fail(&fleet[1].breaker).await;
    }
    let took = until("the third instance opens", Duration::from_secs(10), || {
        fleet[2].state() == State::Open
    })
    .await;
    // Two syncs: the one that reports the open, the one that brings it; a margin for load.
    assert!(
        took <= SYNC * 2 + Duration::from_millis(300),
        "took {took:?}"
    );
    let err = ok(&fleet[2].breaker).await.unwrap_err();
    assert!(err.is_circuit_open(), "the third instance rejects: {err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_low_traffic_fleet_reaches_minimum_calls_together() {
    let Some(redis) = Redis::start() else { return };
    let config = BreakerConfig::builder()
        .failure_rate(0.5)
        .minimum_calls(20)
        .window(Duration::from_secs(30))
        .reset_timeout(Duration::from_secs(30))
        .build();
    let fleet = three(&redis.url(), "low-traffic", "search", &config, 1).await;
    connected(&fleet).await;

    // 7 calls each, 4 of them failures: no instance alone reaches minimum_calls = 20.
    for i in &fleet {
        for k in 0..7 {
            let _ = if k < 4 {
                fail(&i.breaker).await
            } else {
                ok(&i.breaker).await
            };
        }
        assert_eq!(i.state(), State::Closed);
        assert_eq!(
            i.breaker.metrics().failure_rate,
            None,
            "below minimum_calls alone"
        );
    }
    // Together: 21 calls, 12 failures (57 % >= 50 %).
    until(
        "all three open on the pooled window",
        Duration::from_secs(10),
        || fleet.iter().all(|i| i.state() == State::Open),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn below_the_pooled_rate_nobody_opens() {
    let Some(redis) = Redis::start() else { return };
    let config = BreakerConfig::builder()
        .failure_rate(0.5)
        .minimum_calls(20)
        .window(Duration::from_secs(30))
        .build();
    let fleet = three(&redis.url(), "healthy", "search", &config, 1).await;
    connected(&fleet).await;
    // 21 calls, 9 failures (43 %).
    for i in &fleet {
        for k in 0..7 {
            let _ = if k < 3 {
                fail(&i.breaker).await
            } else {
                ok(&i.breaker).await
            };
        }
    }
    tokio::time::sleep(SYNC * 5).await;
    assert!(fleet.iter().all(|i| i.state() == State::Closed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pub_sub_brings_a_fleet_open_well_before_the_next_sync() {
    let Some(redis) = Redis::start() else { return };
    let sync = Duration::from_secs(3);
    let config = BreakerConfig::builder().failure_threshold(2).build();
    let mut fleet = Vec::new();
    for id in ["a", "b"] {
        fleet.push(
            Instance::start_with(&redis.url(), "pubsub", id, "db", config.clone(), 1, sync).await,
        );
    }
    until("both connect", Duration::from_secs(10), || {
        fleet.iter().all(|i| i.fleet().status().connected)
    })
    .await;
    for _ in 0..2 {
        let _ = fail(&fleet[0].breaker).await;
    }
    // Once Redis holds the fleet's open, b learns it from the announcement, not its next sync.
    let mut con = redis.client();
    until("the fleet opens", Duration::from_secs(10), || {
        redis::cmd("HGET")
            .arg("{pubsub:db}:state")
            .arg("state")
            .query::<Option<String>>(&mut con)
            .ok()
            .flatten()
            .as_deref()
            == Some("open")
    })
    .await;
    let took = until("b opens", Duration::from_secs(10), || {
        fleet[1].state() == State::Open
    })
    .await;
    assert!(
        took < Duration::from_secs(1),
        "took {took:?} with a {sync:?} sync interval"
    );
}
