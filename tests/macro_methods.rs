//! `#[circuit_breaker]` on methods with every receiver, associated functions, generic
//! functions and impls, and the default names of methods.

mod common;

use breaker_runtime::{circuit_breaker, registry, State};
use common::{is_open, AppError as Error};
use std::fmt::Display;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

#[derive(Default)]
struct Client {
    up: bool,
    runs: u32,
}

impl Client {
    #[circuit_breaker(name = "m-ref", failure_threshold = 1, reset_timeout = "5s")]
    async fn by_ref(&self) -> Result<u32, Error> {
        if self.up {
            Ok(1)
        } else {
            Err(Error::Down)
        }
    }

    #[circuit_breaker(name = "m-mut", failure_threshold = 1, reset_timeout = "5s")]
    async fn by_mut(&mut self) -> Result<u32, Error> {
        self.runs += 1;
        if self.up {
            Ok(self.runs)
        } else {
            Err(Error::Down)
        }
    }

    #[circuit_breaker(name = "m-value", failure_threshold = 1, reset_timeout = "5s")]
    fn by_value(self) -> Result<Self, Error> {
        if self.up {
            Ok(self)
        } else {
            Err(Error::Down)
        }
    }

    #[circuit_breaker(name = "m-arc", failure_threshold = 1, reset_timeout = "5s")]
    async fn by_arc(self: Arc<Self>) -> Result<u32, Error> {
        if self.up {
            Ok(Arc::strong_count(&self) as u32)
        } else {
            Err(Error::Down)
        }
    }

    #[circuit_breaker(name = "m-pin", failure_threshold = 1, reset_timeout = "5s")]
    fn by_pin(mut self: Pin<&mut Self>) -> Result<u32, Error> {
        self.runs += 1;
        if self.up {
            Ok(self.runs)
        } else {
            Err(Error::Down)
        }
    }

    #[circuit_breaker(name = "m-assoc", failure_threshold = 1, reset_timeout = "5s")]
    fn connect(up: bool) -> Result<Client, Error> {
        if up {
            Ok(Client { up, runs: 0 })
        } else {
            Err(Error::Down)
        }
    }

    /// Default names: `Self` is known through the receiver.
    #[circuit_breaker]
    fn named_by_default(&self) -> Result<(), Error> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn every_receiver_opens_and_recovers() {
    let up = Client { up: true, runs: 0 };
    let mut down = Client::default();

    // &self
    assert_eq!(down.by_ref().await, Err(Error::Down));
    assert!(is_open(&up.by_ref().await));
    // &mut self: the rejected call did not run the body.
    assert_eq!(down.by_mut().await, Err(Error::Down));
    assert!(is_open(&down.by_mut().await));
    assert_eq!(down.runs, 1);
    // self
    assert!(Client::default().by_value().is_err());
    assert!(is_open(&Client { up: true, runs: 0 }.by_value()));
    // self: Arc<Self>
    assert_eq!(Arc::new(Client::default()).by_arc().await, Err(Error::Down));
    assert!(is_open(
        &Arc::new(Client { up: true, runs: 0 }).by_arc().await
    ));
    // self: Pin<&mut Self>
    let mut pinned = Client::default();
    assert_eq!(Pin::new(&mut pinned).by_pin(), Err(Error::Down));
    assert!(is_open(&Pin::new(&mut pinned).by_pin()));
    assert_eq!(pinned.runs, 1);
    // no receiver
    assert!(Client::connect(false).is_err());
    assert!(is_open(&Client::connect(true)));

    for name in ["m-ref", "m-mut", "m-value", "m-arc", "m-pin", "m-assoc"] {
        assert_eq!(registry().get(name).unwrap().state(), State::Open, "{name}");
    }
    tokio::time::advance(Duration::from_secs(5)).await;

    let mut up = Client { up: true, runs: 0 };
    assert_eq!(up.by_ref().await, Ok(1));
    assert_eq!(up.by_mut().await, Ok(1));
    assert!(Client { up: true, runs: 0 }.by_value().is_ok());
    assert_eq!(Arc::new(Client { up: true, runs: 0 }).by_arc().await, Ok(1));
    assert_eq!(Pin::new(&mut up).by_pin(), Ok(2));
    assert!(Client::connect(true).is_ok());
}

struct Other;

impl Other {
    #[circuit_breaker]
    fn named_by_default(&self) -> Result<(), Error> {
        Ok(())
    }
}

#[test]
fn methods_of_two_types_get_their_own_default_names() {
    Client::default().named_by_default().unwrap();
    Other.named_by_default().unwrap();
    let names = registry().names();
    assert!(
        names
            .iter()
            .any(|n| n == "macro_methods::Client::named_by_default"),
        "{names:?}"
    );
    // `Other` has a trait method of the same name too (below): one of the two keeps the plain
    // name, the other gets its location appended, depending on which test calls first.
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("macro_methods::Other::named_by_default")),
        "{names:?}"
    );
}

/// Generic impl, generic method, `where` clause, explicit lifetimes, `impl Trait` argument
/// and an `impl Trait` inside the `Result`.
struct Store<T> {
    items: Vec<T>,
}

impl<T: Clone + Display> Store<T> {
    #[circuit_breaker(failure_threshold = 2, reset_timeout = "1s")]
    async fn find<'a, K>(
        &'a self,
        key: K,
        fmt: impl Fn(&T) -> String,
    ) -> Result<impl Display + 'a, Error>
    where
        K: Into<usize> + Copy,
    {
        let index: usize = key.into();
        match self.items.get(index) {
            Some(item) => Ok(fmt(item)),
            None => Err(Error::Down),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn generic_impls_share_one_breaker_across_instantiations() {
    let numbers = Store {
        items: vec![1u32, 2],
    };
    let words = Store {
        items: vec!["a".to_owned()],
    };
    assert_eq!(
        numbers
            .find(1u8, |n| format!("#{n}"))
            .await
            .unwrap()
            .to_string(),
        "#2"
    );
    assert_eq!(
        words
            .find(0u8, |w| w.to_uppercase())
            .await
            .unwrap()
            .to_string(),
        "A"
    );
    // Two failures, one through each instantiation: one breaker, so it opens.
    assert!(numbers.find(9u8, |n| n.to_string()).await.is_err());
    assert!(words.find(9u8, |w| w.clone()).await.is_err());
    assert!(is_open(
        &numbers
            .find(0u8, |n| n.to_string())
            .await
            .map(|d| d.to_string())
    ));
    let breaker = registry()
        .get("macro_methods::Store::find")
        .expect("generic args are left out of the name");
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(breaker.metrics().failures, 2);
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(
        words.find(0u8, |w| w.clone()).await.unwrap().to_string(),
        "a"
    );
}

#[circuit_breaker(name = "generic-free", failure_threshold = 1)]
fn first<T: Clone, I>(items: I) -> Result<T, Error>
where
    I: IntoIterator<Item = T>,
{
    items.into_iter().next().ok_or(Error::Down)
}

#[test]
fn generic_free_fn() {
    assert_eq!(first(vec![3]), Ok(3));
    assert_eq!(first(Vec::<String>::new()), Err(Error::Down));
    assert!(is_open(&first("ab".chars())));
}

trait Named {
    fn named_by_default(&self) -> Result<(), Error>;
}

/// `Other` already has an inherent `named_by_default`; the trait's method is another
/// function, named as the contract says, `<Type as Trait>::method`: two breakers, neither
/// renamed (they used to derive one default name, the second getting its location appended).
impl Named for Other {
    #[circuit_breaker]
    fn named_by_default(&self) -> Result<(), Error> {
        Err(Error::Down)
    }
}

#[test]
fn an_inherent_and_a_trait_method_of_one_name_stay_apart() {
    Other.named_by_default().unwrap();
    assert_eq!(Named::named_by_default(&Other), Err(Error::Down));
    let names = registry().names();
    let inherent = registry()
        .get("macro_methods::Other::named_by_default")
        .unwrap_or_else(|| panic!("{names:?}"));
    let of_trait = registry()
        .get("<macro_methods::Other as macro_methods::Named>::named_by_default")
        .unwrap_or_else(|| panic!("{names:?}"));
    assert_eq!(inherent.metrics().successes, 1);
    assert_eq!(of_trait.metrics().failures, 1);
    assert!(!names.iter().any(|n| n.contains('@')), "{names:?}");
}
