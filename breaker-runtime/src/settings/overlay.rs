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
        // Every setting a file may set, then the functions, which only code sets.
        macro_rules! pick {
            ($($field:ident: $kind:ident),*) => {
                BreakerConfig {
                    $($field: higher.$field.clone().or_else(|| self.$field.clone()),)*
                    failure_if: higher.failure_if.clone().or_else(|| self.failure_if.clone()),
                    ignore_if: higher.ignore_if.clone().or_else(|| self.ignore_if.clone()),
                    classify: higher.classify.clone().or_else(|| self.classify.clone()),
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

/// Where a breaker's setting came from: the highest layer that set it
/// ([`Registry::setting_sources`](crate::Registry::setting_sources)).
///
/// ```
/// assert_eq!(breaker_runtime::SettingSource::Env.as_str(), "env");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum SettingSource {
    /// No layer set it: the built-in default (or a value derived from other settings, as
    /// `half_open_max_calls` follows `success_threshold`).
    Default,
    /// A config file: its `[default]` table or the breaker's own.
    File,
    /// The code: the attribute's arguments or the builder's.
    Code,
    /// An environment variable: `BREAKER_DEFAULT_<KEY>` or `BREAKER_<NAME>_<KEY>`.
    Env,
}

impl SettingSource {
    /// `default`, `file`, `code` or `env`.
    ///
    /// ```
    /// assert_eq!(breaker_runtime::SettingSource::File.as_str(), "file");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            SettingSource::Default => "default",
            SettingSource::File => "file",
            SettingSource::Code => "code",
            SettingSource::Env => "env",
        }
    }
}

impl Layers {
    /// Where each setting of the breaker `name`, whose code gave `code`, came from: every
    /// setting a file may set, in the spec's order, then `failure_if` and `ignore_if`.
    pub(crate) fn sources(
        &self,
        name: &str,
        code: &BreakerConfig,
    ) -> Vec<(&'static str, SettingSource)> {
        use SettingSource::*;
        let env = self.env.get(&env_name(name));
        let table = self.tables.get(name);
        // High to low, as `effective` lays them.
        let layers = [
            (env, Env),
            (table, File),
            (Some(code), Code),
            (Some(&self.env_default), Env),
            (Some(&self.default), File),
        ];
        macro_rules! each {
            ($($field:ident: $kind:ident),*) => {
                vec![$((
                    stringify!($field),
                    layers
                        .iter()
                        .find(|(c, _)| c.is_some_and(|c| c.$field.is_some()))
                        .map_or(Default, |(_, source)| *source),
                )),*]
            };
        }
        let mut sources = breaker_spec::for_each_setting!(each);
        let by_code = |set: bool| if set { Code } else { Default };
        sources.push(("failure_if", by_code(code.failure_if.is_some())));
        sources.push(("ignore_if", by_code(code.ignore_if.is_some())));
        sources.push(("classify", by_code(code.classify.is_some())));
        sources
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
