//! Review 3: methods declared at start (concrete trait impls, inherent methods with a
//! visibility): looks, forced opens, removals, config and env before the first call, and
//! races between the first call and the first look. Alone in its binary (config layers).
#![cfg(feature = "config")]
#![allow(missing_docs)]

use breaker_runtime::{circuit_breaker, config, registry, BreakerError, State};
use std::sync::Barrier;

#[derive(Debug, PartialEq)]
pub enum E {
    Down,
    Breaker,
}

impl From<BreakerError> for E {
    fn from(_: BreakerError) -> Self {
        E::Breaker
    }
}

pub struct Svc;

pub trait Api {
    fn forced(&self) -> Result<u8, E>;
    fn env(&self, up: bool) -> Result<u8, E>;
    fn file(&self, up: bool) -> Result<u8, E>;
    fn raced(&self) -> Result<u8, E>;
}

impl Api for Svc {
    #[circuit_breaker(reset_timeout = "1h")]
    fn forced(&self) -> Result<u8, E> {
        Ok(1)
    }
    #[circuit_breaker(failure_threshold = 5, reset_timeout = "1h")]
    fn env(&self, up: bool) -> Result<u8, E> {
        if up {
            Ok(1)
        } else {
            Err(E::Down)
        }
    }
    #[circuit_breaker(failure_threshold = 5, reset_timeout = "1h")]
    fn file(&self, up: bool) -> Result<u8, E> {
        if up {
            Ok(1)
        } else {
            Err(E::Down)
        }
    }
    #[circuit_breaker(reset_timeout = "1h")]
    fn raced(&self) -> Result<u8, E> {
        Ok(1)
    }
}

impl Svc {
    #[circuit_breaker(reset_timeout = "1h")]
    pub fn removed(&self) -> Result<u8, E> {
        Ok(1)
    }
    #[circuit_breaker(reset_timeout = "1h")]
    pub(crate) async fn later(&self) -> Result<u8, E> {
        Ok(2)
    }
}

const FORCED: &str = "<review3_declared::Svc as review3_declared::Api>::forced";
const ENV: &str = "<review3_declared::Svc as review3_declared::Api>::env";
const FILE: &str = "<review3_declared::Svc as review3_declared::Api>::file";
const RACED: &str = "<review3_declared::Svc as review3_declared::Api>::raced";
const REMOVED: &str = "review3_declared::Svc::removed";
const LATER: &str = "review3_declared::Svc::later";

#[test]
fn a_trait_impl_method_forced_open_before_its_first_call_rejects_it() {
    assert!(registry().names().iter().any(|n| n == FORCED));
    registry().get(FORCED).expect(FORCED).force_open();
    assert_eq!(Svc.forced(), Err(E::Breaker));
}

#[tokio::test]
async fn an_async_inherent_method_forced_open_before_its_first_call_rejects_it() {
    registry().get(LATER).expect(LATER).force_open();
    assert_eq!(Svc.later().await, Err(E::Breaker));
}

#[test]
fn env_and_file_settings_for_trait_impl_names_apply_before_the_first_call() {
    config::load_vars_into(
        registry(),
        [(
            "BREAKER_REVIEW3_DECLARED_SVC_AS_REVIEW3_DECLARED_API_ENV_FAILURE_THRESHOLD",
            "1",
        )],
    )
    .unwrap();
    // One load for the whole binary: each load replaces the file layer.
    config::load_str(&format!(
        "[breakers.\"{FILE}\"]\nfailure_threshold = 1\n\
         [breakers.\"<review3_declared::X as review3_declared::Dflt>::dflt\"]\nfailure_threshold = 1\n\
         [breakers.\"<review3_declared::G<u8> as review3_declared::GenApi>::gen\"]\nfailure_threshold = 1\n"
    ))
    .unwrap();
    assert_eq!(Svc.env(false), Err(E::Down));
    assert_eq!(
        registry().get(ENV).unwrap().state(),
        State::Open,
        "env var by the spelled name"
    );
    assert_eq!(Svc.file(false), Err(E::Down));
    assert_eq!(
        registry().get(FILE).unwrap().state(),
        State::Open,
        "file table by the name"
    );
    settings_for_per_type_names_apply_at_the_first_call();
}

#[test]
fn first_calls_and_first_looks_racing_find_one_breaker() {
    let barrier = Barrier::new(8);
    let found: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..8)
            .map(|i| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    if i % 2 == 0 {
                        let _ = Svc.raced();
                        None
                    } else {
                        Some(registry().get(RACED).unwrap())
                    }
                })
            })
            .collect();
        hs.into_iter().filter_map(|h| h.join().unwrap()).collect()
    });
    for b in &found {
        assert!(std::sync::Arc::ptr_eq(b, &found[0]));
    }
    found[0].force_open();
    assert_eq!(
        Svc.raced(),
        Err(E::Breaker),
        "the function's breaker is the one looked at"
    );
}

#[test]
fn a_declared_method_removed_before_its_first_call_comes_back_with_it() {
    assert!(registry().names().iter().any(|n| n == REMOVED));
    let _ = registry().get(REMOVED).unwrap();
    assert!(registry().remove(REMOVED).is_some());
    assert!(!registry().names().iter().any(|n| n == REMOVED));
    assert_eq!(Svc.removed(), Ok(1));
    let b = registry()
        .get(REMOVED)
        .expect("registered again by its first call");
    b.force_open();
    assert_eq!(
        Svc.removed(),
        Err(E::Breaker),
        "the registry's breaker is the function's"
    );
}

pub trait Dflt {
    #[circuit_breaker(failure_threshold = 5, reset_timeout = "1h")]
    fn dflt(&self, up: bool) -> Result<u8, E> {
        if up {
            Ok(1)
        } else {
            Err(E::Down)
        }
    }
}
pub struct X;
impl Dflt for X {}

pub struct G<T>(T);
pub trait GenApi {
    fn gen(&self, up: bool) -> Result<u8, E>;
}
impl<T> GenApi for G<T> {
    #[circuit_breaker(failure_threshold = 5, reset_timeout = "1h")]
    fn gen(&self, up: bool) -> Result<u8, E> {
        if up {
            Ok(1)
        } else {
            Err(E::Down)
        }
    }
}

/// Names that need `Self` are registered at the first call; a file table and an env var
/// loaded before it apply then.
fn settings_for_per_type_names_apply_at_the_first_call() {
    assert_eq!(X.dflt(false), Err(E::Down));
    assert_eq!(X.dflt(true), Err(E::Breaker), "{:?}", registry().names());
    assert_eq!(G(1u8).gen(false), Err(E::Down));
    assert_eq!(
        G(1u8).gen(true),
        Err(E::Breaker),
        "{:?}",
        registry().names()
    );
    assert_eq!(G(1u16).gen(false), Err(E::Down));
    assert_eq!(
        G(1u16).gen(true),
        Ok(1),
        "u16 has its own breaker with threshold 5"
    );
}

#[async_trait::async_trait]
pub trait AsyncApi {
    async fn fetch(&self) -> Result<u8, E>;
}

#[async_trait::async_trait]
impl AsyncApi for Svc {
    #[circuit_breaker(reset_timeout = "1h")]
    async fn fetch(&self) -> Result<u8, E> {
        Ok(3)
    }
}

/// An `#[async_trait]` impl's method: listed from the start under its trait-impl name, and
/// forcing that breaker open rejects its first call.
#[tokio::test]
async fn an_async_trait_impl_method_forced_open_before_its_first_call_rejects_it() {
    let name = "<review3_declared::Svc as review3_declared::AsyncApi>::fetch";
    registry().get(name).expect(name).force_open();
    assert_eq!(Svc.fetch().await, Err(E::Breaker));
}
