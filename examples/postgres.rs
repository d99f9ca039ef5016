//! A circuit breaker in front of a real PostgreSQL: a repository trait whose method carries
//! `#[circuit_breaker]`, a connection pool, a cache as the fallback, and a `call_timeout` whose
//! cut query is cancelled on the server too.
//!
//! The example starts its own PostgreSQL (the Debian package `postgresql`, on a free port of
//! 127.0.0.1, see `breaker::postgres`), fills a table, and then:
//! 1. serves reads from the database;
//! 2. holds a lock on the table, so a read hangs: `call_timeout` cuts it, the query is cancelled
//!    on the server, and the cache answers;
//! 3. stops PostgreSQL: failures open the breaker, and the cache answers throughout;
//! 4. starts PostgreSQL again, with a new price in the table: probes close the breaker, and the
//!    reads are fresh again.
//!
//! Run it with `cargo run --example postgres --features postgres`. It ends by itself in a few
//! seconds. `tests/eco_postgres.rs` runs this same file and checks what it shows.

use breaker::postgres::PgServer;
use breaker_runtime::{circuit_breaker, registry, BreakerError, CallError, State};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio_postgres::NoTls;

/// The breaker's name: one breaker for the database.
pub const BREAKER: &str = "quotes_db";

/// A price, and whether it is fresh from the database or served from the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    /// The ticker.
    pub symbol: String,
    /// The price.
    pub price: f64,
    /// `None` when fresh from the database; when served from the cache, why.
    pub stale: Option<String>,
}

/// What can go wrong reading a quote.
#[derive(Debug)]
pub enum RepoError {
    /// The pool or the database failed (down, refused, query error).
    Db(String),
    /// No such symbol: an answer, not an outage.
    NotFound,
    /// The breaker rejected or cut the call.
    Breaker(BreakerError),
}

impl fmt::Display for RepoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RepoError::Db(e) => write!(f, "database: {e}"),
            RepoError::NotFound => f.write_str("no such symbol"),
            RepoError::Breaker(e) => e.fmt(f),
        }
    }
}

impl From<BreakerError> for RepoError {
    fn from(e: BreakerError) -> Self {
        RepoError::Breaker(e)
    }
}

impl RepoError {
    /// A database or pool error with its causes ("error connecting to server: Connection
    /// refused"), which their own `Display` leaves out.
    fn db(e: &dyn std::error::Error) -> Self {
        let mut text = e.to_string();
        let mut source = e.source();
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            if !text.ends_with(&cause_text) {
                text = format!("{text}: {cause_text}");
            }
            source = cause.source();
        }
        RepoError::Db(text)
    }
}

fn is_not_found(e: &RepoError) -> bool {
    matches!(e, RepoError::NotFound)
}

/// The repository: what the rest of the service sees.
trait Quotes {
    /// The current price of `symbol`.
    async fn get(&self, symbol: &str) -> Result<Quote, RepoError>;
}

/// The repository over PostgreSQL, with a cache of the last answer per symbol.
pub struct PgQuotes {
    pool: Pool,
    cache: Mutex<HashMap<String, Quote>>,
}

impl PgQuotes {
    /// A repository over a pool of at most four connections to `config`.
    pub fn new(mut config: tokio_postgres::Config) -> Self {
        // The server's own bound on every statement: a backstop for a query whose cancel
        // request never arrives (the client crashed, the network dropped it). Longer than the
        // breaker's `call_timeout`, which cancels sooner.
        config.options("-c statement_timeout=5s");
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(4)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(1)))
            .create_timeout(Some(Duration::from_secs(1)))
            .build()
            .expect("a runtime is set, so the timeouts are allowed");
        PgQuotes {
            pool,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The fallback: the last answer seen for `symbol`, marked stale, while the database is
    /// unreachable, slow, or the breaker is open. With nothing cached, the error itself.
    async fn cached_get(
        &self,
        symbol: &str,
        err: CallError<RepoError>,
    ) -> Result<Quote, RepoError> {
        let why = match &err {
            CallError::Breaker(e) => e.to_string(),
            CallError::Inner(e) => e.to_string(),
        };
        match self.cache.lock().unwrap().get(symbol) {
            Some(quote) => Ok(Quote {
                stale: Some(why),
                ..quote.clone()
            }),
            None => Err(err.flatten()),
        }
    }
}

impl Quotes for PgQuotes {
    // Three failures in a row open it; after 2 s two probes close it. A read has 500 ms: past
    // that, the breaker drops this future, counts a failure and calls the fallback. Dropping
    // the future does not stop the query on the server, nor free its connection: the
    // `CancelOnDrop` guard below does both. A missing symbol is an answer (`ignore_if`), so it
    // is neither counted nor served from the cache.
    #[circuit_breaker(
        name = "quotes_db",
        failure_threshold = 3,
        reset_timeout = "2s",
        success_threshold = 2,
        call_timeout = "500ms",
        ignore_if = is_not_found,
        fallback = Self::cached_get
    )]
    async fn get(&self, symbol: &str) -> Result<Quote, RepoError> {
        let client = self.pool.get().await.map_err(|e| RepoError::db(&e))?;
        let query = CancelOnDrop::new(client);
        let row = query
            .client()
            .query_opt("SELECT price FROM quotes WHERE symbol = $1", &[&symbol])
            .await;
        query.finished();
        let row = row
            .map_err(|e| RepoError::db(&e))?
            .ok_or(RepoError::NotFound)?;
        let quote = Quote {
            symbol: symbol.to_owned(),
            price: row.get(0),
            stale: None,
        };
        let mut cache = self.cache.lock().unwrap();
        cache.insert(symbol.to_owned(), quote.clone());
        Ok(quote)
    }
}

/// Holds a pooled connection while its query runs. Finished, the connection goes back to the
/// pool. Dropped before that (the breaker's `call_timeout` dropped the future), the query is
/// still running on the server and its answer is still due on the connection: the guard sends
/// PostgreSQL a cancel request (`CancelToken`, over a connection of its own) and then closes
/// the connection instead of returning it, so no later call waits behind the abandoned query
/// or receives a cancel meant for it.
struct CancelOnDrop {
    client: Option<Object>,
}

impl CancelOnDrop {
    fn new(client: Object) -> Self {
        CancelOnDrop {
            client: Some(client),
        }
    }

    fn client(&self) -> &Object {
        self.client
            .as_ref()
            .expect("held until finished or dropped")
    }

    /// The query answered: the connection goes back to the pool.
    fn finished(mut self) {
        drop(self.client.take());
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let token = client.cancel_token();
        // Out of the pool for good: it is closed once the cancel has been sent.
        let client = Object::take(client);
        runtime.spawn(async move {
            let _ = token.cancel_query(NoTls).await;
            drop(client);
        });
    }
}

/// One read, as the timeline shows it.
#[derive(Debug, Clone)]
pub struct Step {
    /// The phase of the run it belongs to.
    pub phase: &'static str,
    /// What the repository returned.
    pub result: Result<Quote, String>,
    /// How long the call took.
    pub took: Duration,
    /// The breaker's state after it.
    pub state: State,
}

/// What a run showed.
#[derive(Debug, Default)]
pub struct Report {
    /// Every read, in order.
    pub steps: Vec<Step>,
    /// How long after the cut the server no longer ran the cut query (`None`: it still did
    /// after 10 s).
    pub cancelled_after: Option<Duration>,
    /// The price before the outage, and the one written while the breaker was open.
    pub prices: (f64, f64),
}

const OLD_PRICE: f64 = 101.25;
const NEW_PRICE: f64 = 103.4;

/// Runs the whole story against a PostgreSQL of its own, printing a timeline.
///
/// # Errors
///
/// When PostgreSQL is not installed or does not start, or a statement of the setup fails.
pub async fn run() -> Result<Report, Box<dyn std::error::Error>> {
    let mut server = PgServer::start().await?;
    println!("PostgreSQL on 127.0.0.1:{}\n", server.port());
    let admin = connect(&server).await?;
    admin
        .batch_execute(&format!(
            "CREATE TABLE quotes (symbol text PRIMARY KEY, price float8 NOT NULL);
             INSERT INTO quotes VALUES ('ACME', {OLD_PRICE}), ('INIT', 42.0);"
        ))
        .await?;
    let repo = PgQuotes::new(server.config());
    let breaker = registry().get(BREAKER).expect("known from the start");
    let mut report = Report {
        prices: (OLD_PRICE, NEW_PRICE),
        ..Report::default()
    };

    println!("1. PostgreSQL is up: reads go through the pool.");
    for _ in 0..3 {
        read(&repo, "healthy", &mut report).await;
    }

    println!(
        "\n2. A migration locks the table: the read is cut at 500 ms and cancelled on the server."
    );
    let mut locker = connect(&server).await?;
    let lock = locker.transaction().await?;
    lock.batch_execute("LOCK TABLE quotes IN ACCESS EXCLUSIVE MODE")
        .await?;
    read(&repo, "locked", &mut report).await;
    let cut = Instant::now();
    report.cancelled_after = wait_until_no_query_waits(&admin)
        .await?
        .then(|| cut.elapsed());
    match report.cancelled_after {
        Some(after) => println!(
            "  {:<10} the server ended the cut query {after:.2?} after the cut",
            "server"
        ),
        None => println!(
            "  {:<10} the cut query still ran 10 s after the cut",
            "server"
        ),
    }
    lock.rollback().await?;
    read(&repo, "unlocked", &mut report).await;

    println!("\n3. PostgreSQL stops: three failures open the breaker; the cache answers.");
    drop(admin);
    server.stop()?;
    for _ in 0..10 {
        read(&repo, "outage", &mut report).await;
        if breaker.state() == State::Open {
            break;
        }
    }
    for _ in 0..3 {
        read(&repo, "open", &mut report).await;
    }

    println!("\n4. PostgreSQL is back, with a new price; after reset_timeout (2 s) probes close the breaker.");
    server.start_again().await?;
    connect(&server)
        .await?
        .execute(
            "UPDATE quotes SET price = $1 WHERE symbol = 'ACME'",
            &[&NEW_PRICE],
        )
        .await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while breaker.state() != State::HalfOpen && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for _ in 0..3 {
        read(&repo, "recovered", &mut report).await;
    }

    println!("\nMetrics:");
    let m = breaker.metrics();
    println!(
        "  {:<10} {:<7} {:>6} {:>9} {:>8} {:>8} {:>9} {:>7}",
        "breaker", "state", "calls", "successes", "failures", "rejected", "timeouts", "opened"
    );
    println!(
        "  {:<10} {:<7} {:>6} {:>9} {:>8} {:>8} {:>9} {:>7}",
        BREAKER,
        m.state.to_string(),
        m.calls,
        m.successes,
        m.failures,
        m.rejected,
        m.timeouts,
        m.opened_count
    );
    Ok(report)
}

/// One read of ACME through the repository, printed and kept.
async fn read(repo: &PgQuotes, phase: &'static str, report: &mut Report) {
    let started = Instant::now();
    let result = repo.get("ACME").await;
    let took = started.elapsed();
    let state = registry().get(BREAKER).expect("registered").state();
    let shown = state.to_string();
    let line = match &result {
        Ok(q) => match &q.stale {
            None => format!(
                "database  {took:>10.2?}  {shown:<9} {} {}",
                q.symbol, q.price
            ),
            Some(why) => format!(
                "cache     {took:>10.2?}  {shown:<9} {} {}  ({why})",
                q.symbol, q.price
            ),
        },
        Err(e) => format!("error     {took:>10.2?}  {shown:<9} {e}"),
    };
    println!("  {phase:<10} {line}");
    report.steps.push(Step {
        phase,
        result: result.map_err(|e| e.to_string()),
        took,
        state,
    });
}

/// A connection of its own, outside the pool and the breaker: the example's setup and checks.
async fn connect(server: &PgServer) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = server.config().connect(NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// Waits (10 s at most) until no query waits on the lock, which is true once the cut read was
/// cancelled on the server. `false` if one still waits then.
async fn wait_until_no_query_waits(
    admin: &tokio_postgres::Client,
) -> Result<bool, tokio_postgres::Error> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let waiting: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE wait_event_type = 'Lock' AND query LIKE '%FROM quotes%'",
                &[],
            )
            .await?
            .get(0);
        if waiting == 0 {
            return Ok(true);
        }
        if Instant::now() > deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::main]
async fn main() {
    // Transitions are logged by the runtime: opening at WARN, closing at INFO.
    breaker::logs::show_breaker_logs();
    if let Err(e) = run().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
