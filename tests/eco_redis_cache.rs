//! The Redis cache example, run against a real Redis (the Debian package `redis-server`): the
//! breaker protects the cache; when Redis hangs or stops it opens, every read is answered by
//! the source, and reads while it is open neither touch Redis nor wait on it; when Redis is
//! back it closes, and answers come from Redis again. Skips on a machine without
//! `redis-server`, saying what to install; fails under `CI=true`.

mod common;

// The example's own code, not a copy: its `main` is unused here.
#[allow(dead_code)]
#[path = "../examples/redis_cache.rs"]
mod example;

use breaker::redis_server::RedisServer;
use breaker_runtime::State;
use common::real_tool::find_tool;
use example::{Origin, Step, VALUE};
use std::time::Duration;

/// The example's `call_timeout`.
const CALL_TIMEOUT: Duration = Duration::from_millis(100);
/// A read that waited on Redis takes at least the call timeout and then the source's 20 ms; a
/// read the open breaker sends straight to the source takes the 20 ms alone. The bound between
/// them leaves a loaded machine 100 ms of slack.
const FAST: Duration = CALL_TIMEOUT.saturating_add(example::Source::DELAY);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_breaker_opens_serves_the_source_and_recovers() {
    if find_tool(&["redis-server"], "redis-server").is_none() {
        return;
    }
    let report = example::run().await.expect("the example runs");
    let steps =
        |phase: &str| -> Vec<&Step> { report.steps.iter().filter(|s| s.phase == phase).collect() };
    let answer = |step: &Step| -> (String, Origin) {
        let a = step
            .result
            .clone()
            .unwrap_or_else(|e| panic!("a {} read failed: {e}", step.phase));
        (a.value, a.origin)
    };
    let fallback_why = |step: &Step| -> String {
        match answer(step) {
            (value, Origin::Fallback(why)) if value == VALUE => why,
            other => panic!("a {} read was not the source's: {other:?}", step.phase),
        }
    };

    // Warm-up: a miss, read from the source once and written back (a read and a write to Redis).
    let warm = steps("warm-up");
    assert_eq!(warm.len(), 1);
    assert_eq!(answer(warm[0]), (VALUE.to_owned(), Origin::Miss));
    assert_eq!((warm[0].redis_calls, warm[0].source_reads), (2, 1));
    assert_eq!(warm[0].state, State::Closed);

    // Healthy: hits, closed, the source untouched.
    let healthy = steps("healthy");
    assert_eq!(healthy.len(), 3);
    for step in &healthy {
        assert_eq!(answer(step), (VALUE.to_owned(), Origin::Cache));
        assert_eq!((step.state, step.source_reads), (State::Closed, 0));
    }

    // Paused Redis: each read is cut at call_timeout and served from the source; three open
    // the breaker (failure_threshold = 3).
    let paused = steps("paused");
    assert_eq!(paused.len(), 3, "{paused:?}");
    assert_eq!(paused.last().unwrap().state, State::Open);
    for step in &paused {
        assert!(fallback_why(step).contains("timed out"), "{step:?}");
        assert_eq!(step.source_reads, 1);
        assert!(
            step.took >= CALL_TIMEOUT && step.took < Duration::from_secs(5),
            "{step:?}"
        );
    }

    // Open: rejected without touching Redis, the source answers at its own speed.
    let open = steps("open");
    assert_eq!(open.len(), 3);
    for step in &open {
        assert!(fallback_why(step).contains("is open"), "{step:?}");
        assert_eq!(step.state, State::Open);
        assert_eq!((step.redis_calls, step.source_reads), (0, 1), "{step:?}");
        assert!(step.took < FAST, "{step:?}");
    }

    // Resumed: two probes (success_threshold = 2) close it; hits again, the source untouched.
    let resumed = steps("resumed");
    assert_eq!(resumed.len(), 3);
    for step in &resumed {
        assert_eq!(answer(step), (VALUE.to_owned(), Origin::Cache));
        assert_eq!(step.source_reads, 0);
    }
    let states: Vec<State> = resumed.iter().map(|s| s.state).collect();
    assert_eq!(states, [State::HalfOpen, State::Closed, State::Closed]);

    // Stopped Redis: three failures open it, each read served from the source.
    let stopped = steps("stopped");
    assert_eq!(stopped.len(), 3, "{stopped:?}");
    assert_eq!(stopped.last().unwrap().state, State::Open);
    for step in &stopped {
        fallback_why(step);
        assert!(step.took < Duration::from_secs(5), "{step:?}");
    }
    let down = steps("down");
    assert_eq!(down.len(), 3);
    for step in &down {
        assert!(fallback_why(step).contains("is open"), "{step:?}");
        assert_eq!((step.redis_calls, step.source_reads), (0, 1), "{step:?}");
        assert!(step.took < FAST, "{step:?}");
    }

    // Restarted, empty: the probe misses and writes back, which closes the breaker; then
    // hits, and the source-read counter stops rising.
    let restarted = steps("restarted");
    assert_eq!(restarted.len(), 4);
    assert_eq!(answer(restarted[0]), (VALUE.to_owned(), Origin::Miss));
    assert_eq!(
        (restarted[0].redis_calls, restarted[0].source_reads),
        (2, 1)
    );
    for step in &restarted {
        assert_eq!(step.state, State::Closed, "{step:?}");
    }
    for step in &restarted[1..] {
        assert_eq!(answer(step), (VALUE.to_owned(), Origin::Cache));
        assert_eq!(step.source_reads, 0);
    }
    // Every source read is one the timeline shows: 1 miss, 3 + 3 timed out or failed, 3 + 3
    // rejected, 1 miss after the restart.
    let shown: u64 = report.steps.iter().map(|s| s.source_reads).sum();
    assert_eq!((report.source_reads, shown), (14, 14));
}

/// The helper itself: a server that answers, says nothing while paused and answers what it
/// was sent once resumed, refuses once stopped, comes back on the same port, and is gone once
/// dropped.
#[tokio::test]
async fn the_server_pauses_stops_restarts_and_is_gone_after_drop() {
    if find_tool(&["redis-server"], "redis-server").is_none() {
        return;
    }
    let mut server = RedisServer::start().await.expect("starts");
    let port = server.port();
    assert_eq!(server.url(), format!("redis://127.0.0.1:{port}/"));
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("answers");
    let () = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query_async(&mut conn)
        .await
        .unwrap();

    server.pause().unwrap();
    assert!(server.is_paused());
    let mut waiting = conn.clone();
    let get = tokio::spawn(async move {
        redis::cmd("GET")
            .arg("k")
            .query_async::<Option<String>>(&mut waiting)
            .await
    });
    // No answer while paused: a generous wait that does not end with the answer.
    let mut get = std::pin::pin!(get);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut get)
            .await
            .is_err(),
        "a paused server answered"
    );
    server.resume().unwrap();
    let value = tokio::time::timeout(Duration::from_secs(10), get)
        .await
        .expect("answered once resumed")
        .unwrap()
        .unwrap();
    assert_eq!(
        value.as_deref(),
        Some("v"),
        "it kept its data and the connection"
    );

    let pid = server.pid().expect("running");
    server.stop().unwrap();
    assert!(!server.is_running());
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the process is gone"
    );
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err(),
        "refuses once stopped"
    );

    server.start_again().await.expect("starts again");
    assert_eq!(server.port(), port);
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("answers again");
    let value: Option<String> = redis::cmd("GET")
        .arg("k")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(value, None, "nothing persisted across the restart");

    let pid = server.pid().expect("running");
    server.pause().unwrap();
    drop(server);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "a paused server is gone after drop"
    );
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err(),
        "nothing listens on {port}"
    );
}
