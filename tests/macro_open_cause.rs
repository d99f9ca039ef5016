//! The cause of an open (issue 13, item 17): the `Display` text of the error that opened the
//! breaker, kept from every way a call is made: the attribute (sync and async, free
//! functions and methods, with `classify`), `call` and `call_sync`. An error type without
//! `Display` opens the breaker all the same, with no cause.

use breaker_runtime::{circuit_breaker, registry, BreakerError, CircuitBreaker, Outcome, State};
use std::fmt;

/// A user's error type: `Display`, and a `BreakerError` variant.
#[derive(Debug)]
enum DbError {
    Refused(u16),
    Breaker(BreakerError),
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbError::Refused(port) => write!(f, "connection to 127.0.0.1:{port} refused"),
            DbError::Breaker(e) => e.fmt(f),
        }
    }
}

impl From<BreakerError> for DbError {
    fn from(e: BreakerError) -> Self {
        DbError::Breaker(e)
    }
}

/// An error type with no `Display` at all.
#[derive(Debug)]
enum Opaque {
    Down,
    Breaker,
}

impl From<BreakerError> for Opaque {
    fn from(_: BreakerError) -> Self {
        Opaque::Breaker
    }
}

fn cause_of(name: &str) -> Option<String> {
    registry().get(name).expect("registered").open_cause()
}

#[circuit_breaker(name = "cause-sync", failure_threshold = 2, reset_timeout = "1h")]
fn sync_query(port: u16) -> Result<u8, DbError> {
    Err(DbError::Refused(port))
}

#[circuit_breaker(name = "cause-async", failure_threshold = 1, reset_timeout = "1h")]
async fn async_query(port: u16) -> Result<u8, DbError> {
    Err(DbError::Refused(port))
}

#[circuit_breaker(name = "cause-opaque", failure_threshold = 1, reset_timeout = "1h")]
fn opaque_query() -> Result<u8, Opaque> {
    Err(Opaque::Down)
}

#[circuit_breaker(name = "cause-io", failure_threshold = 1, reset_timeout = "1h")]
fn io_query() -> std::io::Result<u8> {
    Err(std::io::Error::other("disk on fire"))
}

/// A function generic over its error: `E`'s `Display` is used where the bound promises it.
#[circuit_breaker(name = "cause-generic", failure_threshold = 1, reset_timeout = "1h")]
fn generic_query<E: fmt::Display + From<BreakerError>>(err: E) -> Result<u8, E> {
    Err(err)
}

struct Repo;

impl Repo {
    #[circuit_breaker(name = "cause-method", failure_threshold = 1, reset_timeout = "1h")]
    async fn get(&self, port: u16) -> Result<u8, DbError> {
        Err(DbError::Refused(port))
    }
}

fn errors_fail(result: &Result<u16, DbError>) -> Outcome {
    match result {
        Ok(status) if *status >= 500 => Outcome::Failure,
        Ok(_) => Outcome::Success,
        Err(_) => Outcome::Failure,
    }
}

#[circuit_breaker(name = "cause-classify", failure_threshold = 2, reset_timeout = "1h", classify = errors_fail)]
fn classified(status: Option<u16>) -> Result<u16, DbError> {
    status.ok_or(DbError::Refused(5432))
}

#[test]
fn the_error_that_opens_a_sync_function_breaker_is_its_cause() {
    let _ = sync_query(1);
    assert_eq!(
        cause_of("cause-sync"),
        None,
        "a failure that opens nothing leaves none"
    );
    let _ = sync_query(2);
    assert_eq!(registry().get("cause-sync").unwrap().state(), State::Open);
    assert_eq!(
        cause_of("cause-sync").as_deref(),
        Some("connection to 127.0.0.1:2 refused"),
        "the failure that opened it, not an earlier one"
    );
    let snapshot = registry().get("cause-sync").unwrap().snapshot();
    assert_eq!(
        snapshot.open_cause.as_deref(),
        Some("connection to 127.0.0.1:2 refused")
    );
}

#[tokio::test]
async fn an_async_function_and_a_method_keep_theirs() {
    let _ = async_query(7).await;
    assert_eq!(
        cause_of("cause-async").as_deref(),
        Some("connection to 127.0.0.1:7 refused")
    );
    let _ = Repo.get(8).await;
    assert_eq!(
        cause_of("cause-method").as_deref(),
        Some("connection to 127.0.0.1:8 refused")
    );
}

#[test]
fn an_error_without_display_opens_the_breaker_with_no_cause() {
    assert!(matches!(opaque_query(), Err(Opaque::Down)));
    let breaker = registry().get("cause-opaque").unwrap();
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(breaker.open_cause(), None);
    assert!(matches!(opaque_query(), Err(Opaque::Breaker)));
}

#[test]
fn aliases_and_generic_errors_keep_theirs() {
    let _ = io_query();
    assert_eq!(cause_of("cause-io").as_deref(), Some("disk on fire"));
    let _ = generic_query(DbError::Refused(9));
    assert_eq!(
        cause_of("cause-generic").as_deref(),
        Some("connection to 127.0.0.1:9 refused")
    );
}

#[test]
fn with_classify_an_err_is_the_cause_and_a_failing_ok_leaves_none() {
    let _ = classified(Some(503));
    let _ = classified(None);
    assert_eq!(
        registry().get("cause-classify").unwrap().state(),
        State::Open
    );
    assert_eq!(
        cause_of("cause-classify").as_deref(),
        Some("connection to 127.0.0.1:5432 refused")
    );
}

#[test]
fn call_and_call_sync_keep_the_text_of_std_errors() {
    let io = CircuitBreaker::builder("cause-call-sync-io")
        .failure_threshold(1)
        .build();
    let _ = io.call_sync(|| Err::<(), _>(std::io::Error::other("broken pipe")));
    assert_eq!(io.open_cause().as_deref(), Some("broken pipe"));

    let text = CircuitBreaker::builder("cause-call-sync-str")
        .failure_threshold(1)
        .build();
    let _ = text.call_sync(|| Err::<(), _>("refused"));
    assert_eq!(text.open_cause().as_deref(), Some("refused"));

    let boxed = CircuitBreaker::builder("cause-call-sync-boxed")
        .failure_threshold(1)
        .build();
    let _ = boxed.call_sync(|| -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Err("boxed refusal".into())
    });
    assert_eq!(boxed.open_cause().as_deref(), Some("boxed refusal"));

    let own = CircuitBreaker::builder("cause-call-sync-own")
        .failure_threshold(1)
        .build();
    let _ = own.call_sync(|| Err::<(), _>(DbError::Refused(1)));
    assert_eq!(own.state(), State::Open);
    assert_eq!(
        own.open_cause(),
        None,
        "`call_sync` cannot see a user type's `Display` (documented: use the attribute or `failure_because`)"
    );
}

#[tokio::test]
async fn call_keeps_the_text_of_std_errors() {
    let breaker = CircuitBreaker::builder("cause-call-async")
        .failure_threshold(1)
        .build();
    let _ = breaker
        .call(|| async { Err::<(), _>(String::from("timeout talking to 127.0.0.1:6379")) })
        .await;
    assert_eq!(
        breaker.open_cause().as_deref(),
        Some("timeout talking to 127.0.0.1:6379")
    );
}
