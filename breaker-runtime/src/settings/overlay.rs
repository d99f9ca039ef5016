//! Overlaying: how the layers of settings are stacked into the config a breaker resolves.

use super::BreakerConfig;
use std::collections::HashMap;

impl BreakerConfig {
    /// This config with every setting of `higher` laid over it.
    ///
    /// ```
    /// use breaker_runtime::BreakerConfig;
    /// let base = BreakerConfig::builder().failure_threshold(3).success_threshold(4).build();
    /// let top = BreakerConfig::builder().failure_threshold(9).build();
    /// let merged = base.overlay(&top);
    /// assert_eq!(merged, BreakerConfig::builder().failure_threshold(9).success_threshold(4).build());
    /// ```
    pub fn overlay(&self, higher: &BreakerConfig) -> BreakerConfig {
        macro_rules! pick {
            ($($field:ident),*) => {
                BreakerConfig { $($field: higher.$field.clone().or_else(|| self.$field.clone()),)* }
            };
        }
        pick!(
            failure_threshold,
            failure_rate,
            minimum_calls,
            window,
            slow_call,
            slow_call_rate,
            success_threshold,
            half_open_max_calls,
            reset_timeout,
            backoff,
            half_open_timeout,
            call_timeout,
            failure_if,
            ignore_if
        )
    }
}

/// Settings from outside the code, laid around each breaker's own:
/// `default` and `env_default` below it, then its table and the environment above it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Layers {
    pub(crate) default: BreakerConfig,
    pub(crate) tables: HashMap<String, BreakerConfig>,
    /// `BREAKER_DEFAULT_<KEY>`: over the file's `[default]`, under the code.
    pub(crate) env_default: BreakerConfig,
    /// `BREAKER_<NAME>_<KEY>`, by the name as [`env_name`] spells it, so a variable read
    /// before its breaker exists still finds it.
    pub(crate) env: HashMap<String, BreakerConfig>,
}

impl Layers {
    /// Built-in defaults < `[default]` < `BREAKER_DEFAULT_*` < the code's config < the
    /// breaker's table < `BREAKER_<NAME>_*`.
    pub(crate) fn effective(&self, name: &str, code: &BreakerConfig) -> BreakerConfig {
        let mut c = self.default.overlay(&self.env_default).overlay(code);
        let env = if self.env.is_empty() {
            None
        } else {
            self.env.get(&env_name(name))
        };
        for layer in [self.tables.get(name), env].into_iter().flatten() {
            c = c.overlay(layer);
        }
        c
    }
}

/// How a breaker's name is spelt in `BREAKER_<NAME>_<KEY>`: upper-cased, every character
/// other than an ASCII letter or digit written `_` (`quotes-api` is `QUOTES_API`).
pub(crate) fn env_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}
