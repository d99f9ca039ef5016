//! Overlaying: how the layers of settings are stacked into the config a breaker resolves.

use super::BreakerConfig;
use std::collections::{HashMap, HashSet};

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
        // Every setting a file may set, then the two predicates, which only code sets.
        macro_rules! pick {
            ($($field:ident: $kind:ident),*) => {
                BreakerConfig {
                    $($field: higher.$field.clone().or_else(|| self.$field.clone()),)*
                    failure_if: higher.failure_if.clone().or_else(|| self.failure_if.clone()),
                    ignore_if: higher.ignore_if.clone().or_else(|| self.ignore_if.clone()),
                }
            };
        }
        breaker_spec::for_each_setting!(pick)
    }
}

/// Settings from outside the code, laid around each breaker's own:
/// `default` and `env_default` below it, then its table and the environment above it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Layers {
    pub(crate) default: BreakerConfig,
    pub(crate) tables: HashMap<String, BreakerConfig>,
    /// The tables other tables name as their `base`: templates, whose names need no breaker.
    pub(crate) bases: HashSet<String>,
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

/// How a breaker's name is spelt in `BREAKER_<NAME>_<KEY>`: upper-cased, every run of
/// characters other than ASCII letters and digits written as one `_`, none at either end
/// (`quotes-api` is `QUOTES_API`, `app::Repo::get` is `APP_REPO_GET`). One `_` per run, so
/// the attribute's default name for a method (`module::Type::method`) reads as people write
/// it; the spelling loses information, so names that spell the same share their variables.
pub(crate) fn env_name(name: &str) -> String {
    let mut spelt = String::with_capacity(name.len());
    for word in name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !spelt.is_empty() {
            spelt.push('_');
        }
        spelt.push_str(&word.to_ascii_uppercase());
    }
    spelt
}

#[cfg(test)]
mod tests {
    use super::env_name;

    #[test]
    fn runs_of_separators_are_one_underscore_and_none_ends_the_name() {
        assert_eq!(env_name("app::Repo::get"), "APP_REPO_GET");
        assert_eq!(env_name("quotes-api"), "QUOTES_API");
        assert_eq!(env_name("my_svc__get"), "MY_SVC_GET");
        assert_eq!(env_name("::edge. "), "EDGE");
        assert_eq!(env_name("caf\u{e9} 2"), "CAF_2");
        assert_eq!(env_name("--"), "");
    }
}
