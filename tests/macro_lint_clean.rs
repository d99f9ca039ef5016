//! The expansion adds no lint to user code, at any level: this file denies every warning and
//! clippy's pedantic group, and CI's clippy step (`--all-targets -D warnings`) lints it with
//! clippy. Shapes from real code: single expressions, early returns, fallbacks, methods,
//! `#[async_trait]`, a hand-written boxed future.
#![deny(warnings, clippy::pedantic)]

use breaker_runtime::{circuit_breaker, CallError};
use std::future::Future;
use std::io;
use std::pin::Pin;

#[circuit_breaker]
async fn one_expression_async() -> Result<u8, io::Error> {
    Ok(1)
}

#[circuit_breaker]
fn one_expression_sync() -> Result<u8, io::Error> {
    Ok(1)
}

// The fallbacks are the user's code, written short: pedantic would rightly flag them, so they
// opt out; the annotated functions do not.
#[allow(clippy::unnecessary_wraps)]
fn cached(_error: CallError<io::Error>) -> Result<u8, io::Error> {
    Ok(0)
}

#[circuit_breaker(fallback = cached)]
fn with_fallback() -> Result<u8, io::Error> {
    Ok(1)
}

#[allow(clippy::unused_async)]
async fn cached_async(_flag: bool, _error: CallError<io::Error>) -> Result<u8, io::Error> {
    Ok(0)
}

#[circuit_breaker(fallback = cached_async, failure_threshold = 3, reset_timeout = "5s")]
async fn async_with_fallback(flag: bool) -> Result<u8, io::Error> {
    if flag {
        return Err(io::Error::other("down"));
    }
    Ok(1)
}

#[circuit_breaker]
fn boxed() -> Pin<Box<dyn Future<Output = Result<u8, io::Error>> + Send>> {
    Box::pin(async move { Ok(1) })
}

struct Repo {
    base: u8,
}

impl Repo {
    #[allow(clippy::unnecessary_wraps)]
    fn cached(&self, _error: CallError<io::Error>) -> Result<u8, io::Error> {
        Ok(self.base)
    }

    #[circuit_breaker(fallback = Self::cached)]
    fn get(&self) -> Result<u8, io::Error> {
        Ok(self.base + 1)
    }

    #[circuit_breaker]
    async fn get_async(&self) -> Result<u8, io::Error> {
        Ok(self.base)
    }
}

#[async_trait::async_trait]
trait Source {
    async fn read(&self) -> Result<u8, io::Error>;
}

#[async_trait::async_trait]
impl Source for Repo {
    #[circuit_breaker]
    async fn read(&self) -> Result<u8, io::Error> {
        Ok(self.base)
    }
}

#[tokio::test]
async fn every_shape_runs() {
    assert_eq!(one_expression_async().await.unwrap(), 1);
    assert_eq!(one_expression_sync().unwrap(), 1);
    assert_eq!(with_fallback().unwrap(), 1);
    assert_eq!(async_with_fallback(false).await.unwrap(), 1);
    assert_eq!(async_with_fallback(true).await.unwrap(), 0);
    assert_eq!(boxed().await.unwrap(), 1);
    let repo = Repo { base: 4 };
    assert_eq!(repo.get().unwrap(), 5);
    assert_eq!(repo.get_async().await.unwrap(), 4);
    assert_eq!(repo.read().await.unwrap(), 4);
    assert_eq!(error_without_display(true).unwrap(), 1);
    assert!(matches!(error_without_display(false), Err(Opaque::Down)));
    assert!(matches!(
        generic_error(Opaque::Down).await,
        Err(Opaque::Down)
    ));
}

/// An error type with no `Display`: the expansion picks "no cause" for it without a lint.
#[derive(Debug)]
pub enum Opaque {
    /// The dependency failed.
    Down,
    /// The breaker refused the call.
    Refused,
}

impl From<breaker_runtime::BreakerError> for Opaque {
    fn from(_: breaker_runtime::BreakerError) -> Self {
        Opaque::Refused
    }
}

#[circuit_breaker]
fn error_without_display(up: bool) -> Result<u8, Opaque> {
    if up {
        Ok(1)
    } else {
        Err(Opaque::Down)
    }
}

#[circuit_breaker]
async fn generic_error<E: From<breaker_runtime::BreakerError>>(err: E) -> Result<u8, E> {
    Err(err)
}
