//! Review 3: more default method names: async-trait defaults, lifetimes in traits, boxed
//! closures as `Self`, impls in `const _` blocks and macro_rules, local traits.
#![allow(missing_docs)]
// Impls written inside fn bodies are what some of these cases are about.
#![allow(non_local_definitions)]

use async_trait::async_trait;
use breaker_runtime::{circuit_breaker, registry, BreakerError};

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

fn all() -> Vec<String> {
    registry().names().iter().map(|n| n.to_string()).collect()
}

#[async_trait]
pub trait Remote: Sync {
    fn up(&self) -> bool;
    #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
    async fn pull(&self) -> Result<u8, E> {
        if self.up() {
            Ok(1)
        } else {
            Err(E::Down)
        }
    }
}
pub struct A;
pub struct B;
impl Remote for A {
    fn up(&self) -> bool {
        false
    }
}
impl Remote for B {
    fn up(&self) -> bool {
        true
    }
}

#[tokio::test]
async fn an_async_trait_default_method_gets_one_breaker_per_type() {
    assert_eq!(A.pull().await, Err(E::Down));
    assert_eq!(B.pull().await, Ok(1), "{:?}", all());
    let names: Vec<String> = all().into_iter().filter(|n| n.contains("pull")).collect();
    assert_eq!(
        names,
        vec![
            "<review3_names2::A as review3_names2::Remote>::pull".to_string(),
            "<review3_names2::B as review3_names2::Remote>::pull".to_string()
        ]
    );
}

pub trait WithLife<'a> {
    fn lf(&self) -> Result<u8, E>;
}
impl<'a> WithLife<'a> for A {
    #[circuit_breaker]
    fn lf(&self) -> Result<u8, E> {
        Ok(1)
    }
}

pub trait Call {
    fn boxed(&self) -> Result<u8, E>;
}
impl Call for Box<dyn Fn(u8) -> u8 + Send> {
    #[circuit_breaker]
    fn boxed(&self) -> Result<u8, E> {
        Ok(self(1))
    }
}

const _: () = {
    impl B {
        #[circuit_breaker]
        pub fn in_const(&self) -> Result<u8, E> {
            Ok(1)
        }
    }
};

macro_rules! impls {
    ($($t:ident)*) => {$(
        impl $t {
            #[circuit_breaker]
            pub fn from_macro(&self) -> Result<u8, E> { Ok(1) }
        }
    )*};
}
impls!(A B);

fn outer() -> Result<u8, E> {
    trait Inner {
        #[circuit_breaker]
        fn inner_dflt(&self) -> Result<u8, E> {
            Ok(1)
        }
    }
    impl Inner for A {}
    A.inner_dflt()
}

#[test]
fn names_of_odd_places() {
    let f: Box<dyn Fn(u8) -> u8 + Send> = Box::new(|x| x + 1);
    assert_eq!(f.boxed(), Ok(2));
    assert_eq!(A.lf(), Ok(1));
    assert_eq!(A.from_macro(), Ok(1));
    assert_eq!(B.from_macro(), Ok(1));
    assert_eq!(outer(), Ok(1));
    let names = all();
    for want in [
        "<review3_names2::A as review3_names2::WithLife>::lf",
        "<alloc::boxed::Box<dyn core::ops::function::Fn(u8) -> u8 + core::marker::Send> as review3_names2::Call>::boxed",
        "review3_names2::A::from_macro",
        "review3_names2::B::from_macro",
        "<review3_names2::A as review3_names2::outer::Inner>::inner_dflt",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:#?}");
    }
}

/// An inherent impl in a `const _: () = { … };` block (how derive macros wrap what they
/// write): `type_name` prints its path as `…::_::<impl review3_names2::B>::in_const`, which
/// the parser reads as a trait's default method: the name becomes
/// `<review3_names2::B as review3_names2::_::<impl review3_names2::B>>::in_const`, and the
/// `pub` method is not listed from the start.
#[test]
fn an_inherent_impl_in_an_anonymous_const_is_named_by_its_type() {
    assert!(
        all().iter().any(|n| n == "review3_names2::B::in_const"),
        "not listed from the start: {:#?}",
        all()
    );
    assert_eq!(B.in_const(), Ok(1));
    assert!(
        all().iter().any(|n| n == "review3_names2::B::in_const"),
        "{:#?}",
        all()
    );
}

pub struct C;
fn impl_in_a_fn() -> Result<u8, E> {
    impl C {
        #[circuit_breaker]
        pub fn in_fn(&self) -> Result<u8, E> {
            Ok(1)
        }
    }
    C.in_fn()
}

/// An inherent impl written in a function body for a type outside it.
#[test]
fn an_inherent_impl_in_a_fn_body_is_named_by_its_type() {
    let before = all();
    assert_eq!(impl_in_a_fn(), Ok(1));
    assert!(
        all().iter().any(|n| n == "review3_names2::C::in_fn"),
        "before: {before:#?} after: {:#?}",
        all()
    );
}

pub struct D;
fn impl_in_a_fn_d() -> Result<u8, E> {
    impl D {
        #[circuit_breaker(reset_timeout = "1h")]
        pub fn in_fn_d(&self) -> Result<u8, E> {
            Ok(1)
        }
    }
    D.in_fn_d()
}

/// The contract: a breaker listed from the start is the one its function's first call uses
/// ("an operator can force it open at start-up"). Here the listed name is one breaker and
/// the first call makes another: forcing the listed one open rejects nothing.
#[test]
fn a_listed_inherent_method_in_a_fn_body_forced_open_rejects_its_first_call() {
    let listed: Vec<String> = all()
        .into_iter()
        .filter(|n| n.contains("in_fn_d"))
        .collect();
    assert_eq!(listed.len(), 1, "{listed:?}");
    registry().get(&listed[0]).unwrap().force_open();
    let r = impl_in_a_fn_d();
    let after: Vec<String> = all()
        .into_iter()
        .filter(|n| n.contains("in_fn_d"))
        .collect();
    assert_eq!(
        r,
        Err(E::Breaker),
        "listed {listed:?}, after the call {after:?}"
    );
}

pub trait Obj {}
impl Obj for u8 {}
impl dyn Obj {
    #[circuit_breaker(reset_timeout = "1h")]
    pub fn dyn_method(&self) -> Result<u8, E> {
        Ok(1)
    }
}

/// README: a method with a visibility (only an inherent impl has one) is listed from the
/// start. An inherent impl on `dyn Obj` is one; `type_name` gives its path as
/// `<dyn review3_names2::Obj>::dyn_method`, which the parser does not read, so it is named
/// at its first call (`dyn review3_names2::Obj::dyn_method`) and not listed before.
#[test]
#[ignore = "LIMIT (documented in the attribute's default names): a pub method of `impl dyn Trait` is not listed from the start, and is named `dyn crate::Obj::m` (not a Rust path)"]
fn a_pub_method_of_an_inherent_impl_on_a_trait_object_is_listed_from_the_start() {
    let listed: Vec<String> = all()
        .into_iter()
        .filter(|n| n.contains("dyn_method"))
        .collect();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let o: &dyn Obj = &1u8;
    assert_eq!(o.dyn_method(), Ok(1));
}

pub trait InConst {
    fn ic(&self) -> Result<u8, E>;
}
const _: () = {
    impl InConst for A {
        #[circuit_breaker]
        fn ic(&self) -> Result<u8, E> {
            Ok(1)
        }
    }
};

/// A trait impl in an anonymous const (what derive macros write) is named like any trait
/// impl and listed from the start.
#[test]
fn a_trait_impl_in_an_anonymous_const_is_named_as_a_trait_impl() {
    let want = "<review3_names2::A as review3_names2::InConst>::ic";
    let before: Vec<String> = all().into_iter().filter(|n| n.contains("ic")).collect();
    assert_eq!(A.ic(), Ok(1));
    let after: Vec<String> = all().into_iter().filter(|n| n.contains("::ic")).collect();
    assert!(
        before.iter().any(|n| n == want),
        "before: {before:#?}\nafter: {after:#?}"
    );
}

pub trait InFn {
    fn inf(&self) -> Result<u8, E>;
}
fn trait_impl_in_a_fn() -> Result<u8, E> {
    impl InFn for B {
        #[circuit_breaker(reset_timeout = "1h")]
        fn inf(&self) -> Result<u8, E> {
            Ok(1)
        }
    }
    B.inf()
}

/// A trait impl written in a function body: named like any trait impl, listed from the
/// start, and the listed breaker is the one its calls use.
#[test]
fn a_trait_impl_in_a_fn_body_is_named_as_a_trait_impl() {
    let want = "<review3_names2::B as review3_names2::InFn>::inf";
    let before: Vec<String> = all().into_iter().filter(|n| n.contains("inf")).collect();
    if let Some(b) = before.first().and_then(|n| registry().get(n)) {
        b.force_open();
    }
    let r = trait_impl_in_a_fn();
    let after: Vec<String> = all().into_iter().filter(|n| n.contains("inf")).collect();
    assert!(
        before.iter().any(|n| n == want),
        "before: {before:#?}\nafter: {after:#?}"
    );
    assert_eq!(
        r,
        Err(E::Breaker),
        "the listed breaker is not the one called: {before:?} {after:?}"
    );
}

fn local_type_in_a_fn() -> (Vec<String>, Result<u8, E>, Vec<String>) {
    struct Local;
    impl Local {
        #[circuit_breaker(reset_timeout = "1h")]
        pub fn loc(&self) -> Result<u8, E> {
            Ok(1)
        }
    }
    let before: Vec<String> = all().into_iter().filter(|n| n.ends_with("::loc")).collect();
    if let Some(b) = before.first().and_then(|n| registry().get(n)) {
        b.force_open();
    }
    let r = Local.loc();
    let after: Vec<String> = all().into_iter().filter(|n| n.ends_with("::loc")).collect();
    (before, r, after)
}

/// A local type's inherent `pub` method: named `…::local_type_in_a_fn::Local::loc`, listed
/// from the start, and the listed breaker is the one its calls use.
#[test]
fn a_local_types_pub_method_is_listed_under_the_name_its_calls_use() {
    let (before, r, after) = local_type_in_a_fn();
    assert_eq!(
        before,
        vec!["review3_names2::local_type_in_a_fn::Local::loc".to_string()],
        "after: {after:#?}"
    );
    assert_eq!(r, Err(E::Breaker), "before {before:?} after {after:?}");
}
