//! A circuit breaker in front of a Redis cache: the breaker protects the cache itself, and its
//! fallback reads the source of truth. A read-through cache (`get`): Redis first; on a miss
//! the source, and the answer written back to Redis; when Redis fails, hangs, or the breaker
//! is open, the source, without touching Redis.
//!
//! The example starts its own Redis (the Debian package `redis-server`, on a free port of
//! 127.0.0.1, without persistence, see `breaker::redis_server`), puts a slow source behind it
//! (an in-process map that answers in 20 ms and counts its reads), and then:
//! 1. the first read misses and writes back; the next ones are hits;
//! 2. pauses Redis (`SIGSTOP`): each read is cut at `call_timeout` (100 ms) and served from
//!    the source, three open the breaker, and then reads go straight to the source;
//! 3. resumes Redis: after `reset_timeout` (1 s) probes close the breaker; hits again;
//! 4. stops Redis: the first read fails on the broken connection, the next wait for the
//!    client's reconnection and are cut; three open the breaker, and the source answers
//!    throughout;
//! 5. starts Redis again, empty: the probe misses, writes back, and the breaker closes; hits
//!    again, and the source is read no more.
//!
//! Run it with `cargo run --example redis_cache --features redis-cache`. It ends by itself in
//! about 3 seconds. `tests/eco_redis_cache.rs` runs this same file and checks what it shows.

use breaker::redis_server::RedisServer;
use breaker_runtime::{circuit_breaker, registry, BreakerError, CallError, State};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands as _;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The breaker's name: one breaker for the cache, shared by its reads and its writes.
pub const BREAKER: &str = "prices_cache";

/// The key the timeline reads, and its value in the source.
pub const KEY: &str = "price:ACME";
/// The value of [`KEY`] in the source.
pub const VALUE: &str = "101.25";

/// How long a cached answer lives in Redis.
const TTL_SECONDS: u64 = 60;

/// Where an answer came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// A hit in Redis.
    Cache,
    /// A miss in Redis: read from the source, and written back.
    Miss,
    /// Read from the source by the fallback, Redis untouched or given up on; why.
    Fallback(String),
}

/// A value, and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The value.
    pub value: String,
    /// Where it came from.
    pub origin: Origin,
}

/// What can go wrong reading a value.
#[derive(Debug)]
pub enum RepoError {
    /// Redis failed (refused, connection lost, error reply).
    Redis(String),
    /// The source has no such key: an answer, not an outage.
    NotFound,
    /// The breaker rejected or cut the call.
    Breaker(BreakerError),
}

impl fmt::Display for RepoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RepoError::Redis(e) => write!(f, "redis: {e}"),
            RepoError::NotFound => f.write_str("no such key"),
            RepoError::Breaker(e) => e.fmt(f),
        }
    }
}

impl From<BreakerError> for RepoError {
    fn from(e: BreakerError) -> Self {
        RepoError::Breaker(e)
    }
}

impl From<redis::RedisError> for RepoError {
    fn from(e: redis::RedisError) -> Self {
        RepoError::Redis(e.to_string())
    }
}

/// The source of truth: a slow database, simulated by a map that answers in [`Source::DELAY`]
/// and counts the reads that reach it.
pub struct Source {
    rows: HashMap<String, String>,
    reads: AtomicU64,
}

impl Source {
    /// How long each read takes.
    pub const DELAY: Duration = Duration::from_millis(20);

    /// A source holding `rows`.
    pub fn new<'a>(rows: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Source {
            rows: rows
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            reads: AtomicU64::new(0),
        }
    }

    /// How many reads reached it so far.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    async fn read(&self, key: &str) -> Result<String, RepoError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Self::DELAY).await;
        self.rows.get(key).cloned().ok_or(RepoError::NotFound)
    }
}

/// The repository: Redis as a read-through cache in front of the source.
pub struct CachedPrices {
    redis: ConnectionManager,
    source: Source,
    redis_calls: AtomicU64,
}

impl CachedPrices {
    /// A repository over the Redis at `url` and `source`. It does not connect yet: a service
    /// starts without its cache, and the first read connects.
    ///
    /// # Errors
    ///
    /// When `url` is not a Redis URL.
    pub fn new(url: &str, source: Source) -> redis::RedisResult<Self> {
        // The connection manager reconnects in the background after a loss, trying again every
        // 100 ms at most, for about 10 to 20 s here: longer than the breaker's `reset_timeout`,
        // so the probe finds a connection instead of a manager that gave up (that probe would
        // fail and start a new attempt; the next one, a reset timeout later, would succeed).
        // Its own timeouts stay at their defaults: the breaker's `call_timeout` is shorter.
        let config = ConnectionManagerConfig::new()
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(Duration::from_millis(100))
            .set_number_of_retries(100);
        let redis = ConnectionManager::new_lazy_with_config(redis::Client::open(url)?, config)?;
        Ok(CachedPrices {
            redis,
            source,
            redis_calls: AtomicU64::new(0),
        })
    }

    /// The value of `key`: from Redis; on a miss from the source, written back to Redis; while
    /// Redis fails or the breaker is open, from the source alone.
    pub async fn get(&self, key: &str) -> Result<Answer, RepoError> {
        if let Some(answer) = self.cached(key).await? {
            return Ok(answer);
        }
        let value = self.source.read(key).await?;
        // Through the same breaker: while it is open the write is skipped without touching
        // Redis. A write that fails or is skipped costs the next read a miss, nothing more.
        let _ = self.store(key, &value).await;
        Ok(Answer {
            value,
            origin: Origin::Miss,
        })
    }

    /// The source itself, for what the example checks.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// How many calls the breaker let through to Redis so far (reads and writes).
    pub fn redis_calls(&self) -> u64 {
        self.redis_calls.load(Ordering::Relaxed)
    }

    /// Redis's answer, `Some` for a hit and `None` for a miss; or the source's, `Some`, when
    /// Redis failed or hung or the breaker is open.
    // The cache's breaker: three failures in a row open it; after 1 s two probes close it. A
    // call has 100 ms: a hung Redis is cut then, counted as a failure, and the fallback reads
    // the source. Only Redis is inside: the source's latency and errors are not the cache's.
    #[circuit_breaker(
        name = "prices_cache",
        failure_threshold = 3,
        reset_timeout = "1s",
        success_threshold = 2,
        call_timeout = "100ms",
        fallback = Self::read_source
    )]
    async fn cached(&self, key: &str) -> Result<Option<Answer>, RepoError> {
        self.redis_calls.fetch_add(1, Ordering::Relaxed);
        let value: Option<String> = self.redis.clone().get(key).await?;
        Ok(value.map(|value| Answer {
            value,
            origin: Origin::Cache,
        }))
    }

    /// The fallback: the source, without touching Redis.
    async fn read_source(
        &self,
        key: &str,
        err: CallError<RepoError>,
    ) -> Result<Option<Answer>, RepoError> {
        let why = err.to_string();
        let value = self.source.read(key).await?;
        Ok(Some(Answer {
            value,
            origin: Origin::Fallback(why),
        }))
    }

    /// Writes a value back to Redis, to live there [`TTL_SECONDS`].
    // The write-back shares the cache's breaker (the same `name` and settings): a failed write
    // counts towards opening it, and an open breaker skips the write.
    #[circuit_breaker(
        name = "prices_cache",
        failure_threshold = 3,
        reset_timeout = "1s",
        success_threshold = 2,
        call_timeout = "100ms"
    )]
    async fn store(&self, key: &str, value: &str) -> Result<(), RepoError> {
        self.redis_calls.fetch_add(1, Ordering::Relaxed);
        let () = self.redis.clone().set_ex(key, value, TTL_SECONDS).await?;
        Ok(())
    }
}

/// One read, as the timeline shows it.
#[derive(Debug, Clone)]
pub struct Step {
    /// The phase of the run it belongs to.
    pub phase: &'static str,
    /// What the repository returned.
    pub result: Result<Answer, String>,
    /// How long the read took.
    pub took: Duration,
    /// The breaker's state after it.
    pub state: State,
    /// Calls this read made to Redis (read and write-back); 0 when the breaker rejected them.
    pub redis_calls: u64,
    /// Reads this read made of the source.
    pub source_reads: u64,
}

/// What a run showed.
#[derive(Debug, Default)]
pub struct Report {
    /// Every read, in order.
    pub steps: Vec<Step>,
    /// Reads of the source over the whole run.
    pub source_reads: u64,
}

/// Runs the whole story against a Redis of its own, printing a timeline.
///
/// # Errors
///
/// When `redis-server` is not installed or does not start, pause, stop or start again.
pub async fn run() -> Result<Report, Box<dyn std::error::Error>> {
    let mut server = RedisServer::start().await?;
    let repo = CachedPrices::new(
        &server.url(),
        Source::new([(KEY, VALUE), ("price:INIT", "42.00")]),
    )?;
    let breaker = registry().get(BREAKER).expect("known from the start");
    let mut report = Report::default();
    println!(
        "Redis on 127.0.0.1:{}; the source answers in {:?}.",
        server.port(),
        Source::DELAY
    );
    println!(
        "\n  {:<10} {:<7} {:>10}  {:<9} {:>5} {:>6}  answer",
        "phase", "from", "took", "state", "redis", "source"
    );

    println!("\n1. Redis is up: the first read misses and writes back; then hits.");
    read(&repo, "warm-up", &mut report).await;
    for _ in 0..3 {
        read(&repo, "healthy", &mut report).await;
    }

    println!("\n2. Redis hangs (SIGSTOP): each read is cut at 100 ms and the source answers; three open the breaker.");
    server.pause()?;
    for _ in 0..10 {
        read(&repo, "paused", &mut report).await;
        if breaker.state() == State::Open {
            break;
        }
    }
    for _ in 0..3 {
        read(&repo, "open", &mut report).await;
    }

    println!(
        "\n3. Redis resumes (SIGCONT): after reset_timeout (1 s) two probes close the breaker."
    );
    server.resume()?;
    wait_for_half_open(&breaker).await;
    for _ in 0..3 {
        read(&repo, "resumed", &mut report).await;
    }

    println!("\n4. Redis stops: a read fails on the broken connection, the next wait for the reconnection and are cut; three open the breaker.");
    server.stop()?;
    for _ in 0..10 {
        read(&repo, "stopped", &mut report).await;
        if breaker.state() == State::Open {
            break;
        }
    }
    for _ in 0..3 {
        read(&repo, "down", &mut report).await;
    }

    println!("\n5. Redis starts again, empty: the probe misses and writes back, which closes the breaker.");
    server.start_again().await?;
    wait_for_half_open(&breaker).await;
    for _ in 0..4 {
        read(&repo, "restarted", &mut report).await;
    }
    report.source_reads = repo.source().reads();

    println!("\nMetrics:");
    let m = breaker.metrics();
    println!(
        "  {:<12} {:<7} {:>6} {:>9} {:>8} {:>8} {:>9} {:>7} {:>13}",
        "breaker",
        "state",
        "calls",
        "successes",
        "failures",
        "rejected",
        "timeouts",
        "opened",
        "source reads"
    );
    println!(
        "  {:<12} {:<7} {:>6} {:>9} {:>8} {:>8} {:>9} {:>7} {:>13}",
        BREAKER,
        m.state.to_string(),
        m.calls,
        m.successes,
        m.failures,
        m.rejected,
        m.timeouts,
        m.opened_count,
        report.source_reads
    );
    Ok(report)
}

/// One read of [`KEY`] through the repository, printed and kept.
async fn read(repo: &CachedPrices, phase: &'static str, report: &mut Report) {
    let (redis_before, source_before) = (repo.redis_calls(), repo.source().reads());
    let started = Instant::now();
    let result = repo.get(KEY).await;
    let took = started.elapsed();
    let state = registry().get(BREAKER).expect("registered").state();
    let step = Step {
        phase,
        result: result.map_err(|e| e.to_string()),
        took,
        state,
        redis_calls: repo.redis_calls() - redis_before,
        source_reads: repo.source().reads() - source_before,
    };
    let counts = format!(
        "{:<9} {:>5} {:>6}",
        state.to_string(),
        step.redis_calls,
        step.source_reads
    );
    let line = match &step.result {
        Ok(Answer { value, origin }) => match origin {
            Origin::Cache => format!("{:<7} {took:>10.2?}  {counts}  {KEY} = {value}", "cache"),
            Origin::Miss => format!(
                "{:<7} {took:>10.2?}  {counts}  {KEY} = {value}  (miss; written back)",
                "source"
            ),
            Origin::Fallback(why) => format!(
                "{:<7} {took:>10.2?}  {counts}  {KEY} = {value}  ({why})",
                "source"
            ),
        },
        Err(e) => format!("{:<7} {took:>10.2?}  {counts}  {e}", "error"),
    };
    println!("  {phase:<10} {line}");
    report.steps.push(step);
}

/// Waits (10 s at most) until the open period is over and the breaker lets probes in.
async fn wait_for_half_open(breaker: &breaker_runtime::CircuitBreaker) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while breaker.state() != State::HalfOpen && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::main]
async fn main() {
    // Transitions are logged by the runtime: opening at WARN, closing at INFO. The timeline
    // keeps to the breaker's.
    breaker::logs::show_breaker_logs();
    if let Err(e) = run().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
