//! [`ConfigError`]: a setting, a config document or a config file that makes no sense.

use std::fmt;

/// A setting that makes no sense: names the breaker, the key and the value.
///
/// ```
/// use breaker_runtime::CircuitBreaker;
///
/// let err = CircuitBreaker::builder("quotes").failure_rate(1.5).try_build().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "breaker `quotes`: `failure_rate` = 1.5 is invalid: must be a fraction in (0, 1]; 1.5 is above 1"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A key has a value out of range or of the wrong kind.
    #[error("breaker `{breaker}`: `{key}` = {value} is invalid: {reason}")]
    Invalid {
        /// The breaker the setting is for (`default` for the `[default]` table).
        breaker: String,
        /// The setting's name.
        key: String,
        /// The value as written.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A key that is not a setting.
    #[error("breaker `{breaker}`: unknown key `{key}`{}", Suggestion(suggestion.as_deref()))]
    UnknownKey {
        /// The breaker the table is for.
        breaker: String,
        /// The key as written.
        key: String,
        /// The closest known key, if one is close.
        suggestion: Option<String>,
    },
    /// A document or variable that could not be read at all.
    #[error("{source_name}: {message}")]
    Parse {
        /// Where the text came from: a path, `<string>` or an environment variable.
        source_name: String,
        /// What the parser said.
        message: String,
    },
    /// `base` names a table that leads back to itself.
    #[error("breaker `{breaker}`: `base` chain loops: {}", chain.join(" -> "))]
    BaseCycle {
        /// The breaker whose table starts the loop.
        breaker: String,
        /// The names along the loop.
        chain: Vec<String>,
    },
    /// `base` names a breaker that has no table.
    #[error("breaker `{breaker}`: `base` = \"{base}\" names no `[breakers.\"{base}\"]` table")]
    UnknownBase {
        /// The breaker whose table has the `base` key.
        breaker: String,
        /// The missing table's name.
        base: String,
    },
    /// A config file that could not be read.
    #[error("cannot read config file {path}: {message}")]
    Io {
        /// The path as given.
        path: String,
        /// What the operating system said.
        message: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(
        breaker: &str,
        key: &str,
        value: impl fmt::Display,
        reason: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            breaker: breaker.to_owned(),
            key: key.to_owned(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

struct Suggestion<'a>(Option<&'a str>);

impl fmt::Display for Suggestion<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(s) => write!(f, "; did you mean `{s}`?"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_key_names_breaker_and_key() {
        let e = ConfigError::UnknownKey {
            breaker: "quotes".into(),
            key: "timeout".into(),
            suggestion: Some("reset_timeout".into()),
        };
        assert_eq!(
            e.to_string(),
            "breaker `quotes`: unknown key `timeout`; did you mean `reset_timeout`?"
        );
    }
}
