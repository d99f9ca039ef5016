//! The backoff grammar: `fixed`, `linear(step = D, max = D)` and
//! `exponential(multiplier = F, max = D)`, each with an optional `jitter = F`; the attribute
//! writes it as Rust, a config file as a string or a table, and both read it by these rules.
//!
//! ```
//! let exponential = breaker_spec::backoff::kind("exponential").unwrap();
//! assert_eq!(exponential.params, ["multiplier", "max", "jitter"]);
//! ```

use crate::suggest::{did_you_mean, suggestions};

/// One kind of backoff and the parameters it takes.
///
/// ```
/// let fixed = breaker_spec::backoff::kind("fixed").unwrap();
/// assert_eq!((fixed.name, fixed.required), ("fixed", None));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// Its name: `fixed`, `linear` or `exponential`.
    pub name: &'static str,
    /// Every parameter it takes, in the order messages list them.
    pub params: &'static [&'static str],
    /// The parameter it can't do without (also the one a lone positional value gives).
    pub required: Option<&'static str>,
    /// A complete example, as the attribute writes it.
    pub example: &'static str,
}

/// The backoff kinds.
///
/// ```
/// let linear = breaker_spec::backoff::KINDS[1];
/// assert_eq!(linear.name, "linear");
/// assert_eq!(linear.required, Some("step"));
/// ```
pub const KINDS: &[Kind] = &[
    Kind {
        name: "fixed",
        params: &["jitter"],
        required: None,
        example: "fixed(jitter = 0.1)",
    },
    Kind {
        name: "linear",
        params: &["step", "max", "jitter"],
        required: Some("step"),
        example: "linear(step = \"10s\", max = \"5m\")",
    },
    Kind {
        name: "exponential",
        params: &["multiplier", "max", "jitter"],
        required: Some("multiplier"),
        example: "exponential(multiplier = 2.0, max = \"5m\")",
    },
];

/// How to write a backoff, for the end of messages about one.
///
/// ```
/// assert!(breaker_spec::backoff::HINT.starts_with("write `fixed`"));
/// ```
pub const HINT: &str = "write `fixed`, `linear(step = \"10s\", max = \"5m\")` or \
     `exponential(multiplier = 2.0, max = \"5m\")`, each with an optional `jitter = 0.1`";

/// The kind called `name`, or the message for an unknown one (with a suggestion and
/// [`HINT`]).
///
/// ```
/// use breaker_spec::backoff::kind;
///
/// assert_eq!(kind("fixed").unwrap().params, ["jitter"]);
/// assert_eq!(
///     kind("exponentail").unwrap_err(),
///     "unknown backoff kind `exponentail` (did you mean `exponential`?): write `fixed`, \
///      `linear(step = \"10s\", max = \"5m\")` or `exponential(multiplier = 2.0, max = \"5m\")`, \
///      each with an optional `jitter = 0.1`"
/// );
/// ```
pub fn kind(name: &str) -> Result<&'static Kind, String> {
    if let Some(kind) = KINDS.iter().find(|k| k.name == name) {
        return Ok(kind);
    }
    let names: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
    let hint = did_you_mean(&suggestions(name, &names));
    Err(if hint.is_empty() {
        format!("unknown backoff kind `{name}`: {HINT}")
    } else {
        format!("unknown backoff kind `{name}` ({hint}): {HINT}")
    })
}

impl Kind {
    /// `Ok` when this kind takes `param`, else the message: what it takes instead, and the
    /// parameter probably meant.
    ///
    /// ```
    /// let linear = breaker_spec::backoff::kind("linear").unwrap();
    /// assert!(linear.takes("step").is_ok());
    /// assert_eq!(
    ///     linear.takes("multiplier").unwrap_err(),
    ///     "`linear` backoff has no `multiplier`; it takes `step`, `max` or `jitter`"
    /// );
    /// ```
    pub fn takes(&self, param: &str) -> Result<(), String> {
        if self.params.contains(&param) {
            return Ok(());
        }
        let quoted: Vec<String> = self.params.iter().map(|p| format!("`{p}`")).collect();
        let list = match quoted.as_slice() {
            [init @ .., last] if !init.is_empty() => format!("{} or {last}", init.join(", ")),
            _ => quoted.join(""),
        };
        let hint = did_you_mean(&suggestions(param, self.params));
        let message = format!("`{}` backoff has no `{param}`; it takes {list}", self.name);
        Err(if hint.is_empty() {
            message
        } else {
            format!("{message}: {hint}")
        })
    }

    /// The message for a kind given without its required parameter.
    ///
    /// ```
    /// let linear = breaker_spec::backoff::kind("linear").unwrap();
    /// assert_eq!(
    ///     linear.missing_required(),
    ///     "`linear` backoff needs a `step`, e.g. `linear(step = \"10s\", max = \"5m\")`"
    /// );
    /// ```
    pub fn missing_required(&self) -> String {
        format!(
            "`{}` backoff needs a `{}`, e.g. `{}`",
            self.name,
            self.required.unwrap_or_default(),
            self.example
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_parameters() {
        assert!(kind("cubic")
            .unwrap_err()
            .starts_with("unknown backoff kind `cubic`: write"));
        let fixed = kind("fixed").unwrap();
        assert_eq!(
            fixed.takes("max").unwrap_err(),
            "`fixed` backoff has no `max`; it takes `jitter`"
        );
        assert!(kind("exponential")
            .unwrap()
            .takes("jiter")
            .unwrap_err()
            .ends_with("did you mean `jitter`?"));
        for k in KINDS {
            assert_eq!(k.required.is_some(), k.name != "fixed");
            assert!(k.example.starts_with(k.name));
            if let Some(required) = k.required {
                assert!(k.params.contains(&required));
            }
        }
    }
}
