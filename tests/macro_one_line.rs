//! Functions written on one line, `{ Ok(1) }`, as a new user's first try often is: the
//! expansion put that body in braces of its own, and rustc warned "unnecessary braces around
//! block return value" on the user's function, with a suggestion (`cargo fix` applies it)
//! that deletes the function's braces and breaks it. rustfmt would spread these over lines,
//! which hides the warning, so they keep their shape with `#[rustfmt::skip]`. This file
//! denies every warning: it compiles only if the expansion adds none.
#![deny(warnings)]

use breaker_runtime::{circuit_breaker, CallError};
use std::io;

#[rustfmt::skip]
#[circuit_breaker(name = "one-line-async", failure_threshold = 1)]
async fn one_line_async(up: bool) -> Result<u8, io::Error> { if up { Ok(1) } else { Err(io::Error::other("down")) } }

#[rustfmt::skip]
#[circuit_breaker(name = "one-line-sync")]
fn one_line_sync() -> Result<u8, io::Error> { Ok(2) }

#[rustfmt::skip]
#[allow(clippy::unnecessary_wraps)]
fn cached(_up: bool, _error: CallError<io::Error>) -> Result<u8, io::Error> { Ok(0) }

#[rustfmt::skip]
#[circuit_breaker(name = "one-line-fallback", failure_threshold = 1, fallback = cached)]
fn one_line_fallback(up: bool) -> Result<u8, io::Error> { if up { Ok(3) } else { Err(io::Error::other("down")) } }

struct Repo;

impl Repo {
    #[rustfmt::skip]
    #[allow(clippy::unused_async)]
    async fn cached(&self, _id: u8, _error: CallError<io::Error>) -> Result<u8, io::Error> { Ok(0) }

    #[rustfmt::skip]
    #[circuit_breaker(name = "one-line-method", fallback = Self::cached)]
    async fn get(&self, id: u8) -> Result<u8, io::Error> { match id { 0 => Err(io::Error::other("down")), n => Ok(n) } }
}

/// An `#[async_trait]` impl: the attribute sees async-trait's `let __ret: R = { Ok(7) };`.
#[async_trait::async_trait]
trait Remote {
    async fn get(&self) -> Result<u8, io::Error>;
    async fn get_or_cached(&self) -> Result<u8, io::Error>;
}

#[async_trait::async_trait]
impl Remote for Repo {
    #[rustfmt::skip]
    #[circuit_breaker(name = "one-line-async-trait")]
    async fn get(&self) -> Result<u8, io::Error> { Ok(7) }

    #[rustfmt::skip]
    #[circuit_breaker(name = "one-line-async-trait-fallback", fallback = Self::cached_trait)]
    async fn get_or_cached(&self) -> Result<u8, io::Error> { Ok(8) }
}

impl Repo {
    #[rustfmt::skip]
    #[allow(clippy::unused_async)]
    async fn cached_trait(&self, _error: CallError<io::Error>) -> Result<u8, io::Error> { Ok(0) }
}

#[tokio::test]
async fn one_line_bodies_run_under_the_breaker() {
    assert_eq!(Remote::get(&Repo).await.unwrap(), 7);
    assert_eq!(Repo.get_or_cached().await.unwrap(), 8);
    assert_eq!(one_line_async(true).await.unwrap(), 1);
    assert!(one_line_async(false).await.is_err());
    // Opened by the failure: rejected without running the body.
    let rejected = one_line_async(true).await.unwrap_err();
    assert!(
        rejected.to_string().contains("one-line-async"),
        "{rejected}"
    );
    assert_eq!(one_line_sync().unwrap(), 2);
    assert_eq!(one_line_fallback(true).unwrap(), 3);
    assert_eq!(one_line_fallback(false).unwrap(), 0);
    assert_eq!(Repo.get(9).await.unwrap(), 9);
    assert_eq!(Repo.get(0).await.unwrap(), 0);
}
