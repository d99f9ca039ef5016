//! `BREAKER_<NAME>_<KEY>` environment variables.
//!
//! `<NAME>` is the breaker's name as [`env_name`] spells it: upper-cased, every run of
//! characters other than ASCII letters and digits written as one `_`, none at either end.
//! That loses information (`quotes-api`, `quotes_api` and `Quotes::Api` are all
//! `QUOTES_API`), so the variable is split by its end instead: `<KEY>` is the setting whose
//! upper-cased name ends the variable, and the rest is the name, underscores and all. The
//! layer is kept under that spelling and found again by it, so a variable applies to a
//! breaker registered after it was read, and to every breaker whose name spells the same (a
//! name with no letter or digit spells as nothing, and has no variables).

use super::value::{self, Raw, KEYS};
use crate::error::ConfigError;
use crate::settings::overlay::env_name;
use crate::settings::BreakerConfig;
use breaker_spec::suggest::{edit_distance, suggestions};
use std::collections::HashMap;

/// Every variable read starts with this.
pub(super) const PREFIX: &str = "BREAKER_";

/// `<NAME>` of the variables for every breaker: `BREAKER_DEFAULT_<KEY>`.
const DEFAULT: &str = "DEFAULT";

/// The settings the variables give.
#[derive(Debug, Default)]
pub(super) struct EnvLayers {
    /// `BREAKER_DEFAULT_<KEY>`.
    pub(super) default: BreakerConfig,
    /// `BREAKER_<NAME>_<KEY>`, by `<NAME>`.
    pub(super) by_name: HashMap<String, BreakerConfig>,
}

/// Reads the `BREAKER_` variables among `vars` and ignores the rest. `known` are the breaker
/// names errors are reported under (registered breakers and file tables); a variable for
/// another name still counts, and is reported under its name in lower case.
pub(super) fn parse(
    vars: impl IntoIterator<Item = (String, String)>,
    known: &[&str],
) -> Result<EnvLayers, ConfigError> {
    let mut vars: Vec<(String, String)> = vars
        .into_iter()
        .filter(|(k, _)| k.starts_with(PREFIX))
        .collect();
    vars.sort();
    let mut known: Vec<(String, String)> = known
        .iter()
        .map(|n| (env_name(n), (*n).to_owned()))
        .filter(|(spelling, _)| !spelling.is_empty())
        .collect();
    known.push((DEFAULT.to_owned(), "default".to_owned()));
    // Longest spelling first, so `QUOTES_API` wins over `QUOTES` for `QUOTES_API_…`.
    known.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.cmp(b)));
    let display = |spelling: &str| {
        known
            .iter()
            .find(|(s, _)| s == spelling)
            .map_or_else(|| spelling.to_ascii_lowercase(), |(_, n)| n.clone())
    };

    let mut layers = EnvLayers::default();
    for (var, text) in &vars {
        let rest = var[PREFIX.len()..].to_ascii_uppercase();
        let Some((written, key)) = split(&rest) else {
            return Err(unsplittable(var, &rest, &known));
        };
        // Spelt again by the rule, so `EXP__REPO__COUNT` (as the rule once spelt
        // `exp::Repo::count`) still finds the breaker, and stray `_`s do not hide it.
        let spelling = env_name(written);
        if spelling.is_empty() {
            return Err(ConfigError::Parse {
                source_name: var.clone(),
                message: format!(
                    "names no breaker: write `BREAKER_<NAME>_{}`",
                    key.to_ascii_uppercase()
                ),
            });
        }
        let spelling = spelling.as_str();
        let breaker = display(spelling);
        if key == "base" {
            return Err(ConfigError::invalid(
                &breaker,
                key,
                Raw::Text(text),
                format!("is set in a config file only (from `{var}`)"),
            ));
        }
        let config = if spelling == DEFAULT {
            &mut layers.default
        } else {
            layers.by_name.entry(spelling.to_owned()).or_default()
        };
        value::set(config, &breaker, key, Raw::Text(text)).map_err(|e| from_var(e, var))?;
    }
    Ok(layers)
}

/// `<NAME>_<KEY>` split at the longest key (settings and code-only arguments alike) that
/// ends it after a non-empty name.
fn split(rest: &str) -> Option<(&str, &'static str)> {
    KEYS.iter()
        .copied()
        .chain(value::code_only_keys())
        .chain(["base"])
        .filter(|key| {
            let key_len = key.len();
            rest.len() > key_len + 1
                && rest.as_bytes()[rest.len() - key_len - 1] == b'_'
                && rest
                    .get(rest.len() - key_len..)
                    .is_some_and(|end| end.eq_ignore_ascii_case(key))
        })
        .max_by_key(|key| key.len())
        .map(|key| (&rest[..rest.len() - key.len() - 1], key))
}

/// The error for a variable that ends in no key: an unknown key of a known breaker, or of
/// the name that makes the key closest to a real one.
fn unsplittable(var: &str, rest: &str, known: &[(String, String)]) -> ConfigError {
    if KEYS.iter().any(|k| rest.eq_ignore_ascii_case(k)) {
        return ConfigError::Parse {
            source_name: var.to_owned(),
            message: format!(
                "names no breaker: write `BREAKER_<NAME>_{rest}` for one breaker, or \
                 `BREAKER_DEFAULT_{rest}` for every breaker"
            ),
        };
    }
    for (spelling, name) in known {
        if let Some(key) = rest
            .strip_prefix(spelling.as_str())
            .and_then(|k| k.strip_prefix('_'))
            .filter(|k| !k.is_empty())
        {
            return value::unknown(name, &key.to_ascii_lowercase());
        }
    }
    let best = rest
        .match_indices('_')
        .map(|(i, _)| (&rest[..i], rest[i + 1..].to_ascii_lowercase()))
        .filter(|(name, key)| !name.is_empty() && !key.is_empty())
        .filter_map(|(name, key)| {
            let best = *suggestions(&key, KEYS).first()?;
            Some((edit_distance(&key, best), name, key))
        })
        .min_by_key(|(d, _, _)| *d);
    match best {
        Some((_, name, key)) => value::unknown(&name.to_ascii_lowercase(), &key),
        None => ConfigError::Parse {
            source_name: var.to_owned(),
            message: format!(
                "ends in no setting: write `BREAKER_<NAME>_<KEY>` with `<KEY>` one of {}",
                KEYS.iter()
                    .map(|k| k.to_ascii_uppercase())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    }
}

/// Says which variable a bad value came from.
fn from_var(e: ConfigError, var: &str) -> ConfigError {
    match e {
        ConfigError::Invalid {
            breaker,
            key,
            value,
            reason,
        } => ConfigError::Invalid {
            breaker,
            key,
            value,
            reason: format!("{reason} (from `{var}`)"),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_longest_key_that_ends_the_variable() {
        assert_eq!(
            split("QUOTES_FAILURE_THRESHOLD"),
            Some(("QUOTES", "failure_threshold"))
        );
        assert_eq!(split("A_SLOW_CALL_RATE"), Some(("A", "slow_call_rate")));
        assert_eq!(split("X_SLOW_CALL"), Some(("X", "slow_call")));
        assert_eq!(
            split("X_HALF_OPEN_TIMEOUT"),
            Some(("X", "half_open_timeout"))
        );
        assert_eq!(split("FAILURE_THRESHOLD"), None);
        assert_eq!(split("QUOTES_TIMEOUT"), None);
    }
}
