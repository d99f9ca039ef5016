//! Breakers the attribute declares, so that the global registry knows them from its first use,
//! before their functions are first called: an operator can see and force open a breaker at
//! start-up, and its metrics exist before the first call.
//!
//! Each annotated function submits a [`Declared`] through `inventory`, which gathers them
//! when the program starts. The global [`registry`](crate::registry) lists those whose name
//! is known then (a `name`, a free function's path, a method of a concrete impl) from its
//! first use, and builds each at the first look that needs it or at its function's first
//! call. A method whose name depends on its `Self` type (a trait's default method, a
//! blanket impl's) is registered at its first call, for that type; so is a private method
//! of an inherent impl, which its path cannot tell from a trait's default method.

use crate::breaker::CircuitBreaker;
use std::sync::Arc;

/// One annotated function's breaker: its name, and how to build it.
#[derive(Debug)]
pub struct Declared {
    /// The breaker's name (for a function without a `name`, the default name it asks for);
    /// `None` when only the first call can tell (see the module's docs). Asked once, when
    /// the global registry is made.
    pub name: fn() -> Option<&'static str>,
    /// Builds the breaker, given the name above, through the function's own cell, exactly
    /// as its first call would, and returns it. Through the cell, not from a copy of the
    /// settings: two functions that ask for one default name (nested functions of one
    /// module) are told apart by their cells, so a look before either call cannot hand one
    /// the other's settings (the first cell to register keeps the name; the other gets
    /// `name@site`).
    pub build: fn(&'static str) -> Arc<CircuitBreaker>,
}

inventory::collect!(Declared);

/// A declared breaker whose name is known.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Known {
    pub(crate) name: &'static str,
    build: fn(&'static str) -> Arc<CircuitBreaker>,
}

impl Known {
    pub(crate) fn build(&self) -> Arc<CircuitBreaker> {
        (self.build)(self.name)
    }
}

/// Every declared breaker whose name is known, as the program's start gathered them.
pub(crate) fn all() -> Vec<Known> {
    inventory::iter::<Declared>
        .into_iter()
        .filter_map(|d| {
            (d.name)().map(|name| Known {
                name,
                build: d.build,
            })
        })
        .collect()
}
