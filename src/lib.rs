//! The workspace's root package: it holds the examples (`examples/`), the tests of the
//! attribute, of the ecosystem integrations and the UI tests (`tests/`; the runtime's own
//! integration tests live in `breaker-runtime/tests/`), and compiles the README's code blocks
//! as doc tests so they stay true. With the feature `postgres`, [`postgres`] starts a real
//! PostgreSQL for the PostgreSQL example and its test; with `redis-server` (which `fleet` and
//! `redis-cache` turn on), [`redis_server`] starts a real Redis for the fleet and Redis cache
//! examples. [`logs`] shows the runtime's log lines beside an example's timeline.
#![doc = include_str!("../README.md")]

pub mod logs;

#[cfg(feature = "postgres")]
pub mod postgres;

#[cfg(feature = "redis-server")]
pub mod redis_server;
