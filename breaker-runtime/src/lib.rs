//! A fast, leak-free circuit breaker for Rust services.
//!
//! Put `#[circuit_breaker]` on a function (feature `macros`, on by default) or build a
//! [`CircuitBreaker`] yourself. While the dependency behind it is healthy a call costs a few
//! nanoseconds more than the bare call: no lock, no allocation, no clock read. When the
//! dependency fails, the breaker opens and rejects calls at once, probes after
//! `reset_timeout`, and closes again once probes succeed.
//!
//! ```
//! use breaker_runtime::{CallError, CircuitBreaker, State};
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let breaker = CircuitBreaker::builder("quotes")
//!     .failure_threshold(3)
//!     .reset_timeout(Duration::from_secs(30))
//!     .build();
//!
//! let quote: Result<u32, CallError<std::io::Error>> =
//!     breaker.call(|| async { Ok(42) }).await;
//! assert_eq!(quote.unwrap(), 42);
//! assert_eq!(breaker.state(), State::Closed);
//! # }
//! ```
//!
//! # States
//!
//! - **Closed**: calls go through. `failure_threshold` failures in a row open it; so does a
//!   `failure_rate` or `slow_call_rate` reached over the window once it holds
//!   `minimum_calls` calls (both thresholds inclusive).
//! - **Open**: calls are rejected with [`BreakerError::Open`] until `reset_timeout` (grown
//!   by the [`Backoff`]) has passed; [`CircuitBreaker::state`] says HalfOpen from then on.
//! - **HalfOpen**: up to `half_open_max_calls` probes run at once (more are rejected with
//!   [`BreakerError::HalfOpenFull`]); `success_threshold` successes close it, any failure
//!   re-opens it, and probes with no verdict for `half_open_timeout` re-open it.
//! - **ForcedOpen**, **Disabled**, **MetricsOnly**: set by hand; see
//!   [`force_open`](CircuitBreaker::force_open), [`disable`](CircuitBreaker::disable),
//!   [`metrics_only`](CircuitBreaker::metrics_only).
//!
//! Closing clears the failure streak, the window and the backoff.
//!
//! # Outcomes
//!
//! `Ok` is a success; `Err` a failure unless `failure_if` / `ignore_if` say otherwise. A
//! panic is a failure and keeps unwinding. A call dropped before it finishes is counted as
//! cancelled and gives its permit back. A result arriving after the breaker changed state
//! since the call was let in is counted in [`Metrics`] but moves no state.
//!
//! # Time
//!
//! Breakers decide in whole milliseconds. With the `test-util` feature they read tokio's
//! clock, so `#[tokio::test(start_paused = true)]` and `tokio::time::advance` drive them.
//!
//! # Features
//!
//! `macros` (default), `test-util`, `serde` (snapshots serialize), `config`, `yaml` (YAML
//! config files; turns on `config`), `metrics`, `tower`, `axum`, `fleet` (breakers shared
//! by every instance of a service through Redis: `breaker_runtime::fleet`), `rustls` (fleet
//! mode over TLS, `rediss://`).

// docs.rs builds with `--cfg docsrs` (see `[package.metadata.docs.rs]`): each feature-gated
// item then says which feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod admin;
mod backoff;
mod breaker;
mod call;
// Watched only by the admin router's `/events` (said here, as for `registry_join`).
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
mod changes;
mod clock;
pub mod config;
// Attached by fleet mode, asked by the admin router: fully used with both (said here, as for
// `registry_join`).
#[cfg_attr(not(all(feature = "fleet", feature = "axum")), allow(dead_code))]
mod coordinator;
mod counters;
mod declared;
mod error;
mod events;
mod family;
mod metrics;
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub mod metrics_export;
mod name;
mod observe;
mod owned;
mod permit;
mod registry;
// `join`'s one caller is the tower layer. Said here, where the integrations are declared,
// so that no core file need know which integration uses what.
#[cfg_attr(not(feature = "tower"), allow(dead_code))]
mod registry_join;
// Read and told by fleet mode, its one user.
#[cfg(feature = "fleet")]
pub mod fleet;
#[cfg_attr(not(feature = "fleet"), allow(dead_code))]
mod remote;
mod settings;
mod share;
mod snapshot;
mod state;
mod stream;
mod sync;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;
mod window;

#[doc(hidden)]
pub mod __private;

pub use backoff::Backoff;
pub use breaker::{CircuitBreaker, CircuitBreakerBuilder};
pub use error::{BreakerError, CallError, ConfigError};
pub use events::{BreakerEvent, EventReceiver, TransitionReason};
pub use family::Family;
pub use metrics::Metrics;
pub use name::Name;
pub use permit::{Outcome, Permit};
pub use registry::{registry, Registry};
pub use settings::{BreakerConfig, BreakerConfigBuilder, SettingSource, Settings, Window};
pub use snapshot::{BreakerSnapshot, Health, LastTransition, Probes, Thresholds};
pub use state::State;
pub use stream::ProtectedStream;

/// Puts a function behind a circuit breaker. See the `breaker-macros` crate docs.
#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
pub use breaker_macros::circuit_breaker;

// The crate's README (what crates.io shows) is a doc test, so its example keeps compiling.
#[cfg(all(doctest, feature = "macros"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
