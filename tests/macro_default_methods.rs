//! A trait's default method and a blanket impl's method, annotated without a `name`: one
//! breaker per implementing type, named `<Type as Trait>::method`. One `static` serves every `Self` there, and
//! used to hand every implementor the breaker of whichever type called first, so `B`, which
//! never failed, was rejected because `A` had opened it (issue 13, item 3).

use breaker_runtime::{circuit_breaker, registry, BreakerError, State};

#[derive(Debug, PartialEq)]
enum Error {
    Down,
    Breaker(String),
}

impl From<BreakerError> for Error {
    fn from(e: BreakerError) -> Self {
        Error::Breaker(e.to_string())
    }
}

trait Fetch {
    fn healthy(&self) -> bool;

    #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
    fn fetch(&self) -> Result<u8, Error> {
        if self.healthy() {
            Ok(1)
        } else {
            Err(Error::Down)
        }
    }
}

struct A;
struct B;

impl Fetch for A {
    fn healthy(&self) -> bool {
        false
    }
}

impl Fetch for B {
    fn healthy(&self) -> bool {
        true
    }
}

#[test]
fn a_default_method_has_a_breaker_per_implementor() {
    assert_eq!(A.fetch(), Err(Error::Down));
    assert!(
        matches!(A.fetch(), Err(Error::Breaker(_))),
        "A's breaker is open"
    );
    assert_eq!(B.fetch(), Ok(1), "B never failed: its breaker is its own");

    let names: Vec<String> = registry().snapshot().into_iter().map(|s| s.name).collect();
    let a = "<macro_default_methods::A as macro_default_methods::Fetch>::fetch";
    let b = "<macro_default_methods::B as macro_default_methods::Fetch>::fetch";
    assert!(names.iter().any(|n| n == a), "{names:?}");
    assert!(names.iter().any(|n| n == b), "{names:?}");
    assert_eq!(registry().get(a).unwrap().state(), State::Open);
    assert_eq!(registry().get(b).unwrap().state(), State::Closed);
    assert!(
        !names.iter().any(|n| n.contains("Fetch::fetch")),
        "no breaker named after the trait alone: {names:?}"
    );
}

trait Ping {
    fn ping(&self) -> Result<u8, Error>;
}

struct Up;
struct Flaky;

trait Health {
    fn up(&self) -> bool;
}

impl Health for Up {
    fn up(&self) -> bool {
        true
    }
}

impl Health for Flaky {
    fn up(&self) -> bool {
        false
    }
}

impl<T: Health> Ping for T {
    #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
    fn ping(&self) -> Result<u8, Error> {
        if self.up() {
            Ok(1)
        } else {
            Err(Error::Down)
        }
    }
}

#[test]
fn a_blanket_impl_has_a_breaker_per_type() {
    assert_eq!(Flaky.ping(), Err(Error::Down));
    assert!(matches!(Flaky.ping(), Err(Error::Breaker(_))));
    assert_eq!(Up.ping(), Ok(1));
    assert_eq!(Up.ping(), Ok(1));
    let flaky = "<macro_default_methods::Flaky as macro_default_methods::Ping>::ping";
    let up = "<macro_default_methods::Up as macro_default_methods::Ping>::ping";
    assert_eq!(registry().get(flaky).unwrap().state(), State::Open);
    assert_eq!(registry().get(up).unwrap().state(), State::Closed);
}
