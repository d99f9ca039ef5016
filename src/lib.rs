//! The workspace's root package: it holds the examples (`examples/`) and the integration and
//! UI tests (`tests/`) of `breaker-runtime` and `breaker-macros`, and compiles the README's
//! code blocks as doc tests so they stay true.
#![doc = include_str!("../README.md")]
