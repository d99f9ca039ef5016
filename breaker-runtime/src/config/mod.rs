//! Loading breaker settings (feature `config`) from TOML, YAML (feature `yaml`) and
//! `BREAKER_<NAME>_<KEY>` environment variables into a [`Registry`](crate::Registry), and
//! the names they set that no breaker has (`unmatched`).
//!
//! This is an integration: it reads files and the environment into the layers the core
//! overlays (see `ARCHITECTURE.md`). The settings types themselves live in the core and are
//! re-exported here, so `breaker_runtime::config::BreakerConfig` keeps working.

#[cfg(feature = "config")]
mod env;
#[cfg(feature = "config")]
mod file;
#[cfg(feature = "config")]
mod load;
#[cfg(feature = "config")]
mod reload;
#[cfg(feature = "config")]
mod unmatched;
#[cfg(feature = "config")]
mod value;
#[cfg(feature = "yaml")]
mod yaml;

#[cfg(feature = "config")]
#[cfg_attr(docsrs, doc(cfg(feature = "config")))]
pub use load::{
    load_env, load_env_into, load_file, load_file_into, load_str, load_str_into, load_vars_into,
};
#[cfg(feature = "config")]
#[cfg_attr(docsrs, doc(cfg(feature = "config")))]
pub use unmatched::{unmatched, unmatched_in};

pub use crate::settings::{BreakerConfig, BreakerConfigBuilder, Settings, Window};
