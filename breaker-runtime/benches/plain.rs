//! The headline figures: every library in one plain loop, the way users' code runs.
//!
//! Each case runs `for i in 0..N { ok += call(black_box(i)) as u64 }`, best of several runs.
//! The protected dependency is `work`: an `#[inline(never)]` function whose outcome depends
//! on its argument and on a value the optimiser cannot see, so the failure path is compiled in
//! and the call is a real call, as in a service. Its error type is an enum with a
//! `BreakerError` variant, as users write. No harness: criterion's own loop overlaps the work
//! it measures and flatters tiny cases (`calls.rs` keeps criterion, for distributions).
//!
//! `cargo bench -p breaker-runtime --bench plain` prints the table; `scripts/bench-plain` runs
//! it with and without the `metrics` feature (and with a Prometheus recorder) and prints
//! every row side by side, then the fleet rows. Options: `--quick` (the short run CI makes),
//! `--metrics-rows` (only the rows that matter for the `metrics` feature), `--prometheus`
//! (install a Prometheus recorder first), `--fleet-rows` (with the `fleet` feature: a closed
//! call and a rejection with fleet mode off and on, see `fleet_rows`).

mod common;

use breaker_runtime::{circuit_breaker, BreakerError, CircuitBreaker, State};
use common::{
    failsafe_consecutive, half_open_breaker, half_open_recloser, noop_waker, open_breaker,
    poll_once,
};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Context;
use std::time::{Duration, Instant};

/// The error a service's function returns: its own failures, and the breaker's.
#[derive(Debug)]
pub enum AppErr {
    /// The dependency failed.
    Io(u64),
    /// The breaker refused the call.
    Breaker(BreakerError),
}

impl From<BreakerError> for AppErr {
    fn from(e: BreakerError) -> Self {
        AppErr::Breaker(e)
    }
}

/// Which calls fail: set at run time, so the optimiser must keep both paths. Never reached
/// in the closed cases (`u64::MAX`), always in the rejected ones (0).
static FAIL_FROM: AtomicU64 = AtomicU64::new(u64::MAX);

/// The dependency.
#[inline(never)]
fn work(x: u64) -> Result<u64, AppErr> {
    if x >= FAIL_FROM.load(Ordering::Relaxed) {
        Err(AppErr::Io(x))
    } else {
        Ok(x ^ 0x5a)
    }
}

#[circuit_breaker(name = "plain-sync")]
fn annotated_sync(x: u64) -> Result<u64, AppErr> {
    work(x)
}

fn plain_sync(x: u64) -> Result<u64, AppErr> {
    work(x)
}

#[circuit_breaker(name = "plain-async")]
async fn annotated_async(x: u64) -> Result<u64, AppErr> {
    work(x)
}

async fn plain_async(x: u64) -> Result<u64, AppErr> {
    work(x)
}

/// Nanoseconds per call of `call`, the best of `runs` runs of `n` calls.
fn measure(runs: u32, n: u64, mut call: impl FnMut(u64) -> bool) -> f64 {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            let mut ok = 0u64;
            for i in 0..n {
                ok += u64::from(call(black_box(i)));
            }
            black_box(ok);
            start.elapsed().as_nanos() as f64 / n as f64
        })
        .fold(f64::INFINITY, f64::min)
}

struct Table {
    runs: u32,
    n: u64,
    bare: f64,
}

impl Table {
    fn row(&self, case: &str, cells: &[Option<f64>], goal: &str) {
        let cell = |v: &Option<f64>| match v {
            Some(ns) => format!("{ns:.2} ns"),
            None => String::new(),
        };
        let ours = match cells[0] {
            Some(ns) if case != "bare call" => format!("{ns:.2} ns (+{:.2})", ns - self.bare),
            _ => cell(&cells[0]),
        };
        println!(
            "| {case} | {ours} | {} | {} | {goal} |",
            cell(&cells[1]),
            cell(&cells[2])
        );
    }
}

fn consecutive(name: &str) -> Arc<CircuitBreaker> {
    CircuitBreaker::builder(name).failure_threshold(5).build()
}

fn closed_rows(t: &Table) {
    let (runs, n) = (t.runs, t.n);
    let ours = consecutive("plain-closed");
    let rc = recloser::Recloser::custom().build();
    let fs = failsafe_consecutive();
    t.row(
        "closed, `call_sync`, consecutive policy",
        &[
            Some(measure(runs, n, |i| ours.call_sync(|| work(i)).is_ok())),
            Some(measure(runs, n, |i| rc.call(|| work(i)).is_ok())),
            Some(measure(runs, n, |i| {
                use failsafe::CircuitBreaker as _;
                fs.call(|| work(i)).is_ok()
            })),
        ],
        "≤ 3 ns over bare, ≥ 2× faster than both",
    );
    let known = consecutive("plain-known");
    t.row(
        "same, outcome known to the optimiser (`Ok(black_box(i))` inlined; not what users run)",
        &[
            Some(measure(runs, n, |i| {
                known.call_sync(|| Ok::<u64, AppErr>(black_box(i))).is_ok()
            })),
            None,
            None,
        ],
        "",
    );
    let by_hand = consecutive("plain-by-hand");
    t.row(
        "same, `try_acquire` + `record` by hand",
        &[
            Some(measure(runs, n, |i| match by_hand.try_acquire() {
                Ok(permit) => {
                    let r = work(i);
                    permit.record(&r);
                    r.is_ok()
                }
                Err(_) => false,
            })),
            None,
            None,
        ],
        "",
    );
    let slow = CircuitBreaker::builder("plain-slow")
        .slow_call(Duration::from_secs(1))
        .build();
    t.row(
        "closed, slow-call tracking (`slow_call = 1s`, count window)",
        &[
            Some(measure(runs, n, |i| slow.call_sync(|| work(i)).is_ok())),
            None,
            None,
        ],
        "≤ 15 ns over bare",
    );
}

fn rejected_rows(t: &Table) {
    let (runs, n) = (t.runs, t.n);
    let ours = open_breaker("plain-open", Duration::from_secs(3600));
    let rc = recloser::Recloser::custom()
        .closed_len(1)
        .error_rate_closed(0.5)
        .open_wait(Duration::from_secs(3600))
        .build();
    let _ = rc.call(|| work(u64::MAX));
    let _ = rc.call(|| work(u64::MAX));
    let fs = failsafe::Config::new()
        .failure_policy(failsafe::failure_policy::consecutive_failures(
            1,
            failsafe::backoff::constant(Duration::from_secs(3600)),
        ))
        .build();
    {
        use failsafe::CircuitBreaker as _;
        let _ = fs.call(|| work(u64::MAX));
        assert!(!fs.is_call_permitted());
    }
    t.row(
        "rejected (open)",
        &[
            Some(measure(runs, n, |i| ours.call_sync(|| work(i)).is_ok())),
            Some(measure(runs, n, |i| rc.call(|| work(i)).is_ok())),
            Some(measure(runs, n, |i| {
                use failsafe::CircuitBreaker as _;
                fs.call(|| work(i)).is_ok()
            })),
        ],
        "≤ 8 ns, ≥ 3.5× faster than both",
    );
}

fn attribute_rows(t: &Table) {
    let (runs, n) = (t.runs, t.n);
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let plain = measure(runs, n, |i| poll_once(&mut cx, plain_async(i)).is_ok());
    let annotated = measure(runs, n, |i| poll_once(&mut cx, annotated_async(i)).is_ok());
    println!(
        "| `#[circuit_breaker]` async fn vs plain, polled once | +{:.2} ns ({annotated:.2} vs {plain:.2}) | | | ≤ 5 ns |",
        annotated - plain
    );
    let breaker = consecutive("plain-call-async");
    let call = measure(runs, n, |i| {
        poll_once(&mut cx, breaker.call(|| async move { work(i) })).is_ok()
    });
    println!(
        "| `breaker.call(|| async {{ … }})` vs plain async fn, polled once | +{:.2} ns ({call:.2} vs {plain:.2}) | | | |",
        call - plain
    );
    let plain = measure(runs, n, |i| plain_sync(i).is_ok());
    let annotated = measure(runs, n, |i| annotated_sync(i).is_ok());
    println!(
        "| `#[circuit_breaker]` sync fn vs plain | +{:.2} ns ({annotated:.2} vs {plain:.2}) | | | ≤ 3 ns |",
        annotated - plain
    );
}

fn half_open_rows(t: &Table) {
    let (runs, n) = (t.runs, t.n);
    let ours = half_open_breaker("plain-half-open");
    let rc = half_open_recloser();
    t.row(
        "half-open admission + release",
        &[
            Some(measure(runs, n, |i| match ours.try_acquire() {
                Ok(permit) => {
                    let r = work(i);
                    permit.ignore();
                    r.is_ok()
                }
                Err(_) => false,
            })),
            Some(measure(runs, n, |i| rc.call(|| work(i)).is_ok())),
            None,
        ],
        "at most recloser's",
    );
    assert_eq!(ours.state(), State::HalfOpen);
}

/// The rows that change with the `metrics` feature: a closed call, and a rejection.
fn metrics_rows(t: &Table) {
    let (runs, n) = (t.runs, t.n);
    let label = match (cfg!(feature = "metrics"), prometheus_requested()) {
        (false, _) => "no `metrics` feature",
        (true, false) => "feature `metrics`, no recorder installed",
        (true, true) => "feature `metrics`, Prometheus recorder installed",
    };
    let ours = consecutive("plain-metrics-closed");
    t.row(
        &format!("closed, {label}"),
        &[
            Some(measure(runs, n, |i| ours.call_sync(|| work(i)).is_ok())),
            None,
            None,
        ],
        "≤ 1 ns (no recorder) / ≤ 5 ns (Prometheus) more than without the feature",
    );
    let open = open_breaker("plain-metrics-open", Duration::from_secs(3600));
    t.row(
        &format!("rejected, {label}"),
        &[
            Some(measure(runs, n, |i| open.call_sync(|| work(i)).is_ok())),
            None,
            None,
        ],
        "",
    );
}

/// A closed call and a rejection on breakers of a registry no fleet shares, then on breakers
/// of a registry whose fleet shares them and syncs every 250 ms (the default) with a
/// `redis-server` this benchmark starts on a free port of 127.0.0.1 (or, without one, a port
/// where nothing listens: the syncer then fails every sync, which costs the calls nothing
/// either). The call path is meant to be the same: the two rows should read alike.
#[cfg(feature = "fleet")]
fn fleet_rows(t: &Table) {
    use breaker_runtime::{BreakerConfig, Registry};
    let (runs, n) = (t.runs, t.n);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let server = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .ok();
    let redis = if server.is_some() {
        "a live Redis"
    } else {
        "no Redis (`redis-server` not found)"
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let config = BreakerConfig::builder().failure_threshold(5).build();
    let row = |label: &str, registry: &'static Registry| {
        let closed = registry.get_or_create("fleet-closed", config.clone());
        let open = registry.get_or_create("fleet-open", config.clone());
        open.force_open();
        t.row(
            &format!("closed, {label}"),
            &[
                Some(measure(runs, n, |i| closed.call_sync(|| work(i)).is_ok())),
                None,
                None,
            ],
            "the same with fleet mode on as off",
        );
        t.row(
            &format!("rejected (forced open), {label}"),
            &[
                Some(measure(runs, n, |i| open.call_sync(|| work(i)).is_ok())),
                None,
                None,
            ],
            "",
        );
    };
    let alone: &'static Registry = Box::leak(Box::new(Registry::new()));
    row("fleet mode off", alone);
    let shared: &'static Registry = Box::leak(Box::new(Registry::new()));
    shared.get_or_create("fleet-closed", config.clone());
    shared.get_or_create("fleet-open", config.clone());
    let fleet = runtime
        .block_on(
            breaker_runtime::fleet::Fleet::builder(format!("redis://127.0.0.1:{port}/"))
                .namespace("bench")
                .start(shared),
        )
        .expect("a good URL");
    if server.is_some() {
        let start = Instant::now();
        while !fleet.status().connected && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    row(&format!("fleet mode on, {redis}"), shared);
    runtime.block_on(fleet.shutdown());
    if let Some(mut server) = server {
        let _ = server.kill();
        let _ = server.wait();
    }
}

fn prometheus_requested() -> bool {
    std::env::args().any(|a| a == "--prometheus")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // CI's short run of the whole suite passes criterion's options: run briefly then too.
    let quick = args
        .iter()
        .any(|a| a == "--quick" || a == "--measurement-time");
    let (runs, n) = if quick { (2, 200_000) } else { (15, 2_000_000) };
    if prometheus_requested() {
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .install_recorder()
            .expect("no other recorder is installed");
    }
    let bare = measure(runs, n, |i| work(i).is_ok());
    let t = Table { runs, n, bare };
    if args.iter().any(|a| a == "--metrics-rows") {
        metrics_rows(&t);
        return;
    }
    #[cfg(feature = "fleet")]
    if args.iter().any(|a| a == "--fleet-rows") {
        fleet_rows(&t);
        return;
    }
    println!("{runs} runs of {n} calls each, best run; ns per call (ours: + over the bare call)\n");
    println!("| case | ours | recloser | failsafe | goal |");
    println!("|---|---|---|---|---|");
    t.row("bare call", &[Some(bare), None, None], "");
    closed_rows(&t);
    rejected_rows(&t);
    attribute_rows(&t);
    half_open_rows(&t);
    metrics_rows(&t);
}
