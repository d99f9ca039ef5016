//! Review 3: default method names for odd `Self` types and generic traits.
#![allow(missing_docs)]

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

fn names_with(part: &str) -> Vec<String> {
    registry()
        .names()
        .iter()
        .filter(|n| n.contains(part))
        .map(|n| n.to_string())
        .collect()
}

// --- A generic trait's default method, implemented for one type with two arguments. ---

pub trait Gt<X> {
    #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
    fn gdflt(&self, up: bool) -> Result<u8, E> {
        if up {
            Ok(1)
        } else {
            Err(E::Down)
        }
    }
}

pub struct TwoArgs;
impl Gt<u8> for TwoArgs {}
impl Gt<u16> for TwoArgs {}

/// `<TwoArgs as Gt<u8>>::gdflt` and `<TwoArgs as Gt<u16>>::gdflt` are two functions (two
/// trait impls): the contract's default name is "unique per function", one breaker each.
#[test]
#[ignore = "LIMIT (documented in the attribute's default names): a generic trait's default method shares one breaker `<T as Gt>::m` across Gt<u8> and Gt<u16>"]
fn a_generic_traits_default_method_gets_one_breaker_per_trait_instantiation() {
    assert_eq!(<TwoArgs as Gt<u8>>::gdflt(&TwoArgs, false), Err(E::Down));
    // The u8 breaker is open now; the u16 impl is another dependency.
    let r = <TwoArgs as Gt<u16>>::gdflt(&TwoArgs, true);
    let names = names_with("gdflt");
    assert_eq!(r, Ok(1), "u16 rejected because u8 failed; names: {names:?}");
    assert_eq!(names.len(), 2, "{names:?}");
}

// --- Concrete impls of a generic trait for one type. ---

pub trait Ct<X> {
    fn cget(&self, up: bool) -> Result<u8, E>;
}
pub struct Both;
impl Ct<u8> for Both {
    #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
    fn cget(&self, up: bool) -> Result<u8, E> {
        if up {
            Ok(8)
        } else {
            Err(E::Down)
        }
    }
}
impl Ct<u16> for Both {
    #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
    fn cget(&self, up: bool) -> Result<u8, E> {
        if up {
            Ok(16)
        } else {
            Err(E::Down)
        }
    }
}

#[test]
fn concrete_impls_of_a_generic_trait_are_two_breakers_known_from_the_start() {
    let names = names_with("cget");
    assert!(
        names.contains(&"<review3_names::Both as review3_names::Ct<u8>>::cget".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"<review3_names::Both as review3_names::Ct<u16>>::cget".to_string()),
        "{names:?}"
    );
    assert_eq!(<Both as Ct<u8>>::cget(&Both, false), Err(E::Down));
    assert_eq!(<Both as Ct<u16>>::cget(&Both, true), Ok(16));
}

// --- A blanket impl for closures: two closures in one function are two types. ---

pub trait Fetch {
    fn up(&self) -> bool;
    #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
    fn cfetch(&self) -> Result<u8, E> {
        if self.up() {
            Ok(1)
        } else {
            Err(E::Down)
        }
    }
}
impl<F: Fn() -> bool> Fetch for F {
    fn up(&self) -> bool {
        self()
    }
}

/// Two closures are two implementing types; "a blanket impl's method gets one breaker per
/// implementing type". Their `type_name`s are the same string (`…::{{closure}}`).
#[test]
#[ignore = "LIMIT (documented in the attribute's default names): two closure types share one breaker (type_name strings equal; MethodBreakerCell keys by type_name)"]
fn two_closures_under_a_blanket_impl_get_one_breaker_each() {
    let failing = || false;
    let healthy = || true;
    assert_eq!(failing.cfetch(), Err(E::Down));
    let r = healthy.cfetch();
    let names = names_with("cfetch");
    assert_eq!(
        r,
        Ok(1),
        "healthy closure rejected because the other failed; names: {names:?}"
    );
}

// --- Local types of one name in two blocks of one function. ---

pub trait Local {
    fn up(&self) -> bool;
    #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
    fn ldflt(&self) -> Result<u8, E> {
        if self.up() {
            Ok(1)
        } else {
            Err(E::Down)
        }
    }
}

#[test]
#[ignore = "LIMIT (documented in the attribute's default names): two local types of one name in one fn share a default method breaker (keyed by type_name)"]
fn two_local_types_of_one_name_get_one_breaker_each() {
    {
        struct Mock;
        impl Local for Mock {
            fn up(&self) -> bool {
                false
            }
        }
        assert_eq!(Mock.ldflt(), Err(E::Down));
    }
    {
        struct Mock;
        impl Local for Mock {
            fn up(&self) -> bool {
                true
            }
        }
        let r = Mock.ldflt();
        let names = names_with("ldflt");
        assert_eq!(
            r,
            Ok(1),
            "second Mock rejected because the first failed; names: {names:?}"
        );
    }
}

// --- Inherent impls on odd types. ---

pub trait Obj {}
impl Obj for u8 {}

impl dyn Obj {
    #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
    pub fn dynm(&self) -> Result<u8, E> {
        Ok(1)
    }
}

pub struct Arr<const N: usize>;
impl Arr<3> {
    #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
    pub fn arr(&self, up: bool) -> Result<u8, E> {
        if up {
            Ok(3)
        } else {
            Err(E::Down)
        }
    }
}
impl Arr<4> {
    #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
    pub fn arr(&self, up: bool) -> Result<u8, E> {
        if up {
            Ok(4)
        } else {
            Err(E::Down)
        }
    }
}

pub struct Life<'a>(&'a str);
impl<'a> Life<'a> {
    #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
    pub fn life(&self) -> Result<&'a str, E> {
        Ok(self.0)
    }
}

pub struct Pair<A, B>(A, B);
impl<A> Pair<A, u8> {
    #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
    pub fn pm(&self, up: bool) -> Result<u8, E> {
        if up {
            Ok(8)
        } else {
            Err(E::Down)
        }
    }
}
impl<A> Pair<A, u16> {
    #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
    pub fn pm(&self, up: bool) -> Result<u8, E> {
        if up {
            Ok(16)
        } else {
            Err(E::Down)
        }
    }
}

pub trait Tp {
    fn tp(&self) -> Result<u8, E>;
}
impl Tp for (u8, fn(u8) -> Result<u8, ()>) {
    #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
    fn tp(&self) -> Result<u8, E> {
        Ok(self.0)
    }
}
#[allow(clippy::needless_lifetimes)] // the named lifetime is what this case is about
impl<'a> Tp for &'a [Arr<3>] {
    #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
    fn tp(&self) -> Result<u8, E> {
        Ok(self.len() as u8)
    }
}
impl<const N: usize> Tp for [u8; N] {
    #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
    fn tp(&self) -> Result<u8, E> {
        if N == 2 {
            Err(E::Down)
        } else {
            Ok(N as u8)
        }
    }
}

#[test]
fn odd_self_types_print_names() {
    let before: Vec<String> = registry().names().iter().map(|n| n.to_string()).collect();
    eprintln!("BEFORE: {before:#?}");
    let o: &dyn Obj = &1u8;
    assert_eq!(o.dynm(), Ok(1));
    assert_eq!(Arr::<3>.arr(false), Err(E::Down));
    assert_eq!(Arr::<4>.arr(true), Ok(4));
    assert_eq!(Life("x").life(), Ok("x"));
    assert_eq!(Pair(1u8, 1u8).pm(false), Err(E::Down));
    assert_eq!(Pair(1u8, 1u16).pm(true), Ok(16));
    let f: fn(u8) -> Result<u8, ()> = |x| Ok(x);
    assert_eq!((5u8, f).tp(), Ok(5));
    let s: &[Arr<3>] = &[Arr, Arr];
    assert_eq!(s.tp(), Ok(2));
    let after: Vec<String> = registry().names().iter().map(|n| n.to_string()).collect();
    eprintln!("AFTER: {after:#?}");
}

/// `impl<const N: usize> Tp for [u8; N]` is a generic trait impl: one breaker per
/// implementing type, `<[u8; 2] as Tp>::tp`, `<[u8; 3] as Tp>::tp`. `type_name` prints a
/// const parameter as its name `N`, not `_`, so it is read as a concrete type.
#[test]
fn a_const_generic_trait_impl_gets_one_breaker_per_implementing_type() {
    let names = names_with("[u8; ");
    assert!(
        !names.iter().any(|n| n.contains("[u8; N]")),
        "a name with the parameter's name in it, declared at start: {names:?}"
    );
    assert_eq!([0u8; 2].tp(), Err(E::Down));
    assert_eq!(
        [0u8; 3].tp(),
        Ok(3),
        "[u8; 3] rejected because [u8; 2] failed: {:?}",
        names_with("[u8; ")
    );
}

pub struct Cg<const N: usize>;
impl<const N: usize> Cg<N> {
    #[circuit_breaker(failure_threshold = 1, reset_timeout = "1h")]
    pub fn cgm(&self) -> Result<u8, E> {
        Ok(N as u8)
    }
}

/// "Type parameters of a generic impl are left out, so all its instantiations share one
/// name": `review3_names::Cg::cgm`, not `Cg<N>::cgm`.
#[test]
fn a_const_generic_inherent_impl_is_named_without_its_parameter() {
    assert_eq!(Cg::<1>.cgm(), Ok(1));
    assert_eq!(Cg::<2>.cgm(), Ok(2));
    let names = names_with("cgm");
    assert_eq!(names, vec!["review3_names::Cg::cgm".to_string()]);
}
