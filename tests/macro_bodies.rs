//! Bodies keep their meaning under `#[circuit_breaker]` (`?` with `From`, early `return`,
//! `.await` in loops, `use` inside, names that look generated), and the attribute stacks with
//! others: `#[tracing::instrument]` above and below, `#[tokio::test]`, `#[must_use]`,
//! `#[inline]`, docs, `#[cfg]`.

use breaker_runtime::{circuit_breaker, registry, BreakerError, State};
use std::future::Future;

#[derive(Debug, PartialEq)]
enum Error {
    Io(std::io::ErrorKind),
    Parse,
    Breaker(BreakerError),
}

impl From<BreakerError> for Error {
    fn from(e: BreakerError) -> Self {
        Error::Breaker(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.kind())
    }
}

impl From<std::num::ParseIntError> for Error {
    fn from(_: std::num::ParseIntError) -> Self {
        Error::Parse
    }
}

/// `?` converts through `From`; early `return`; `use` inside; locals named like generated ones.
#[circuit_breaker(name = "body-sync", failure_threshold = 100)]
fn parse_sum(text: &str) -> Result<u32, Error> {
    use std::str::FromStr as _;
    let __breaker = 1u32;
    let __error = 2u32;
    let __ret = 3u32;
    if text.is_empty() {
        return Ok(__breaker + __error + __ret);
    }
    let mut sum = 0;
    for part in text.split(',') {
        sum += u32::from_str(part.trim())?;
    }
    if sum == 0 {
        Err(std::io::Error::from(std::io::ErrorKind::InvalidData))?;
    }
    Ok(sum)
}

#[test]
fn sync_body_keeps_its_meaning() {
    assert_eq!(parse_sum(""), Ok(6));
    assert_eq!(parse_sum("1, 2, 3"), Ok(6));
    assert_eq!(parse_sum("1, x"), Err(Error::Parse));
    assert_eq!(
        parse_sum("0"),
        Err(Error::Io(std::io::ErrorKind::InvalidData))
    );
    assert_eq!(registry().get("body-sync").unwrap().metrics().failures, 2);
}

async fn step(i: u32) -> Result<u32, std::io::Error> {
    tokio::task::yield_now().await;
    if i < 100 {
        Ok(i)
    } else {
        Err(std::io::ErrorKind::Other.into())
    }
}

#[circuit_breaker(name = "body-async", failure_threshold = 100)]
async fn sum_to(n: u32) -> Result<u32, Error> {
    use Error::Parse as Unused;
    let _ = Unused;
    let mut total = 0;
    for i in 0..n {
        total += step(i).await?;
        if total > 1_000 {
            return Ok(u32::MAX);
        }
    }
    let mut i = 0;
    while i < 3 {
        total += step(i).await?;
        i += 1;
    }
    Ok(total)
}

#[tokio::test]
async fn async_body_keeps_its_meaning() {
    assert_eq!(sum_to(4).await, Ok(9));
    assert_eq!(sum_to(50).await, Ok(u32::MAX));
    assert_eq!(sum_to(101).await, Ok(u32::MAX));
    assert_eq!(registry().get("body-async").unwrap().metrics().successes, 3);
}

fn always(_: &Error) -> bool {
    true
}

/// `Result<impl Trait, E>` in a plain fn, with a predicate on `E`.
#[circuit_breaker(name = "body-impl", failure_if = always)]
fn shown(n: u32) -> Result<impl std::fmt::Display, Error> {
    Ok(n * 2)
}

#[test]
fn impl_trait_in_the_result() {
    assert_eq!(shown(21).unwrap().to_string(), "42");
}

// ---- stacking ----

/// `#[tracing::instrument]` above: it rewrites first, this attribute wraps its output.
#[tracing::instrument(level = "debug")]
#[circuit_breaker(name = "stack-instrument-above", failure_threshold = 1)]
async fn instrumented_above(fail: bool) -> Result<u8, Error> {
    if fail {
        Err(Error::Parse)
    } else {
        Ok(1)
    }
}

/// `#[tracing::instrument]` below: it sees this attribute's output.
#[circuit_breaker(name = "stack-instrument-below", failure_threshold = 1)]
#[tracing::instrument(err(Debug))]
fn instrumented_below(fail: bool) -> Result<u8, Error> {
    if fail {
        Err(Error::Parse)
    } else {
        Ok(2)
    }
}

#[tokio::test]
async fn instrument_above_and_below() {
    assert_eq!(instrumented_above(false).await, Ok(1));
    assert_eq!(instrumented_above(true).await, Err(Error::Parse));
    assert!(matches!(
        instrumented_above(false).await,
        Err(Error::Breaker(_))
    ));
    assert_eq!(instrumented_below(false), Ok(2));
    assert_eq!(instrumented_below(true), Err(Error::Parse));
    assert!(matches!(instrumented_below(false), Err(Error::Breaker(_))));
}

#[tokio::test]
#[circuit_breaker(name = "stack-tokio-test-above")]
async fn tokio_test_above() -> Result<(), Error> {
    tokio::task::yield_now().await;
    assert!(registry().get("stack-tokio-test-above").is_some());
    Ok(())
}

#[circuit_breaker(name = "stack-tokio-test-below")]
#[tokio::test]
async fn tokio_test_below() -> Result<(), Error> {
    assert!(registry().get("stack-tokio-test-below").is_some());
    Ok(())
}

/// Docs stay; so do `#[must_use]` and `#[inline]`.
#[must_use = "the answer matters"]
#[inline]
#[circuit_breaker(name = "stack-misc")]
#[cfg(test)]
pub(crate) fn answer() -> Result<u32, Error> {
    Ok(42)
}

#[cfg(any())]
#[circuit_breaker(name = "compiled-out")]
fn compiled_out() -> Result<u32, Error> {
    this_does_not_exist()
}

#[test]
fn other_attributes_stay() {
    assert_eq!(answer(), Ok(42));
    assert!(registry().get("compiled-out").is_none());
}

// ---- Send ----

fn assert_send<F: Future + Send>(future: F) -> F {
    future
}

struct Conn {
    id: u32,
}

impl Conn {
    #[circuit_breaker(name = "send-method", fallback = Self::offline)]
    async fn query(&self, sql: &str, owned: String) -> Result<u32, Error> {
        tokio::task::yield_now().await;
        Ok(self.id + sql.len() as u32 + owned.len() as u32)
    }

    async fn offline(
        &self,
        _sql: &str,
        _owned: String,
        _e: breaker_runtime::CallError<Error>,
    ) -> Result<u32, Error> {
        Ok(0)
    }
}

#[circuit_breaker(name = "send-free")]
async fn tick(n: u32) -> Result<u32, Error> {
    let text = String::from("held across an await");
    tokio::task::yield_now().await;
    Ok(n + text.len() as u32 - 20)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn futures_stay_send() {
    let conn = Conn { id: 1 };
    assert_eq!(assert_send(conn.query("ab", "c".into())).await, Ok(4));
    let spawned = tokio::spawn(async { tick(3).await }).await.unwrap();
    assert_eq!(spawned, Ok(3));
    assert_eq!(
        registry().get("send-method").unwrap().state(),
        State::Closed
    );
}
