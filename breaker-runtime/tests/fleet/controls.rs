//! Fleet-wide controls: one instance's `force_open`, `close` and `reset` reach them all.

use crate::server::Redis;
use crate::*;
use breaker_runtime::{BreakerConfig, State};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_open_close_and_reset_reach_every_instance() {
    let Some(redis) = Redis::start() else { return };
    let config = BreakerConfig::builder().failure_threshold(5).build();
    let fleet = three(&redis.url(), "controls", "db", &config, 1).await;
    connected(&fleet).await;

    fleet[0].fleet().force_open("db");
    assert_eq!(fleet[0].state(), State::ForcedOpen, "here at once");
    until("forced open everywhere", Duration::from_secs(5), || {
        fleet.iter().all(|i| i.state() == State::ForcedOpen)
    })
    .await;

    fleet[1].fleet().close("db");
    until("closed everywhere", Duration::from_secs(5), || {
        fleet.iter().all(|i| i.state() == State::Closed)
    })
    .await;

    for i in &fleet {
        let _ = ok(&i.breaker).await;
    }
    fleet[2].fleet().reset("db");
    until("reset everywhere", Duration::from_secs(5), || {
        fleet.iter().all(|i| i.breaker.metrics().calls == 0)
    })
    .await;
    assert!(fleet.iter().all(|i| i.state() == State::Closed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_is_applied_once_not_again_after_redis_restarts() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let config = BreakerConfig::builder().failure_threshold(2).build();
    let fleet = three(&redis.url(), "controls-once", "db", &config, 1).await;
    connected(&fleet).await;
    for i in &fleet {
        let _ = ok(&i.breaker).await;
    }
    fleet[0].fleet().reset("db");
    until("reset everywhere", Duration::from_secs(5), || {
        fleet.iter().all(|i| i.breaker.metrics().calls == 0)
    })
    .await;
    let _ = ok(&fleet[1].breaker).await;
    // A reconnect to the same Redis takes the fleet's state whole: the old reset stays done.
    redis.signal("-STOP");
    until("the link is lost", Duration::from_secs(5), || {
        !fleet[1].fleet().status().connected
    })
    .await;
    redis.signal("-CONT");
    until("the link is back", Duration::from_secs(10), || {
        fleet[1].fleet().status().connected
    })
    .await;
    tokio::time::sleep(SYNC * 3).await;
    assert_eq!(
        fleet[1].breaker.metrics().calls,
        1,
        "the reset was not applied again"
    );

    // Redis restarts empty: generations start afresh but never repeat, so a new control
    // still reaches everyone.
    redis.kill();
    redis.restart();
    until("every link is back", Duration::from_secs(10), || {
        fleet.iter().all(|i| i.fleet().status().connected)
    })
    .await;
    fleet[2].fleet().force_open("db");
    until("forced open everywhere", Duration::from_secs(5), || {
        fleet.iter().all(|i| i.state() == State::ForcedOpen)
    })
    .await;
}
