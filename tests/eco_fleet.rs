//! The fleet example, run against a real Redis (the Debian package `redis-server`): three
//! instances, of which only one sees the service fail, open together; the others reject
//! without calling; one probe, for the whole fleet, closes all three. Skips on a machine
//! without `redis-server`, saying what to install; fails under `CI=true`.

mod common;

// The example's own code, not a copy: its `main` is unused here.
#[allow(dead_code)]
#[path = "../examples/fleet.rs"]
mod example;

use breaker::redis_server::RedisServer;
use breaker_runtime::State;
use common::real_tool::find_tool;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_trip_together_probe_once_and_recover() {
    if find_tool(&["redis-server"], "redis-server").is_none() {
        return;
    }
    let redis = RedisServer::start().await.expect("redis-server starts");
    let report = example::run(&redis.url()).await;
    // The example syncs every 100 ms: two sync intervals, with slack for a loaded machine.
    assert!(report.opened_in < Duration::from_secs(2), "{report:?}");
    assert_eq!(report.reached_while_open, 0, "{report:?}");
    assert_eq!(report.probe_calls, 1, "one probe for the fleet: {report:?}");
    assert_eq!(report.end, [State::Closed; 3], "{report:?}");
}
