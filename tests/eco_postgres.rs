//! The PostgreSQL example, run against a real PostgreSQL (the Debian package `postgresql`):
//! the breaker opens when the server stops and the cache answers, a read cut by `call_timeout`
//! is cancelled on the server, and after the restart the breaker closes and reads are fresh.
//! Skips on a machine without PostgreSQL, saying what to install; fails under `CI=true`.

mod common;

// The example's own code, not a copy: its `main` is unused here.
#[allow(dead_code)]
#[path = "../examples/postgres.rs"]
mod example;

use breaker_runtime::State;
use common::real_tool::find_tool;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_trips_serves_the_cache_and_recovers() {
    let postgres = breaker::postgres::bin_dir()
        .map(|bin| bin.join("postgres").display().to_string())
        .unwrap_or_else(|| "/usr/lib/postgresql/<version>/bin/postgres".into());
    if find_tool(&[&postgres], "postgresql").is_none() {
        return;
    }
    let report = example::run().await.expect("the example runs");
    let (old, new) = report.prices;
    let steps = |phase: &str| -> Vec<&example::Step> {
        report.steps.iter().filter(|s| s.phase == phase).collect()
    };
    let quote = |step: &example::Step| -> example::Quote {
        step.result
            .clone()
            .unwrap_or_else(|e| panic!("{} read failed: {e}", step.phase))
    };

    // Healthy: fresh reads, closed.
    for step in steps("healthy") {
        let q = quote(step);
        assert_eq!(
            (q.price, q.stale.as_deref(), step.state),
            (old, None, State::Closed)
        );
    }

    // Locked table: cut at call_timeout (500 ms), answered from the cache, cancelled on the
    // server, and the next read goes through at once.
    let locked = steps("locked");
    assert_eq!(locked.len(), 1);
    let q = quote(locked[0]);
    assert_eq!(q.price, old);
    assert!(
        q.stale
            .as_deref()
            .is_some_and(|why| why.contains("timed out")),
        "{q:?}"
    );
    assert!(
        locked[0].took >= Duration::from_millis(500) && locked[0].took < Duration::from_secs(3),
        "{:?}",
        locked[0].took
    );
    let cancelled = report
        .cancelled_after
        .expect("the cut query was cancelled on the server");
    assert!(cancelled < Duration::from_secs(3), "{cancelled:?}");
    let unlocked = steps("unlocked");
    assert_eq!(quote(unlocked[0]).stale, None);
    assert!(
        unlocked[0].took < Duration::from_secs(1),
        "{:?}",
        unlocked[0].took
    );

    // Outage: three failures open it (failure_threshold = 3), each served from the cache.
    let outage = steps("outage");
    assert_eq!(outage.len(), 3, "{outage:?}");
    assert_eq!(outage.last().unwrap().state, State::Open);
    for step in &outage {
        let q = quote(step);
        assert_eq!(q.price, old);
        assert!(q.stale.is_some(), "{q:?}");
    }
    // Open: rejected without touching the database, still served from the cache.
    let open = steps("open");
    assert_eq!(open.len(), 3);
    for step in &open {
        let q = quote(step);
        assert_eq!((q.price, step.state), (old, State::Open));
        assert!(
            q.stale
                .as_deref()
                .is_some_and(|why| why.contains("is open")),
            "{q:?}"
        );
    }

    // Recovered: two probes (success_threshold = 2) close it, with the price written during
    // the outage.
    let recovered = steps("recovered");
    assert_eq!(recovered.len(), 3);
    for step in &recovered {
        let q = quote(step);
        assert_eq!((q.price, q.stale.as_deref()), (new, None));
    }
    assert_eq!(recovered[0].state, State::HalfOpen);
    assert_eq!(recovered[1].state, State::Closed);
    assert_eq!(recovered[2].state, State::Closed);
}

/// The helper itself: a server that answers, refuses once stopped, comes back on the same port
/// with its data, and is gone (process and folder) once dropped.
#[tokio::test]
async fn the_server_stops_restarts_with_its_data_and_is_gone_after_drop() {
    if breaker::postgres::bin_dir().is_none() {
        // The test above says what to install, or fails under CI=true.
        return;
    }
    let mut server = breaker::postgres::PgServer::start().await.expect("starts");
    let port = server.port();
    let connect = |config: tokio_postgres::Config| async move {
        let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        Ok::<_, tokio_postgres::Error>(client)
    };
    let client = connect(server.config()).await.expect("answers");
    client
        .batch_execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (7);")
        .await
        .unwrap();

    server.stop().unwrap();
    assert!(!server.is_running());
    assert!(
        connect(server.config()).await.is_err(),
        "refuses once stopped"
    );
    assert!(
        client.simple_query("SELECT 1").await.is_err(),
        "its connections were cut"
    );

    server.start_again().await.expect("starts again");
    assert_eq!(server.port(), port);
    let client = connect(server.config()).await.expect("answers again");
    let n: i32 = client
        .query_one("SELECT n FROM kept", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 7, "the data survived the restart");

    let pid = server.pid().expect("running");
    let dir = server.dir().to_path_buf();
    drop(server);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the process is gone"
    );
    assert!(!dir.exists(), "the folder is removed");
    assert!(
        connect(config_for(port)).await.is_err(),
        "nothing listens on {port}"
    );
}

/// Connection settings for a port where no `PgServer` is left to ask.
fn config_for(port: u16) -> tokio_postgres::Config {
    let mut config = tokio_postgres::Config::new();
    config.host("127.0.0.1").port(port).user("postgres");
    config
}
