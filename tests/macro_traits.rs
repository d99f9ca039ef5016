//! `#[circuit_breaker]` on trait impl methods: native `async fn` in traits, and methods of an
//! `#[async_trait]` impl (whose expansion the attribute sees and opens up).

mod common;

use async_trait::async_trait;
use breaker_runtime::{circuit_breaker, registry, CallError, State};
use common::{is_open, AppError as Error};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[async_trait]
trait Quotes {
    async fn quote(&self, symbol: &str) -> Result<u32, Error>;
    async fn quote_owned(&self, symbol: String) -> Result<u32, Error>;
    async fn shared(self: Arc<Self>) -> Result<u32, Error>;
    async fn with_fallback(&self, symbol: String, n: u32) -> Result<u32, Error>;
}

struct Service {
    up: bool,
    runs: AtomicU32,
}

#[async_trait]
impl Quotes for Service {
    #[circuit_breaker(name = "at-quote", failure_threshold = 2, reset_timeout = "3s")]
    async fn quote(&self, symbol: &str) -> Result<u32, Error> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        if self.up {
            Ok(symbol.len() as u32)
        } else {
            Err(Error::Down)
        }
    }

    /// Default name: `Self` is known inside async-trait's output.
    #[circuit_breaker(failure_threshold = 1)]
    async fn quote_owned(&self, symbol: String) -> Result<u32, Error> {
        let len = symbol.len() as u32;
        drop(symbol);
        if self.up {
            Ok(len)
        } else {
            Err(Error::Down)
        }
    }

    #[circuit_breaker(name = "at-arc", failure_threshold = 1)]
    async fn shared(self: Arc<Self>) -> Result<u32, Error> {
        if self.up {
            Ok(1)
        } else {
            Err(Error::Down)
        }
    }

    /// A fallback gets `self` and the owned argument back, after the body only borrowed them.
    #[circuit_breaker(name = "at-fallback", failure_threshold = 1, fallback = Self::cached)]
    async fn with_fallback(&self, symbol: String, n: u32) -> Result<u32, Error> {
        if self.up {
            Ok(symbol.len() as u32 + n)
        } else {
            Err(Error::Down)
        }
    }
}

impl Service {
    async fn cached(&self, symbol: String, n: u32, err: CallError<Error>) -> Result<u32, Error> {
        let _ = self;
        Ok(if err.is_circuit_open() { 1000 } else { 100 } + symbol.len() as u32 + n)
    }
}

#[tokio::test(start_paused = true)]
async fn async_trait_methods_open_reject_and_recover() {
    let down = Service {
        up: false,
        runs: AtomicU32::new(0),
    };
    assert_eq!(down.quote("ab").await, Err(Error::Down));
    assert_eq!(down.quote("ab").await, Err(Error::Down));
    assert!(is_open(&down.quote("ab").await));
    assert_eq!(
        down.runs.load(Ordering::SeqCst),
        2,
        "a rejected call does not run the body"
    );
    let breaker = registry().get("at-quote").unwrap();
    assert_eq!(breaker.state(), State::Open);

    tokio::time::advance(Duration::from_secs(3)).await;
    let up = Service {
        up: true,
        runs: AtomicU32::new(0),
    };
    assert_eq!(up.quote("abc").await, Ok(3));
    assert_eq!(up.quote("abc").await, Ok(3));
    assert_eq!(breaker.state(), State::Closed);

    assert_eq!(down.quote_owned("x".into()).await, Err(Error::Down));
    assert!(is_open(&up.quote_owned("x".into()).await));
    let names = registry().names();
    assert!(
        names
            .iter()
            .any(|n| n == "<macro_traits::Service as macro_traits::Quotes>::quote_owned"),
        "{names:?}"
    );

    assert_eq!(
        Arc::new(Service {
            up: false,
            runs: AtomicU32::new(0)
        })
        .shared()
        .await,
        Err(Error::Down)
    );
    assert!(is_open(
        &Arc::new(Service {
            up: true,
            runs: AtomicU32::new(0)
        })
        .shared()
        .await
    ));

    assert_eq!(up.with_fallback("ab".into(), 1).await, Ok(3));
    assert_eq!(
        down.with_fallback("ab".into(), 1).await,
        Ok(103),
        "failure: fallback"
    );
    assert_eq!(
        up.with_fallback("ab".into(), 1).await,
        Ok(1003),
        "rejected: fallback"
    );
}

/// The futures of async-trait methods stay `Send` (async-trait requires it, so this compiles
/// only if the rewritten body is `Send`).
fn _send(service: &'static Service) -> impl std::future::Future + Send {
    service.quote("x")
}

trait Prices {
    async fn price(&self, id: u32) -> Result<u32, Error>;
    fn price_now(&self, id: u32) -> Result<u32, Error>;
}

struct Native {
    up: bool,
}

impl Prices for Native {
    #[circuit_breaker(name = "native-async", failure_threshold = 1, reset_timeout = "2s")]
    async fn price(&self, id: u32) -> Result<u32, Error> {
        tokio::task::yield_now().await;
        if self.up {
            Ok(id * 2)
        } else {
            Err(Error::Down)
        }
    }

    #[circuit_breaker(name = "native-sync", failure_threshold = 1, reset_timeout = "2s")]
    fn price_now(&self, id: u32) -> Result<u32, Error> {
        if self.up {
            Ok(id * 3)
        } else {
            Err(Error::Down)
        }
    }
}

#[tokio::test(start_paused = true)]
async fn native_async_fn_in_trait() {
    let (up, down) = (Native { up: true }, Native { up: false });
    assert_eq!(down.price(1).await, Err(Error::Down));
    assert!(is_open(&up.price(1).await));
    assert_eq!(down.price_now(1), Err(Error::Down));
    assert!(is_open(&up.price_now(1)));
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(up.price(2).await, Ok(4));
    assert_eq!(up.price_now(2), Ok(6));
}
