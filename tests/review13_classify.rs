//! Review 13: `classify = f` (issue 13, item 14) in half-open, with fallbacks, timeouts and
//! panics, on free functions, methods and `#[async_trait]` methods; and the fallback's scope
//! with `failure_if` / `ignore_if` for timeouts and panics.

use async_trait::async_trait;
use breaker_runtime::{circuit_breaker, registry, BreakerError, CallError, Outcome, State};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

#[derive(Debug, PartialEq, Clone)]
struct Response {
    status: u16,
}

#[derive(Debug, PartialEq)]
enum Error {
    Connect,
    Breaker(BreakerError),
}

impl From<BreakerError> for Error {
    fn from(e: BreakerError) -> Self {
        Error::Breaker(e)
    }
}

/// 5xx and connection errors are outages; 404 is ignored; the rest succeed.
fn verdict(result: &Result<Response, Error>) -> Outcome {
    match result {
        Err(Error::Connect) => Outcome::Failure,
        Err(Error::Breaker(_)) => Outcome::Ignored,
        Ok(r) if r.status >= 500 => Outcome::Failure,
        Ok(r) if r.status == 404 => Outcome::Ignored,
        Ok(_) => Outcome::Success,
    }
}

fn answer(status: u16) -> Result<Response, Error> {
    match status {
        0 => Err(Error::Connect),
        s => Ok(Response { status: s }),
    }
}

#[circuit_breaker(name = "rev13-cls-half", failure_threshold = 1, reset_timeout = "1s", success_threshold = 2, half_open_max_calls = 1, classify = verdict)]
fn probe(status: u16) -> Result<Response, Error> {
    answer(status)
}

#[circuit_breaker(name = "rev13-cls-half-async", failure_threshold = 1, reset_timeout = "1s", success_threshold = 2, half_open_max_calls = 1, classify = verdict)]
async fn probe_async(status: u16) -> Result<Response, Error> {
    tokio::task::yield_now().await;
    answer(status)
}

#[tokio::test(start_paused = true)]
async fn a_probe_whose_ok_is_a_failure_reopens_and_an_ignored_one_gives_its_permit_back() {
    let breaker = registry().get("rev13-cls-half").unwrap();
    assert_eq!(probe(503).unwrap().status, 503);
    assert_eq!(breaker.state(), State::Open);
    tokio::time::advance(Duration::from_millis(1001)).await;
    assert_eq!(breaker.state(), State::HalfOpen);
    assert_eq!(probe(503).unwrap().status, 503, "the caller gets the 503");
    assert_eq!(
        breaker.state(),
        State::Open,
        "an Ok that is a failure re-opens"
    );
    tokio::time::advance(Duration::from_millis(1001)).await;
    // Ignored probes give their one permit back: the next one is let in.
    for _ in 0..3 {
        assert_eq!(probe(404).unwrap().status, 404);
        assert_eq!(breaker.state(), State::HalfOpen);
    }
    assert_eq!(probe(200).unwrap().status, 200);
    assert_eq!(breaker.state(), State::HalfOpen);
    assert_eq!(probe(200).unwrap().status, 200);
    assert_eq!(breaker.state(), State::Closed);
    let m = breaker.metrics();
    assert_eq!((m.failures, m.ignored, m.successes), (2, 3, 2));
}

#[tokio::test(start_paused = true)]
async fn the_async_probe_classifies_the_same() {
    let breaker = registry().get("rev13-cls-half-async").unwrap();
    let _ = probe_async(0).await;
    assert_eq!(breaker.state(), State::Open);
    assert!(matches!(
        probe_async(200).await,
        Err(Error::Breaker(BreakerError::Open { .. }))
    ));
    tokio::time::advance(Duration::from_millis(1001)).await;
    assert_eq!(probe_async(500).await.unwrap().status, 500);
    assert_eq!(breaker.state(), State::Open);
    tokio::time::advance(Duration::from_millis(1001)).await;
    assert_eq!(probe_async(404).await.unwrap().status, 404);
    assert_eq!(breaker.state(), State::HalfOpen);
    let _ = probe_async(201).await;
    let _ = probe_async(202).await;
    assert_eq!(breaker.state(), State::Closed);
}

static FALLBACKS: AtomicU32 = AtomicU32::new(0);

async fn stale(_status: u16, e: CallError<Error>) -> Result<Response, Error> {
    FALLBACKS.fetch_add(1, Ordering::SeqCst);
    Ok(Response {
        status: match e {
            CallError::Breaker(BreakerError::TimedOut { .. }) => 1,
            CallError::Breaker(_) => 2,
            CallError::Inner(_) => 3,
        },
    })
}

#[circuit_breaker(name = "rev13-cls-timeout", failure_threshold = 3, reset_timeout = "1h", call_timeout = "1s", classify = verdict, fallback = stale)]
async fn slow(status: u16) -> Result<Response, Error> {
    if status == 1 {
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    answer(status)
}

#[tokio::test(start_paused = true)]
async fn with_classify_a_timeout_and_a_rejection_reach_the_fallback_an_ok_never_does() {
    let breaker = registry().get("rev13-cls-timeout").unwrap();
    let before = FALLBACKS.load(Ordering::SeqCst);
    assert_eq!(slow(503).await.unwrap().status, 503, "an Ok never goes");
    assert_eq!(FALLBACKS.load(Ordering::SeqCst), before);
    assert_eq!(slow(1).await.unwrap().status, 1, "a timeout does");
    assert_eq!(slow(0).await.unwrap().status, 3, "a failing Err does");
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(slow(200).await.unwrap().status, 2, "a rejection does");
    assert_eq!(FALLBACKS.load(Ordering::SeqCst), before + 3);
    let m = breaker.metrics();
    assert_eq!((m.failures, m.timeouts, m.rejected), (3, 1, 1));
}

fn never_a_failure(_: &Error) -> bool {
    false
}

static SCOPE_FALLBACKS: AtomicU32 = AtomicU32::new(0);

async fn scope_stale(_secs: u64, _e: CallError<Error>) -> Result<Response, Error> {
    SCOPE_FALLBACKS.fetch_add(1, Ordering::SeqCst);
    Ok(Response { status: 299 })
}

#[circuit_breaker(name = "rev13-scope-timeout", failure_threshold = 1, reset_timeout = "1h", call_timeout = "1s", failure_if = never_a_failure, fallback = scope_stale)]
async fn scoped(secs: u64) -> Result<Response, Error> {
    tokio::time::sleep(Duration::from_secs(secs)).await;
    Err(Error::Connect)
}

#[tokio::test(start_paused = true)]
async fn a_timeout_reaches_the_fallback_whatever_failure_if_says() {
    let breaker = registry().get("rev13-scope-timeout").unwrap();
    assert_eq!(
        scoped(0).await,
        Err(Error::Connect),
        "no failure: an answer"
    );
    assert_eq!(SCOPE_FALLBACKS.load(Ordering::SeqCst), 0);
    assert_eq!(
        scoped(5).await.unwrap().status,
        299,
        "a timeout is an outage"
    );
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(scoped(0).await.unwrap().status, 299, "so is a rejection");
    assert_eq!(SCOPE_FALLBACKS.load(Ordering::SeqCst), 2);
}

static PANIC_FALLBACKS: AtomicU32 = AtomicU32::new(0);

fn panic_stale(_boom: bool, _e: CallError<Error>) -> Result<Response, Error> {
    PANIC_FALLBACKS.fetch_add(1, Ordering::SeqCst);
    Ok(Response { status: 299 })
}

#[circuit_breaker(name = "rev13-cls-panic", failure_threshold = 1, reset_timeout = "1h", classify = verdict, fallback = panic_stale)]
fn panicky(boom: bool) -> Result<Response, Error> {
    if boom {
        panic!("boom");
    }
    answer(404)
}

#[test]
fn a_panic_with_classify_is_a_failure_that_keeps_unwinding() {
    let breaker = registry().get("rev13-cls-panic").unwrap();
    assert_eq!(panicky(false).unwrap().status, 404);
    assert!(std::panic::catch_unwind(|| panicky(true)).is_err());
    assert_eq!(PANIC_FALLBACKS.load(Ordering::SeqCst), 0);
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(
        panicky(false).unwrap().status,
        299,
        "rejected: the fallback"
    );
}

struct Client {
    up: bool,
}

impl Client {
    fn stale(&self, _status: u16, _e: CallError<Error>) -> Result<Response, Error> {
        Ok(Response { status: 298 })
    }

    #[circuit_breaker(name = "rev13-cls-method", failure_threshold = 2, reset_timeout = "1h", classify = verdict, fallback = Self::stale)]
    fn get(&self, status: u16) -> Result<Response, Error> {
        if self.up {
            answer(status)
        } else {
            Err(Error::Connect)
        }
    }
}

#[test]
fn a_method_with_classify_and_a_fallback() {
    let breaker = registry().get("rev13-cls-method").unwrap();
    let client = Client { up: true };
    assert_eq!(client.get(500).unwrap().status, 500);
    assert_eq!(
        Client { up: false }.get(200).unwrap().status,
        298,
        "a failing Err"
    );
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(client.get(200).unwrap().status, 298);
}

#[async_trait]
trait Api {
    async fn fetch(&self, status: u16) -> Result<Response, Error>;
}

struct Remote;

impl Remote {
    async fn cached(&self, _status: u16, _e: CallError<Error>) -> Result<Response, Error> {
        Ok(Response { status: 297 })
    }
}

#[async_trait]
impl Api for Remote {
    #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h", classify = verdict, fallback = Self::cached)]
    async fn fetch(&self, status: u16) -> Result<Response, Error> {
        tokio::task::yield_now().await;
        answer(status)
    }
}

#[tokio::test]
async fn an_async_trait_method_with_classify_and_a_fallback() {
    assert_eq!(Remote.fetch(404).await.unwrap().status, 404);
    assert_eq!(
        Remote.fetch(502).await.unwrap().status,
        502,
        "an Ok never goes"
    );
    assert_eq!(Remote.fetch(200).await.unwrap().status, 297, "rejected");
    let name = registry()
        .names()
        .into_iter()
        .find(|n| n == "<review13_classify::Remote as review13_classify::Api>::fetch")
        .expect("named after the impl");
    let breaker = registry().get(&name).unwrap();
    let m = breaker.metrics();
    assert_eq!((m.ignored, m.failures, m.rejected), (1, 1, 1));
}

fn is_not_found(_: &Error) -> bool {
    false
}

static ASYNC_PANIC_FALLBACKS: AtomicU32 = AtomicU32::new(0);

async fn async_panic_stale(_boom: bool, _e: CallError<Error>) -> Result<Response, Error> {
    ASYNC_PANIC_FALLBACKS.fetch_add(1, Ordering::SeqCst);
    Ok(Response { status: 299 })
}

#[circuit_breaker(name = "rev13-scope-panic", failure_threshold = 1, reset_timeout = "1h", ignore_if = is_not_found, fallback = async_panic_stale)]
async fn async_panicky(boom: bool) -> Result<Response, Error> {
    tokio::task::yield_now().await;
    if boom {
        panic!("boom");
    }
    answer(200)
}

#[tokio::test]
async fn an_async_panic_with_ignore_if_is_a_failure_and_never_reaches_the_fallback() {
    let breaker = registry().get("rev13-scope-panic").unwrap();
    let joined = tokio::spawn(async_panicky(true)).await;
    assert!(joined.unwrap_err().is_panic());
    assert_eq!(ASYNC_PANIC_FALLBACKS.load(Ordering::SeqCst), 0);
    assert_eq!(breaker.metrics().failures, 1);
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(async_panicky(false).await.unwrap().status, 299, "rejected");
}

static VERDICTS: AtomicU32 = AtomicU32::new(0);

/// A verdict that reads state (a flag flipped by another thread, a clock): here it alternates,
/// so that asking twice about one result gives two answers.
fn flaky_verdict(result: &Result<Response, Error>) -> Outcome {
    match result {
        Ok(_) => Outcome::Success,
        Err(_) if VERDICTS.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) => Outcome::Failure,
        Err(_) => Outcome::Ignored,
    }
}

static FLAKY_FALLBACKS: AtomicU32 = AtomicU32::new(0);

fn flaky_stale(_e: CallError<Error>) -> Result<Response, Error> {
    FLAKY_FALLBACKS.fetch_add(1, Ordering::SeqCst);
    Ok(Response { status: 299 })
}

#[circuit_breaker(name = "rev13-cls-once", failure_threshold = 100, classify = flaky_verdict, fallback = flaky_stale)]
fn judged_once() -> Result<Response, Error> {
    Err(Error::Connect)
}

/// The fallback gets exactly the `Err`s the breaker recorded as failures. With a fallback,
/// the generated code used to ask `classify` a second time (`answer_or_outage`) instead of
/// reusing the verdict the breaker recorded, so a verdict that reads state could record a
/// failure and hand the error back as an answer (here: 4 failures, 0 fallbacks), or ignore
/// it and serve the fallback.
#[test]
fn the_fallback_gets_exactly_the_errors_recorded_as_failures() {
    let breaker = registry().get("rev13-cls-once").unwrap();
    for _ in 0..4 {
        let _ = judged_once();
    }
    assert_eq!(
        u64::from(FLAKY_FALLBACKS.load(Ordering::SeqCst)),
        breaker.metrics().failures,
        "fallbacks served vs failures recorded"
    );
    assert_eq!(VERDICTS.load(Ordering::SeqCst), 4, "one verdict per call");
}

static ASYNC_VERDICTS: AtomicU32 = AtomicU32::new(0);

fn flaky_verdict_async(result: &Result<Response, Error>) -> Outcome {
    match result {
        Ok(_) => Outcome::Success,
        Err(_)
            if ASYNC_VERDICTS
                .fetch_add(1, Ordering::SeqCst)
                .is_multiple_of(2) =>
        {
            Outcome::Failure
        }
        Err(_) => Outcome::Ignored,
    }
}

static FLAKY_ASYNC_FALLBACKS: AtomicU32 = AtomicU32::new(0);

async fn flaky_stale_async(_e: CallError<Error>) -> Result<Response, Error> {
    FLAKY_ASYNC_FALLBACKS.fetch_add(1, Ordering::SeqCst);
    Ok(Response { status: 299 })
}

#[circuit_breaker(name = "rev13-cls-once-async", failure_threshold = 100, classify = flaky_verdict_async, fallback = flaky_stale_async)]
async fn judged_once_async() -> Result<Response, Error> {
    tokio::task::yield_now().await;
    Err(Error::Connect)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_the_fallback_gets_exactly_the_errors_recorded_as_failures() {
    let breaker = registry().get("rev13-cls-once-async").unwrap();
    let tasks: Vec<_> = (0..16).map(|_| tokio::spawn(judged_once_async())).collect();
    let mut answers = 0;
    for t in tasks {
        if t.await.unwrap().is_err() {
            answers += 1;
        }
    }
    let m = breaker.metrics();
    assert_eq!(
        u64::from(FLAKY_ASYNC_FALLBACKS.load(Ordering::SeqCst)),
        m.failures
    );
    assert_eq!(answers, m.ignored);
    assert_eq!(
        ASYNC_VERDICTS.load(Ordering::SeqCst),
        16,
        "one verdict per call"
    );
}

static PREDICATE_CALLS: AtomicU32 = AtomicU32::new(0);

/// A `failure_if` that reads state: alternates.
fn flaky_failure_if(_: &Error) -> bool {
    PREDICATE_CALLS
        .fetch_add(1, Ordering::SeqCst)
        .is_multiple_of(2)
}

static PREDICATE_FALLBACKS: AtomicU32 = AtomicU32::new(0);

fn predicate_stale(_e: CallError<Error>) -> Result<Response, Error> {
    PREDICATE_FALLBACKS.fetch_add(1, Ordering::SeqCst);
    Ok(Response { status: 299 })
}

#[circuit_breaker(name = "rev13-pred-once", failure_threshold = 100, failure_if = flaky_failure_if, fallback = predicate_stale)]
fn predicate_judged_once() -> Result<Response, Error> {
    Err(Error::Connect)
}

/// The same for `failure_if` / `ignore_if`: the fallback gets exactly the recorded failures,
/// and the predicates are asked once per error.
#[test]
fn with_failure_if_the_fallback_gets_exactly_the_errors_recorded_as_failures() {
    let breaker = registry().get("rev13-pred-once").unwrap();
    for _ in 0..4 {
        let _ = predicate_judged_once();
    }
    assert_eq!(
        u64::from(PREDICATE_FALLBACKS.load(Ordering::SeqCst)),
        breaker.metrics().failures,
        "fallbacks served vs failures recorded"
    );
    assert_eq!(
        PREDICATE_CALLS.load(Ordering::SeqCst),
        4,
        "one verdict per call"
    );
}
