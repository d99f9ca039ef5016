//! The rules of a circuit breaker's settings, written once for the two crates that apply
//! them: `breaker-macros` (the `#[circuit_breaker]` attribute, at compile time) and
//! `breaker-runtime` (builders, config files and environment variables, at run time).
//!
//! Users depend on `breaker-runtime` only; this crate is an implementation detail that keeps
//! the attribute's compile errors and the runtime's `ConfigError`s saying the same thing.
//!
//! - [`duration`]: the one parser of duration strings (`"250ms"`, `"1m30s"`).
//! - [`suggest`]: "did you mean" for misspelt names.
//! - [`settings`]: every setting, its kind, example and where it may be set, with the
//!   [`for_each_setting!`] list of the settings a file may set.
//! - [`limits`] and [`defaults`]: the numbers the rules are made of.
//! - [`check`]: the value checks, each returning the reason a value is refused.
//! - [`backoff`]: the backoff grammar (kinds and their parameters).
//!
//! ```
//! use breaker_spec::{check, duration, settings};
//!
//! let d = duration::parse("1m30s").unwrap();
//! assert_eq!(d.as_secs(), 90);
//! assert!(check::duration(d, false).is_ok());
//! assert_eq!(settings::find("window").unwrap().example, "100");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod backoff;
pub mod check;
pub mod defaults;
pub mod duration;
pub mod limits;
pub mod settings;
pub mod suggest;
