//! Fleet mode: three instances of one service share the breaker `payments` through a local
//! Redis. They trip together, probe once for the whole fleet, and recover together.
//!
//! ```sh
//! cargo run --example fleet --features fleet
//! ```
//!
//! It starts a `redis-server` of its own (the Debian package `redis-server`) on a free port of
//! 127.0.0.1, without persistence (`breaker::redis_server`), and stops it at the end; with
//! `REDIS_URL` set it uses that Redis instead.
//!
//! The three instances are three registries in one process, each with its own fleet, as
//! three pods would be. Only instance `a` sees the payments service fail; `b` and `c` open
//! with it. When the open period is over, one instance probes while the others keep
//! rejecting, and its verdict closes all three.

use breaker::redis_server::RedisServer;
use breaker_runtime::fleet::Fleet;
use breaker_runtime::{BreakerConfig, CircuitBreaker, Registry, State};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Whether the payments service is down, and how many calls reached it.
static DOWN: AtomicBool = AtomicBool::new(true);
static REACHED: AtomicU32 = AtomicU32::new(0);

async fn pay(breaker: &CircuitBreaker) -> Result<(), breaker_runtime::CallError<&'static str>> {
    breaker
        .call(|| async {
            REACHED.fetch_add(1, SeqCst);
            if DOWN.load(SeqCst) {
                Err("payments: connection refused")
            } else {
                Ok(())
            }
        })
        .await
}

struct Instance {
    id: &'static str,
    breaker: Arc<CircuitBreaker>,
    fleet: Fleet,
}

fn states(instances: &[Instance]) -> String {
    let s: Vec<String> = instances
        .iter()
        .map(|i| format!("{}={:?}", i.id, i.breaker.state()))
        .collect();
    s.join(" ")
}

/// Waits until `cond` holds, prints the line, and says how long it took.
async fn wait_for(
    instances: &[Instance],
    what: &str,
    cond: impl Fn(&[Instance]) -> bool,
) -> Duration {
    let start = Instant::now();
    while !cond(instances) {
        // A panic, not an exit: unwinding stops the Redis this example started.
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "gave up waiting for: {what} ({})",
            states(instances)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!(
        "{:>6} ms  {what}: {}",
        start.elapsed().as_millis(),
        states(instances)
    );
    start.elapsed()
}

/// What the run showed, for `tests/eco_fleet.rs`.
#[derive(Debug)]
pub struct Report {
    /// How long after `a`'s own open all three were open.
    pub opened_in: Duration,
    /// Calls that reached the payments service while `b` and `c` rejected theirs (none).
    pub reached_while_open: u32,
    /// Calls that reached the service from the recovery until all three closed: the one probe.
    pub probe_calls: u32,
    /// Every instance's state at the end.
    pub end: Vec<State>,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt().with_target(false).init();
    // Dropped at the end of `main`, which stops the server this example started.
    let own_redis = match std::env::var("REDIS_URL") {
        Ok(_) => None,
        Err(_) => match RedisServer::start().await {
            Ok(server) => Some(server),
            Err(e) => {
                eprintln!("cannot start redis-server ({e}); or point REDIS_URL at a Redis");
                std::process::exit(1);
            }
        },
    };
    let url = match &own_redis {
        Some(redis) => redis.url(),
        None => std::env::var("REDIS_URL").unwrap_or_default(),
    };
    run(&url).await;
}

/// Three instances against the Redis at `url`: they trip together, probe once, recover.
///
/// # Panics
///
/// When a step does not happen within 15 s (a panic, not an exit: unwinding stops the Redis
/// the example started).
pub async fn run(url: &str) -> Report {
    let config = BreakerConfig::builder()
        .failure_threshold(3)
        .reset_timeout(Duration::from_secs(2))
        .success_threshold(1)
        .half_open_max_calls(1)
        .build();

    let mut instances = Vec::new();
    for id in ["a", "b", "c"] {
        // Fleet::start wants a registry that lives as long as the program, as the global one.
        let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
        let breaker = registry.get_or_create("payments", config.clone());
        let fleet = Fleet::builder(url)
            .namespace("fleet-example")
            .instance_id(id)
            .sync_interval(Duration::from_millis(100))
            .share(["payments"])
            .start(registry)
            .await
            .expect("a good Redis URL");
        instances.push(Instance { id, breaker, fleet });
    }
    wait_for(&instances, "three instances in one fleet", |i| {
        i.iter().all(|i| i.fleet.status().connected)
    })
    .await;

    // Trip together: only `a` calls the failing service.
    for _ in 0..3 {
        let _ = pay(&instances[0].breaker).await;
    }
    let opened_in = wait_for(&instances, "a opened; the fleet opened b and c", |i| {
        i.iter().all(|i| i.breaker.state() == State::Open)
    })
    .await;
    let before = REACHED.load(SeqCst);
    for i in &instances[1..] {
        let err = pay(&i.breaker).await.unwrap_err();
        println!("          {} rejects without calling: {err}", i.id);
    }
    let reached_while_open = REACHED.load(SeqCst) - before;

    // The service recovers. Every instance keeps calling; one probe goes through for all.
    DOWN.store(false, SeqCst);
    let before = REACHED.load(SeqCst);
    let start = Instant::now();
    while !instances.iter().all(|i| i.breaker.state() == State::Closed) {
        // A panic, not an exit: unwinding stops the Redis this example started.
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the fleet did not recover: {}",
            states(&instances)
        );
        for i in &instances {
            // Only the probe reaches the service until the verdict has closed every instance.
            if i.breaker.state() != State::Closed {
                let _ = pay(&i.breaker).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let probe_calls = REACHED.load(SeqCst) - before;
    println!(
        "{:>6} ms  one probe ({probe_calls} call reached the service), its verdict closed all: {}",
        start.elapsed().as_millis(),
        states(&instances)
    );
    let end = instances.iter().map(|i| i.breaker.state()).collect();
    for i in instances {
        i.fleet.shutdown().await;
    }
    Report {
        opened_in,
        reached_while_open,
        probe_calls,
        end,
    }
}
