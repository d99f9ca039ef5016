//! The workspace's root package: it holds the examples (`examples/`), the tests of the
//! attribute, of the ecosystem integrations and the UI tests (`tests/`; the runtime's own
//! integration tests live in `breaker-runtime/tests/`), and compiles the README's code blocks
//! as doc tests so they stay true.
#![doc = include_str!("../README.md")]

#[cfg(feature = "postgres")]
pub mod postgres;
