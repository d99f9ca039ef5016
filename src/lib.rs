//! The workspace's root package: it holds the examples (`examples/`) and the integration and
//! UI tests (`tests/`) of `breaker-runtime` and `breaker-macros`. It has no code of its own.
