//! A circuit breaker in front of a real gRPC service: a tonic server and a tonic client on
//! 127.0.0.1 (plain HTTP/2, no TLS), the client's `Channel` behind `CircuitBreakerLayer`
//! with the gRPC classifier, and its server stream behind `protect_stream`.
//!
//! No `protoc` and no build script: the messages derive `prost::Message` by hand, the client
//! is tonic's generic `tonic::client::Grpc` with `tonic_prost::ProstCodec`, and the server is
//! a small tower `Service` over tonic's generic `tonic::server::Grpc`. The service `Quotes`
//! has a unary RPC, `GetQuote`, and a server-streaming one, `WatchQuotes`.
//!
//! The example starts the server on a free port and then:
//! 1. calls it while it is healthy: quotes, a stream of quotes, and a `NOT_FOUND`, which is an
//!    answer, not a failure;
//! 2. switches the server to failing with `UNAVAILABLE`: a stream breaks after two quotes and
//!    its error counts, and two unary `UNAVAILABLE`s make three failures in a row, which open
//!    the breaker;
//! 3. calls it while the breaker is open: every call is rejected at once and none reaches the
//!    server;
//! 4. switches the server back to healthy: after `reset_timeout` (1 s) the breaker half-opens,
//!    two probes close it, and the stream works again.
//!
//! Run it with `cargo run --example grpc --features grpc`. It ends by itself in under two
//! seconds. `tests/eco_grpc.rs` runs this same file and checks what it shows.

use axum::http;
use breaker_runtime::tower::{CircuitBreakerLayer, CircuitBreakerService, GrpcClassifier};
use breaker_runtime::{BreakerError, CallError, CircuitBreaker, ProtectedStream, State};
use futures_util::stream::{self, Stream, StreamExt};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tonic::transport::{Channel, Server};
use tonic::{Code, Status, Streaming};
use tonic_prost::ProstCodec;
use tower::ServiceBuilder;

/// The breaker's name: one breaker for the quotes service.
pub const BREAKER: &str = "quotes-grpc";

/// The unary RPC's path: `rpc GetQuote(QuoteRequest) returns (Quote)`.
const GET_QUOTE: &str = "/quotes.Quotes/GetQuote";
/// The server-streaming RPC's path: `rpc WatchQuotes(WatchRequest) returns (stream Quote)`.
const WATCH_QUOTES: &str = "/quotes.Quotes/WatchQuotes";

/// `message QuoteRequest { string symbol = 1; }`
#[derive(Clone, PartialEq, prost::Message)]
pub struct QuoteRequest {
    /// The ticker.
    #[prost(string, tag = "1")]
    pub symbol: String,
}

/// `message WatchRequest { string symbol = 1; uint32 count = 2; }`
#[derive(Clone, PartialEq, prost::Message)]
pub struct WatchRequest {
    /// The ticker.
    #[prost(string, tag = "1")]
    pub symbol: String,
    /// How many quotes to send before the stream ends.
    #[prost(uint32, tag = "2")]
    pub count: u32,
}

/// `message Quote { string symbol = 1; double price = 2; }`
#[derive(Clone, PartialEq, prost::Message)]
pub struct Quote {
    /// The ticker.
    #[prost(string, tag = "1")]
    pub symbol: String,
    /// The price.
    #[prost(double, tag = "2")]
    pub price: f64,
}

/// The gRPC codes that mean the server could not serve the call, as [`GrpcClassifier`]'s
/// default picks them: the breaker's `failure_if` for the stream's errors, so a stream and a
/// unary call count the same codes. Any other code is an answer.
pub fn is_outage(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::DeadlineExceeded | Code::ResourceExhausted | Code::Internal | Code::Unavailable
    )
}

/// The breaker in front of the quotes service: three failures in a row open it; after 1 s two
/// probes close it. Its `failure_if` classifies the stream's `Status` errors (the layer's
/// `GrpcClassifier` classifies the calls' responses).
pub fn quotes_breaker(name: &str) -> Arc<CircuitBreaker> {
    CircuitBreaker::builder(name)
        .failure_threshold(3)
        .success_threshold(2)
        .reset_timeout(Duration::from_secs(1))
        .failure_if(is_outage)
        .build()
}

// ---------------------------------------------------------------------------------------------
// The server.

/// The server's switch and counter, shared by its handlers and the example.
#[derive(Debug, Default)]
pub struct ServerState {
    failing: AtomicBool,
    hits: AtomicU64,
    live_streams: AtomicU64,
}

impl ServerState {
    /// Makes the server fail every call with `UNAVAILABLE` (a stream after two quotes), or
    /// serve again.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// How many calls reached the server's handlers.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::SeqCst)
    }

    /// How many `WatchQuotes` streams the server is sending now: a stream the client
    /// dropped (the call cancelled) is no longer counted.
    pub fn live_streams(&self) -> u64 {
        self.live_streams.load(Ordering::SeqCst)
    }

    /// Counts a call and says whether the server fails it.
    fn hit(&self) -> bool {
        self.hits.fetch_add(1, Ordering::SeqCst);
        self.failing.load(Ordering::SeqCst)
    }
}

/// The price of `symbol`, or `NOT_FOUND`.
fn price_of(symbol: &str) -> Result<f64, Status> {
    match symbol {
        "ACME" => Ok(101.25),
        _ => Err(Status::not_found(format!("no such symbol: {symbol}"))),
    }
}

/// `GetQuote`: the price, `NOT_FOUND`, or `UNAVAILABLE` while failing.
async fn get_quote(
    state: Arc<ServerState>,
    request: tonic::Request<QuoteRequest>,
) -> Result<tonic::Response<Quote>, Status> {
    if state.hit() {
        return Err(Status::unavailable("quotes backend is down"));
    }
    let symbol = request.into_inner().symbol;
    let price = price_of(&symbol)?;
    Ok(tonic::Response::new(Quote { symbol, price }))
}

/// A stream of quotes, as the server sends it.
type QuoteStream = Pin<Box<dyn Stream<Item = Result<Quote, Status>> + Send>>;

/// `WatchQuotes`: `count` quotes, a few milliseconds apart. While failing, the stream breaks
/// after two quotes with `UNAVAILABLE` (sent in the trailers, after the messages).
async fn watch_quotes(
    state: Arc<ServerState>,
    request: tonic::Request<WatchRequest>,
) -> Result<tonic::Response<QuoteStream>, Status> {
    let failing = state.hit();
    let WatchRequest { symbol, count } = request.into_inner();
    let price = price_of(&symbol)?;
    let live = LiveStream::new(state);
    let feed = stream::unfold((0u32, live), move |(sent, live)| {
        let symbol = symbol.clone();
        async move {
            if sent == count {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
            let item = if failing && sent == 2 {
                Err(Status::unavailable("quotes feed lost its upstream"))
            } else {
                Ok(Quote {
                    symbol,
                    price: price + f64::from(sent) * 0.25,
                })
            };
            // Nothing follows an error.
            let next = if item.is_err() { count } else { sent + 1 };
            Some((item, (next, live)))
        }
    });
    Ok(tonic::Response::new(Box::pin(feed) as QuoteStream))
}

/// A stream the server is sending, counted in [`ServerState::live_streams`] until dropped
/// (ended, or cancelled by the client).
struct LiveStream(Arc<ServerState>);

impl LiveStream {
    fn new(state: Arc<ServerState>) -> LiveStream {
        state.live_streams.fetch_add(1, Ordering::SeqCst);
        LiveStream(state)
    }
}

impl Drop for LiveStream {
    fn drop(&mut self) {
        self.0.live_streams.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The `Quotes` service as tonic serves it: each path to tonic's generic gRPC handler, with
/// the prost codec. What `tonic-build` would generate, by hand.
#[derive(Clone)]
struct QuotesServer {
    state: Arc<ServerState>,
}

impl tower::Service<http::Request<tonic::body::Body>> for QuotesServer {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let state = self.state.clone();
        match request.uri().path() {
            GET_QUOTE => Box::pin(async move {
                let handler = tower::service_fn(move |r| get_quote(state.clone(), r));
                let mut grpc =
                    tonic::server::Grpc::new(ProstCodec::<Quote, QuoteRequest>::default());
                Ok(grpc.unary(handler, request).await)
            }),
            WATCH_QUOTES => Box::pin(async move {
                let handler = tower::service_fn(move |r| watch_quotes(state.clone(), r));
                let mut grpc =
                    tonic::server::Grpc::new(ProstCodec::<Quote, WatchRequest>::default());
                Ok(grpc.server_streaming(handler, request).await)
            }),
            _ => Box::pin(async { Ok(Status::unimplemented("no such method").into_http()) }),
        }
    }
}

/// The server, running on a free port of 127.0.0.1 until dropped.
pub struct QuotesService {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    /// Its switch and counter.
    pub state: Arc<ServerState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl QuotesService {
    /// Starts the server.
    ///
    /// # Errors
    ///
    /// When no port of 127.0.0.1 can be bound.
    pub async fn start() -> std::io::Result<QuotesService> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(ServerState::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let service = QuotesServer {
            state: state.clone(),
        };
        tokio::spawn(async move {
            let incoming =
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
            let _ = Server::builder()
                .serve_with_incoming_shutdown(service, incoming, async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(QuotesService {
            addr,
            state,
            stop: Some(stop),
        })
    }
}

impl Drop for QuotesService {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The client.

/// The client's transport: tonic's `Channel` behind the breaker, `UNAVAILABLE` and the other
/// outage codes counted as failures by `GrpcClassifier`.
type Guarded = CircuitBreakerService<Channel, GrpcClassifier>;

/// Why a call gave no answer.
#[derive(Debug, Clone)]
pub enum RpcError {
    /// The breaker rejected the call: it never left the client.
    Rejected(BreakerError),
    /// The server (or the transport) answered with this status.
    Status(Code, String),
}

impl RpcError {
    /// A client-side `Status` as the example shows it: the breaker's rejection is found in
    /// its source chain (tonic turns a transport error into `Status` with the error as
    /// source).
    fn from_status(status: &Status) -> RpcError {
        match BreakerError::find_in(status) {
            Some(rejected) => RpcError::Rejected(rejected.clone()),
            None => RpcError::Status(status.code(), status.message().to_owned()),
        }
    }

    /// The gRPC code, if the server answered.
    pub fn code(&self) -> Option<Code> {
        match self {
            RpcError::Status(code, _) => Some(*code),
            RpcError::Rejected(_) => None,
        }
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RpcError::Rejected(e) => write!(f, "rejected: {e}"),
            RpcError::Status(code, message) => write!(f, "{code:?}: {message}"),
        }
    }
}

/// A `Quotes` client: what `tonic-build` would generate, by hand, over the guarded channel.
#[derive(Clone)]
pub struct QuotesClient {
    grpc: tonic::client::Grpc<Guarded>,
    breaker: Arc<CircuitBreaker>,
}

impl QuotesClient {
    /// A client of the server at `addr`, behind `breaker`.
    pub fn new(addr: std::net::SocketAddr, breaker: Arc<CircuitBreaker>) -> QuotesClient {
        let channel = Channel::from_shared(format!("http://{addr}"))
            .expect("a valid URI")
            .connect_timeout(Duration::from_secs(2))
            .connect_lazy();
        let guarded = ServiceBuilder::new()
            .layer(CircuitBreakerLayer::new(breaker.clone()).grpc())
            .service(channel);
        QuotesClient {
            grpc: tonic::client::Grpc::new(guarded),
            breaker,
        }
    }

    /// Waits until the channel (or the open breaker) takes a call, as generated clients do.
    async fn ready(&mut self) -> Result<(), RpcError> {
        self.grpc
            .ready()
            .await
            .map_err(|e| RpcError::from_status(&Status::from_error(Box::new(e))))
    }

    /// `GetQuote`.
    pub async fn get_quote(&mut self, symbol: &str) -> Result<Quote, RpcError> {
        self.ready().await?;
        let request = tonic::Request::new(QuoteRequest {
            symbol: symbol.to_owned(),
        });
        let path = http::uri::PathAndQuery::from_static(GET_QUOTE);
        let codec = ProstCodec::<QuoteRequest, Quote>::default();
        match self.grpc.unary(request, path, codec).await {
            Ok(response) => Ok(response.into_inner()),
            Err(status) => Err(RpcError::from_status(&status)),
        }
    }

    /// `WatchQuotes`: the response stream behind the same breaker, each message one call, so
    /// a stream that breaks mid-way counts its error.
    pub async fn watch_quotes(
        &mut self,
        symbol: &str,
        count: u32,
    ) -> Result<ProtectedStream<Streaming<Quote>>, RpcError> {
        self.ready().await?;
        let request = tonic::Request::new(WatchRequest {
            symbol: symbol.to_owned(),
            count,
        });
        let path = http::uri::PathAndQuery::from_static(WATCH_QUOTES);
        let codec = ProstCodec::<WatchRequest, Quote>::default();
        match self.grpc.server_streaming(request, path, codec).await {
            Ok(response) => Ok(self.breaker.protect_stream(response.into_inner())),
            Err(status) => Err(RpcError::from_status(&status)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The run.

/// One call, as the timeline shows it.
#[derive(Debug, Clone)]
pub struct Step {
    /// The phase of the run it belongs to.
    pub phase: &'static str,
    /// `GetQuote` or `WatchQuotes`.
    pub rpc: &'static str,
    /// The prices received (one for `GetQuote`, each message of `WatchQuotes`).
    pub prices: Vec<f64>,
    /// Why the call, or the stream, ended without an answer, if it did.
    pub error: Option<RpcError>,
    /// How long the call took (for a stream: to its end).
    pub took: Duration,
    /// The breaker's state after it.
    pub state: State,
    /// The breaker's failures so far.
    pub failures: u64,
    /// The calls that reached the server so far.
    pub server_hits: u64,
}

/// What a run showed.
#[derive(Debug, Default)]
pub struct Report {
    /// Every call, in order.
    pub steps: Vec<Step>,
    /// What opened the breaker, as the classifier wrote it.
    pub open_cause: Option<String>,
    /// The breaker's metrics at the end.
    pub metrics: Option<breaker_runtime::Metrics>,
}

impl Report {
    /// The steps of `phase`.
    pub fn phase(&self, phase: &str) -> Vec<&Step> {
        self.steps.iter().filter(|s| s.phase == phase).collect()
    }
}

/// Runs the whole story against a server of its own, printing a timeline.
///
/// # Errors
///
/// When the server cannot bind a port, or the breaker does not half-open within 10 s of the
/// server's recovery.
pub async fn run() -> Result<Report, Box<dyn std::error::Error + Send + Sync>> {
    let server = QuotesService::start().await?;
    println!("tonic server on {}\n", server.addr);
    let breaker = quotes_breaker(BREAKER);
    let mut client = QuotesClient::new(server.addr, breaker.clone());
    let mut run = Run {
        report: Report::default(),
        breaker: breaker.clone(),
        server: server.state.clone(),
    };

    println!(
        "1. The server is healthy: quotes, a stream, and NOT_FOUND (an answer, not a failure)."
    );
    run.get(&mut client, "healthy", "ACME").await;
    run.get(&mut client, "healthy", "ACME").await;
    run.watch(&mut client, "healthy", 3).await;
    run.get(&mut client, "not-found", "NOPE").await;

    println!("\n2. The server fails with UNAVAILABLE: a stream breaks mid-way; three failures open the breaker.");
    server.state.set_failing(true);
    run.watch(&mut client, "failing", 4).await;
    for _ in 0..10 {
        run.get(&mut client, "failing", "ACME").await;
        if breaker.state() == State::Open {
            break;
        }
    }

    run.report.open_cause = breaker.open_cause();

    println!("\n3. The breaker is open: calls are rejected at once and never reach the server.");
    for _ in 0..3 {
        run.get(&mut client, "open", "ACME").await;
    }
    run.watch(&mut client, "open", 3).await;

    println!("\n4. The server recovers; after reset_timeout (1 s) probes close the breaker.");
    server.state.set_failing(false);
    let deadline = Instant::now() + Duration::from_secs(10);
    while breaker.state() != State::HalfOpen {
        if Instant::now() > deadline {
            return Err("the breaker did not half-open within 10 s".into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    run.get(&mut client, "recovered", "ACME").await;
    run.get(&mut client, "recovered", "ACME").await;
    run.watch(&mut client, "recovered", 3).await;

    println!("\nMetrics:");
    let m = breaker.metrics();
    println!(
        "  {:<12} {:<7} {:>6} {:>9} {:>8} {:>8} {:>7}   server hits",
        "breaker", "state", "calls", "successes", "failures", "rejected", "opened"
    );
    println!(
        "  {:<12} {:<7} {:>6} {:>9} {:>8} {:>8} {:>7}   {}",
        BREAKER,
        m.state.to_string(),
        m.calls,
        m.successes,
        m.failures,
        m.rejected,
        m.opened_count,
        server.state.hits()
    );
    let mut report = run.report;
    report.metrics = Some(m);
    Ok(report)
}

/// The run's record and what it reads after each call.
struct Run {
    report: Report,
    breaker: Arc<CircuitBreaker>,
    server: Arc<ServerState>,
}

impl Run {
    /// One `GetQuote`, printed and kept.
    async fn get(&mut self, client: &mut QuotesClient, phase: &'static str, symbol: &str) {
        let started = Instant::now();
        let result = client.get_quote(symbol).await;
        let took = started.elapsed();
        let (prices, error) = match result {
            Ok(quote) => (vec![quote.price], None),
            Err(e) => (Vec::new(), Some(e)),
        };
        self.record(phase, "GetQuote", prices, error, took);
    }

    /// One `WatchQuotes`, read to its end, printed and kept.
    async fn watch(&mut self, client: &mut QuotesClient, phase: &'static str, count: u32) {
        let started = Instant::now();
        let (mut prices, mut error) = (Vec::new(), None);
        match client.watch_quotes("ACME", count).await {
            Ok(mut quotes) => {
                // A gRPC stream's status is its last item: stop there. Polling on would ask
                // the breaker for a permit again, and if that error opened it, the answer
                // would be a rejection rather than the end.
                while let Some(item) = quotes.next().await {
                    match item {
                        Ok(quote) => prices.push(quote.price),
                        Err(CallError::Inner(status)) => {
                            error = Some(RpcError::from_status(&status));
                            break;
                        }
                        Err(CallError::Breaker(e)) => {
                            error = Some(RpcError::Rejected(e));
                            break;
                        }
                    }
                }
            }
            Err(e) => error = Some(e),
        }
        self.record(phase, "WatchQuotes", prices, error, started.elapsed());
    }

    fn record(
        &mut self,
        phase: &'static str,
        rpc: &'static str,
        prices: Vec<f64>,
        error: Option<RpcError>,
        took: Duration,
    ) {
        let m = self.breaker.metrics();
        let step = Step {
            phase,
            rpc,
            prices,
            error,
            took,
            state: self.breaker.state(),
            failures: m.failures,
            server_hits: self.server.hits(),
        };
        let shown: Vec<String> = step.prices.iter().map(|p| format!("{p}")).collect();
        let answer = match (&step.error, shown.is_empty()) {
            (None, _) => shown.join(" "),
            (Some(e), true) => e.to_string(),
            (Some(e), false) => format!("{}, then {e}", shown.join(" ")),
        };
        println!(
            "  {phase:<10} {rpc:<11} {took:>10.2?}  {:<9} failures {:<2} server hits {:<2} {answer}",
            step.state.to_string(),
            step.failures,
            step.server_hits,
        );
        self.report.steps.push(step);
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
