//! Default names of annotated methods, and which are known from the program's start.
//!
//! The contract's default name is the function's path: `app::net::Client::fetch` in an
//! inherent impl, `<app::Client as app::Api>::get` in a trait impl (a trait impl's method
//! used to be named after the type alone, as if inherent). A method whose path alone gives
//! its name (a trait impl for a concrete type, or a method with a visibility, which only an
//! inherent impl can have) is listed from the start, so an operator can force it open
//! before its first call; one whose name depends on `Self` (a trait's default method, a
//! blanket impl) is registered at its first call, for that type.

use breaker_runtime::{circuit_breaker, registry, BreakerError, State};

#[derive(Debug, PartialEq)]
pub(crate) enum Error {
    Down,
    Breaker,
}

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error::Breaker
    }
}

fn listed(name: &str) -> bool {
    registry().names().iter().any(|n| n == name)
}

// ---- Known from the start ----

/// In a module, as services have them (and so `pub` asks no docs of this test).
mod app {
    use super::Error;
    use async_trait::async_trait;
    use breaker_runtime::circuit_breaker;

    pub struct Orders;

    impl Orders {
        #[circuit_breaker(failure_threshold = 1)]
        pub async fn get(&self, id: u32) -> Result<u32, Error> {
            Ok(id)
        }

        #[circuit_breaker]
        pub(crate) fn count(&self) -> Result<u32, Error> {
            Ok(7)
        }
    }

    pub trait Store {
        fn load(&self) -> Result<u32, Error>;
        fn save(&self) -> impl std::future::Future<Output = Result<u32, Error>> + Send;
    }

    impl Store for Orders {
        #[circuit_breaker]
        fn load(&self) -> Result<u32, Error> {
            Ok(1)
        }

        #[circuit_breaker]
        async fn save(&self) -> Result<u32, Error> {
            Ok(2)
        }
    }

    #[async_trait]
    pub trait Remote {
        async fn fetch(&self) -> Result<u32, Error>;
    }

    #[async_trait]
    impl Remote for Orders {
        #[circuit_breaker]
        async fn fetch(&self) -> Result<u32, Error> {
            Ok(3)
        }
    }

    pub struct Cache<T>(pub T);

    impl<T: Clone + Send + Sync> Cache<T> {
        #[circuit_breaker]
        pub fn peek(&self) -> Result<T, Error> {
            Ok(self.0.clone())
        }
    }
}

use app::{Cache, Orders, Remote, Store};

#[tokio::test]
async fn methods_whose_path_gives_their_name_are_known_before_their_first_call() {
    for name in [
        "macro_method_names::app::Orders::get",
        "macro_method_names::app::Orders::count",
        "<macro_method_names::app::Orders as macro_method_names::app::Store>::load",
        "<macro_method_names::app::Orders as macro_method_names::app::Store>::save",
        "<macro_method_names::app::Orders as macro_method_names::app::Remote>::fetch",
        "macro_method_names::app::Cache::peek",
    ] {
        assert!(listed(name), "{name} in {:?}", registry().names());
    }

    // An operator forces one open at start-up; the first call is rejected.
    let get = registry()
        .get("macro_method_names::app::Orders::get")
        .unwrap();
    get.force_open();
    assert_eq!(Orders.get(1).await, Err(Error::Breaker));
    assert_eq!(get.metrics().rejected, 1);
    get.close();
    assert_eq!(Orders.get(1).await, Ok(1));

    // Each call reaches the breaker the look built.
    let load = registry()
        .get("<macro_method_names::app::Orders as macro_method_names::app::Store>::load")
        .unwrap();
    load.force_open();
    assert_eq!(Orders.load(), Err(Error::Breaker));
    load.close();
    assert_eq!(Orders.save().await, Ok(2));
    assert_eq!(Orders.fetch().await, Ok(3));
    assert_eq!(Orders.count(), Ok(7));
    assert_eq!(Cache(5u8).peek(), Ok(5));
    assert_eq!(Cache("a").peek(), Ok("a"));
    let peek = registry()
        .get("macro_method_names::app::Cache::peek")
        .unwrap();
    assert_eq!(
        peek.metrics().successes,
        2,
        "instantiations share one breaker"
    );
    let save = registry()
        .get("<macro_method_names::app::Orders as macro_method_names::app::Store>::save")
        .unwrap();
    assert_eq!(save.metrics().successes, 1);
}

// ---- Known at the first call ----

struct Private;

impl Private {
    /// Private: its path could be a trait's default method's, so only `Self` can tell.
    #[circuit_breaker]
    fn hidden(&self) -> Result<u32, Error> {
        Ok(4)
    }
}

trait Probe {
    fn healthy(&self) -> bool;

    #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
    fn probe(&self) -> Result<u32, Error> {
        if self.healthy() {
            Ok(5)
        } else {
            Err(Error::Down)
        }
    }
}

struct Up;
struct Down;

impl Probe for Up {
    fn healthy(&self) -> bool {
        true
    }
}

impl Probe for Down {
    fn healthy(&self) -> bool {
        false
    }
}

#[test]
fn methods_whose_name_needs_self_appear_at_their_first_call() {
    let hidden = "macro_method_names::Private::hidden";
    assert!(!listed(hidden));
    assert!(registry().names().iter().all(|n| !n.contains("Probe")));
    assert_eq!(Private.hidden(), Ok(4));
    assert!(listed(hidden));

    assert_eq!(Down.probe(), Err(Error::Down));
    assert_eq!(Down.probe(), Err(Error::Breaker));
    assert_eq!(Up.probe(), Ok(5));
    let down = "<macro_method_names::Down as macro_method_names::Probe>::probe";
    let up = "<macro_method_names::Up as macro_method_names::Probe>::probe";
    assert_eq!(registry().get(down).unwrap().state(), State::Open);
    assert_eq!(registry().get(up).unwrap().state(), State::Closed);
}
