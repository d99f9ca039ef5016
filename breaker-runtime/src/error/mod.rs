//! The errors a breaker returns: [`BreakerError`] when it does not run a call, [`CallError`]
//! around the call's own error, and [`ConfigError`] for settings that make no sense.

// One file per error, and the one place durations and retry waits are written out for people
// (messages, `Retry-After`, `retry_after_ms`), so every figure rounds the same way.
mod breaker;
mod call;
mod config;
pub(crate) mod format;

pub use breaker::BreakerError;
pub use call::CallError;
pub use config::ConfigError;
// Where the settings have always found it.
pub(crate) use format::HumanDuration;
