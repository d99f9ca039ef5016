//! A fallback keeps an async fn's future `Send`: arguments that are `Send` but not `Sync`
//! (a `Cell`, a `Box<dyn Fn() + Send>`) used across an await, on a multi-thread runtime.

use async_trait::async_trait;
use breaker_runtime::{circuit_breaker, BreakerError, CallError};
use std::cell::Cell;

#[derive(Debug, PartialEq)]
enum Error {
    Down,
    Breaker(BreakerError),
}

impl From<BreakerError> for Error {
    fn from(e: BreakerError) -> Self {
        Error::Breaker(e)
    }
}

type Hook = Box<dyn Fn() -> u32 + Send>;

#[circuit_breaker(name = "send-free", fallback = from_cache)]
async fn add(counter: Cell<u32>, hook: Hook, up: bool) -> Result<u32, Error> {
    counter.set(counter.get() + hook());
    tokio::task::yield_now().await;
    counter.set(counter.get() + hook());
    if up {
        Ok(counter.get())
    } else {
        Err(Error::Down)
    }
}

async fn from_cache(
    counter: Cell<u32>,
    hook: Hook,
    _up: bool,
    _: CallError<Error>,
) -> Result<u32, Error> {
    tokio::task::yield_now().await;
    Ok(100 + counter.get() + hook())
}

struct Service;

impl Service {
    #[circuit_breaker(name = "send-method", fallback = Self::cached_add)]
    async fn add(&self, counter: Cell<u32>, up: bool) -> Result<u32, Error> {
        counter.set(counter.get() + 1);
        tokio::task::yield_now().await;
        if up {
            Ok(counter.get())
        } else {
            Err(Error::Down)
        }
    }

    async fn cached_add(
        &self,
        counter: Cell<u32>,
        _up: bool,
        _: CallError<Error>,
    ) -> Result<u32, Error> {
        Ok(100 + counter.get())
    }
}

#[async_trait]
trait Adder {
    async fn add(&self, counter: Cell<u32>, up: bool) -> Result<u32, Error>;
}

#[async_trait]
impl Adder for Service {
    #[circuit_breaker(name = "send-async-trait", fallback = Self::cached)]
    async fn add(&self, counter: Cell<u32>, up: bool) -> Result<u32, Error> {
        counter.set(counter.get() + 1);
        tokio::task::yield_now().await;
        if up {
            Ok(counter.get())
        } else {
            Err(Error::Down)
        }
    }
}

impl Service {
    async fn cached(
        &self,
        counter: Cell<u32>,
        _up: bool,
        _: CallError<Error>,
    ) -> Result<u32, Error> {
        Ok(200 + counter.get())
    }
}

fn assert_send<F: std::future::Future + Send>(f: F) -> F {
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_future_of_a_function_with_a_fallback_is_send() {
    let hook: Hook = Box::new(|| 2);
    let live = tokio::spawn(assert_send(add(Cell::new(1), hook, true)));
    assert_eq!(live.await.unwrap(), Ok(5));
    let hook: Hook = Box::new(|| 2);
    let failed = tokio::spawn(add(Cell::new(1), hook, false));
    assert_eq!(failed.await.unwrap(), Ok(107));

    let service = std::sync::Arc::new(Service);
    let s = service.clone();
    let method = tokio::spawn(async move { Service::add(&s, Cell::new(1), false).await });
    assert_eq!(method.await.unwrap(), Ok(102));
    let s = service.clone();
    let trait_method = tokio::spawn(async move { Adder::add(&*s, Cell::new(1), false).await });
    assert_eq!(trait_method.await.unwrap(), Ok(202));
}
