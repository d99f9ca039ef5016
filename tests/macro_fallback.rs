//! `fallback`, `call_timeout`, `failure_if` and `ignore_if` on annotated functions.

use breaker_runtime::{circuit_breaker, registry, BreakerError, CallError, State};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

#[derive(Debug, PartialEq, Clone)]
enum Error {
    Down,
    NotFound,
    BadInput,
    Breaker(BreakerError),
}

impl From<BreakerError> for Error {
    fn from(e: BreakerError) -> Self {
        Error::Breaker(e)
    }
}

/// What the fallback saw.
#[derive(Debug, PartialEq)]
enum Seen {
    Live(String),
    Failed(String, Error),
    Rejected(String),
    TimedOut(String),
}

static RUNS: AtomicU32 = AtomicU32::new(0);

#[circuit_breaker(name = "fb-free", failure_threshold = 2, reset_timeout = "10s", fallback = remember)]
async fn fetch(key: &str, owned: String, up: bool) -> Result<Seen, Error> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    if up {
        Ok(Seen::Live(format!("{key}{owned}")))
    } else {
        Err(Error::Down)
    }
}

async fn remember(
    key: &str,
    owned: String,
    _up: bool,
    err: CallError<Error>,
) -> Result<Seen, Error> {
    let both = format!("{key}{owned}");
    Ok(match err {
        CallError::Inner(e) => Seen::Failed(both, e),
        CallError::Breaker(b) if b.is_circuit_open() => Seen::Rejected(both),
        CallError::Breaker(_) => Seen::TimedOut(both),
    })
}

#[tokio::test(start_paused = true)]
async fn fallback_gets_the_arguments_on_failure_and_rejection() {
    assert_eq!(
        fetch("a", "1".into(), true).await,
        Ok(Seen::Live("a1".into()))
    );
    assert_eq!(
        fetch("a", "2".into(), false).await,
        Ok(Seen::Failed("a2".into(), Error::Down))
    );
    assert_eq!(
        fetch("a", "3".into(), false).await,
        Ok(Seen::Failed("a3".into(), Error::Down))
    );
    assert_eq!(
        fetch("a", "4".into(), true).await,
        Ok(Seen::Rejected("a4".into()))
    );
    assert_eq!(
        RUNS.load(Ordering::SeqCst),
        3,
        "a rejected call does not run the body"
    );
    tokio::time::advance(Duration::from_secs(10)).await;
    assert_eq!(
        fetch("b", "5".into(), true).await,
        Ok(Seen::Live("b5".into()))
    );
}

#[circuit_breaker(name = "fb-timeout", failure_threshold = 1, call_timeout = "100ms", reset_timeout = "1s", fallback = remember_slow)]
async fn slow(key: String, delay_ms: u64) -> Result<Seen, Error> {
    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    Ok(Seen::Live(key.clone()))
}

async fn remember_slow(key: String, _delay_ms: u64, err: CallError<Error>) -> Result<Seen, Error> {
    remember(&key, String::new(), false, err).await
}

#[circuit_breaker(
    name = "timeout-no-fallback",
    failure_threshold = 1,
    call_timeout = "50ms"
)]
async fn slow_plain(delay_ms: u64) -> Result<(), Error> {
    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn call_timeout_cuts_the_call() {
    assert_eq!(slow("k".into(), 10).await, Ok(Seen::Live("k".into())));
    assert_eq!(slow("k".into(), 500).await, Ok(Seen::TimedOut("k".into())));
    assert_eq!(slow("k".into(), 10).await, Ok(Seen::Rejected("k".into())));
    let m = registry().get("fb-timeout").unwrap().metrics();
    assert_eq!((m.timeouts, m.failures), (1, 1));

    match slow_plain(60).await {
        Err(Error::Breaker(BreakerError::TimedOut { name, after })) => {
            assert_eq!(
                (name.as_str(), after),
                ("timeout-no-fallback", Duration::from_millis(50))
            );
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
}

struct Cache {
    value: u32,
}

impl Cache {
    #[circuit_breaker(name = "fb-self", failure_threshold = 1, fallback = Self::stale)]
    fn fresh(&mut self, up: bool) -> Result<u32, Error> {
        self.value += 1;
        if up {
            Ok(self.value)
        } else {
            Err(Error::Down)
        }
    }

    fn stale(&mut self, _up: bool, _err: CallError<Error>) -> Result<u32, Error> {
        Ok(self.value + 100)
    }

    #[circuit_breaker(name = "fb-type", failure_threshold = 1, fallback = Cache::zero)]
    fn by_type_path(up: bool) -> Result<u32, Error> {
        if up {
            Ok(1)
        } else {
            Err(Error::Down)
        }
    }

    fn zero(_up: bool, _err: CallError<Error>) -> Result<u32, Error> {
        Ok(0)
    }
}

#[test]
fn fallback_paths_self_and_type() {
    let mut cache = Cache { value: 0 };
    assert_eq!(cache.fresh(true), Ok(1));
    assert_eq!(
        cache.fresh(false),
        Ok(102),
        "failure: the body ran, then the fallback"
    );
    assert_eq!(cache.fresh(true), Ok(102), "rejected: the body did not run");
    assert_eq!(Cache::by_type_path(false), Ok(0));
    assert_eq!(Cache::by_type_path(true), Ok(0));
}

fn is_transient(e: &Error) -> bool {
    matches!(e, Error::Down)
}

fn is_not_found(e: &Error) -> bool {
    matches!(e, Error::NotFound)
}

#[circuit_breaker(name = "classify", failure_threshold = 2, failure_if = is_transient, ignore_if = is_not_found)]
async fn classify(result: Result<(), Error>) -> Result<(), Error> {
    result
}

#[tokio::test(start_paused = true)]
async fn failure_if_and_ignore_if_classify_errors() {
    for _ in 0..5 {
        assert_eq!(classify(Err(Error::BadInput)).await, Err(Error::BadInput));
        assert_eq!(classify(Err(Error::NotFound)).await, Err(Error::NotFound));
    }
    let breaker = registry().get("classify").unwrap();
    let m = breaker.metrics();
    assert_eq!((m.successes, m.failures, m.ignored), (5, 0, 5));
    assert_eq!(breaker.state(), State::Closed);
    assert_eq!(classify(Err(Error::Down)).await, Err(Error::Down));
    assert_eq!(classify(Err(Error::Down)).await, Err(Error::Down));
    assert_eq!(breaker.state(), State::Open);
}
