//! Breakers the attribute declares, so that the global registry knows them from its first use,
//! before their functions are first called: an operator can see and force open a breaker at
//! start-up, and its metrics exist before the first call.
//!
//! Each annotated function with a name known when it is compiled (a `name`, or a free
//! function's path) submits a [`Declared`] through `inventory`, which gathers them when the
//! program starts. The global [`registry`](crate::registry) lists them from its first use
//! and builds each at the first look that needs it or at its function's first call. A method
//! without a `name` is named after its `Self` type, which only its first call knows: it is
//! registered then.

use crate::breaker::CircuitBreaker;
use std::sync::Arc;

/// One annotated function's breaker: its name, and how to build it.
#[derive(Debug)]
pub struct Declared {
    /// The breaker's name (for a function without a `name`, the default name it asks for).
    pub name: &'static str,
    /// Builds the breaker through the function's own cell, exactly as its first call would,
    /// and returns it. Through the cell, not from a copy of the settings: two functions that
    /// ask for one default name (nested functions of one module) are told apart by their
    /// cells, so a look before either call cannot hand one the other's settings (the first
    /// cell to register keeps the name; the other gets `name@site`).
    pub build: fn() -> Arc<CircuitBreaker>,
}

inventory::collect!(Declared);

/// Every declared breaker, as the program's start gathered them.
pub(crate) fn all() -> Vec<&'static Declared> {
    inventory::iter::<Declared>.into_iter().collect()
}
