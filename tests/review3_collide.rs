//! Review 3: two generic inherent impls whose methods derive one default name (`Pair::pm`):
//! the later one is renamed `Pair::pm@site`; its instantiations must still share one
//! breaker ("a generic impl's instantiations share one name and one breaker").
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

pub struct Pair<A, B>(pub A, pub B);

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

#[test]
fn the_instantiations_of_a_renamed_generic_impl_share_one_breaker() {
    // The u8 impl keeps the plain name.
    assert_eq!(Pair(0u8, 0u8).pm(true), Ok(8));
    // The u16 impl is renamed; its first instantiation fails and opens its breaker.
    assert_eq!(Pair(0u8, 0u16).pm(false), Err(E::Down));
    // Another instantiation of the same impl: the same function, the same breaker.
    let r = Pair(0u32, 0u16).pm(true);
    let names: Vec<String> = registry()
        .names()
        .iter()
        .filter(|n| n.contains("Pair::pm"))
        .map(|n| n.to_string())
        .collect();
    assert_eq!(r, Err(E::Breaker), "names: {names:#?}");
    assert_eq!(names.len(), 2, "{names:#?}");
}
