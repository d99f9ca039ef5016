//! The live dashboard: an axum service on 127.0.0.1 with breakers in every state and traffic
//! that keeps them moving, and `AdminRouter` (with its `/dashboard` page) under `/admin`.
//!
//! Run it with `cargo run --example dashboard --features axum` and open the address it
//! prints first. It runs until stopped (Ctrl-C), or for `--seconds N`.
//!
//! - `payments`: healthy, about one failure in a hundred;
//! - `search`: flapping: its dependency fails for 8 s out of every 16, so it opens, probes,
//!   re-opens and closes again;
//! - `recommendations`: slow: most calls take longer than its `slow_call`, so the slow-call
//!   rate opens it;
//! - `geo-lookup`: half-open from the start: opened for no time at all and called by nobody
//!   since, so it waits for its first probe (a breaker is half-open once its open period has
//!   passed, call or no call);
//! - `legacy-billing`: forced open by hand;
//! - `audit-log`: disabled;
//! - `ranker-v2`: metrics-only, failing often: its tile shows the state its counts would give;
//! - `nightly-export`: a `#[circuit_breaker]` function never called, shown from start-up.

use axum::Router;
use breaker_runtime::admin::AdminRouter;
use breaker_runtime::{circuit_breaker, registry, BreakerConfig, CircuitBreaker};
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Declared by the attribute and never called: the registry lists it from the start.
#[circuit_breaker(name = "nightly-export", failure_threshold = 3)]
async fn nightly_export() -> io::Result<()> {
    Ok(())
}

#[tokio::main]
async fn main() {
    let seconds = match parse_seconds() {
        Ok(seconds) => seconds,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let addr = start().await;
    println!("dashboard: http://{addr}/admin/dashboard");
    let _ = io::stdout().flush();

    match seconds {
        Some(n) => tokio::time::sleep(Duration::from_secs(n)).await,
        // Until the process is stopped: Ctrl-C ends it.
        None => std::future::pending::<()>().await,
    }
}

/// Serves the admin router on 127.0.0.1, makes the breakers, each in its state, and starts
/// their traffic; the address it serves on.
pub async fn start() -> SocketAddr {
    let _ = nightly_export; // never called, on purpose

    let app = Router::new().nest("/admin", AdminRouter::new(registry()).into_router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("bound address");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let started = Instant::now();
    let payments = breaker("payments", BreakerConfig::builder().failure_threshold(5));
    let search = breaker(
        "search",
        BreakerConfig::builder()
            .failure_threshold(3)
            .reset_timeout(Duration::from_secs(3))
            .success_threshold(2),
    );
    let recommendations = breaker(
        "recommendations",
        BreakerConfig::builder()
            .slow_call(Duration::from_millis(40))
            .slow_call_rate(0.5)
            .minimum_calls(10)
            .window(Duration::from_secs(20))
            .reset_timeout(Duration::from_secs(5)),
    );
    let geo = breaker("geo-lookup", BreakerConfig::builder());
    geo.open_for(Duration::ZERO);
    let billing = breaker("legacy-billing", BreakerConfig::builder());
    billing.force_open();
    let audit = breaker("audit-log", BreakerConfig::builder());
    audit.disable();
    let ranker = breaker(
        "ranker-v2",
        BreakerConfig::builder()
            .failure_rate(0.5)
            .minimum_calls(10)
            .window(Duration::from_secs(30)),
    );
    ranker.metrics_only();

    let rng = Arc::new(AtomicU64::new(0x9e37_79b9_7f4a_7c15));
    traffic(payments, 20, rng.clone(), move |r| r < 0.01, |_| 0);
    traffic(
        search,
        10,
        rng.clone(),
        move |_| (started.elapsed().as_secs() / 8) % 2 == 1,
        |_| 0,
    );
    traffic(
        recommendations,
        10,
        rng.clone(),
        |_| false,
        |r| if r < 0.7 { 60 } else { 5 },
    );
    traffic(billing, 5, rng.clone(), |_| false, |_| 0);
    traffic(audit, 5, rng.clone(), |r| r < 0.3, |_| 0);
    traffic(ranker, 8, rng, |r| r < 0.6, |_| 0);
    addr
}

/// `--seconds N`, if given.
fn parse_seconds() -> Result<Option<u64>, String> {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next()) {
        (None, _) => Ok(None),
        (Some("--seconds"), Some(n)) => n
            .parse()
            .map(Some)
            .map_err(|_| format!("--seconds wants a whole number, not {n:?}")),
        _ => Err("usage: dashboard [--seconds N]".into()),
    }
}

fn breaker(name: &str, config: breaker_runtime::BreakerConfigBuilder) -> Arc<CircuitBreaker> {
    registry().get_or_create(name, config.build())
}

/// `per_second` calls a second through `breaker`; a call fails when `fails(r)` and takes
/// `millis(r)` ms, `r` a fresh random number in [0, 1).
fn traffic(
    breaker: Arc<CircuitBreaker>,
    per_second: u64,
    rng: Arc<AtomicU64>,
    fails: impl Fn(f64) -> bool + Send + 'static,
    millis: impl Fn(f64) -> u64 + Send + Sync + Copy + 'static,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(1000 / per_second));
        loop {
            tick.tick().await;
            let (r, s) = (random(&rng), random(&rng));
            let failed = fails(r);
            let breaker = breaker.clone();
            tokio::spawn(async move {
                let _ = breaker
                    .call(|| async move {
                        tokio::time::sleep(Duration::from_millis(millis(s))).await;
                        if failed {
                            Err(io::Error::other("dependency down"))
                        } else {
                            Ok(())
                        }
                    })
                    .await;
            });
        }
    });
}

/// A number in [0, 1) from a shared xorshift state: good enough to vary simulated traffic.
fn random(state: &AtomicU64) -> f64 {
    let mut x = state.load(Ordering::Relaxed);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    state.store(x, Ordering::Relaxed);
    (x >> 11) as f64 / (1u64 << 53) as f64
}
