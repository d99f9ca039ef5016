//! The keys a config file or variable may set, and how each value is read: the same names
//! and values as the attribute's arguments.

use super::duration;
use crate::backoff::Backoff;
use crate::error::ConfigError;
use crate::settings::{BreakerConfig, Window};
use std::fmt;
use std::time::Duration;

/// Every key a `[default]` or `[breakers."name"]` table, or a variable, may set.
pub(super) const KEYS: &[&str] = &[
    "failure_threshold",
    "failure_rate",
    "minimum_calls",
    "window",
    "slow_call",
    "slow_call_rate",
    "success_threshold",
    "half_open_max_calls",
    "reset_timeout",
    "backoff",
    "half_open_timeout",
    "call_timeout",
];

/// Attribute arguments that only code can give, and why.
pub(super) const CODE_ONLY: &[(&str, &str)] = &[
    (
        "failure_if",
        "is a function, so it is set in code only (the attribute's `failure_if = path` or the builder)",
    ),
    (
        "ignore_if",
        "is a function, so it is set in code only (the attribute's `ignore_if = path` or the builder)",
    ),
    (
        "fallback",
        "is a function, so it is set in code only (the attribute's `fallback = path`)",
    ),
    (
        "name",
        "is set in code only; a file names a breaker by its table, `[breakers.\"name\"]`",
    ),
    (
        "crate",
        "is a path in code, set on the attribute only",
    ),
];

const BACKOFF_HINT: &str = "write \"fixed\", \"linear(step = 10s, max = 2m)\" or \
     \"exponential(multiplier = 2, max = 5m)\", each with an optional `jitter = 0.1`; in a file \
     also `{ kind = \"exponential\", multiplier = 2.0, max = \"5m\" }`";

/// A value as a file or a variable wrote it.
#[derive(Clone, Copy, Debug)]
pub(super) enum Raw<'a> {
    /// A TOML value.
    Toml(&'a toml::Value),
    /// The text of an environment variable (or of a part of one).
    Text(&'a str),
}

impl fmt::Display for Raw<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Raw::Toml(v) => write!(f, "{v}"),
            Raw::Text(s) => write!(f, "\"{}\"", s.escape_debug()),
        }
    }
}

/// Why `key` cannot be set from outside the code, if it is a code-only argument.
pub(super) fn code_only(breaker: &str, key: &str, value: Raw<'_>) -> Option<ConfigError> {
    CODE_ONLY
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, why)| ConfigError::invalid(breaker, key, value, *why))
}

/// Sets `key` on `config`, or says which of breaker, key and value is wrong.
pub(super) fn set(
    config: &mut BreakerConfig,
    breaker: &str,
    key: &str,
    raw: Raw<'_>,
) -> Result<(), ConfigError> {
    let bad = |reason: String| ConfigError::invalid(breaker, key, raw, reason);
    match key {
        "failure_threshold" => config.failure_threshold = Some(count(raw).map_err(bad)?),
        "minimum_calls" => config.minimum_calls = Some(count(raw).map_err(bad)?),
        "success_threshold" => config.success_threshold = Some(count(raw).map_err(bad)?),
        "half_open_max_calls" => config.half_open_max_calls = Some(count(raw).map_err(bad)?),
        "failure_rate" => config.failure_rate = Some(number(raw).map_err(bad)?),
        "slow_call_rate" => config.slow_call_rate = Some(number(raw).map_err(bad)?),
        "slow_call" => config.slow_call = Some(duration(raw).map_err(bad)?),
        "reset_timeout" => config.reset_timeout = Some(duration(raw).map_err(bad)?),
        "half_open_timeout" => config.half_open_timeout = Some(duration(raw).map_err(bad)?),
        "call_timeout" => config.call_timeout = Some(duration(raw).map_err(bad)?),
        "window" => config.window = Some(window(raw).map_err(bad)?),
        "backoff" => config.backoff = Some(backoff(raw).map_err(bad)?),
        _ => {
            return Err(code_only(breaker, key, raw).unwrap_or_else(|| unknown(breaker, key)));
        }
    }
    check_alone(breaker, config, key).map_err(|e| match e {
        // Show the value as written ("400d"), not as the check formats it.
        ConfigError::Invalid {
            breaker,
            key,
            reason,
            ..
        } => ConfigError::Invalid {
            breaker,
            key,
            value: raw.to_string(),
            reason,
        },
        other => other,
    })
}

/// An unknown key, with the closest known one.
pub(super) fn unknown(breaker: &str, key: &str) -> ConfigError {
    ConfigError::UnknownKey {
        breaker: breaker.to_owned(),
        key: key.to_owned(),
        suggestion: super::suggest::suggest(key, KEYS),
    }
}

/// Checks the value of `key` in `config` on its own, with the checks a breaker's settings
/// get, so a layer is rejected for a value out of range even before any breaker uses it.
/// Rules between keys (`minimum_calls` within the window, …) are checked on the whole stack
/// of each breaker instead, since another layer may complete them.
fn check_alone(breaker: &str, config: &BreakerConfig, key: &str) -> Result<(), ConfigError> {
    macro_rules! each {
        ($($field:ident),*) => {$(
            if key == stringify!($field) {
                let mut alone = BreakerConfig {
                    $field: config.$field.clone(),
                    ..BreakerConfig::default()
                };
                if alone.slow_call_rate.is_some() {
                    // The rate is checked on its own; its need for `slow_call` is a rule
                    // between keys.
                    alone.slow_call = Some(Duration::from_secs(1));
                }
                alone.resolve(breaker)?;
            }
        )*};
    }
    each!(
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
        call_timeout
    );
    Ok(())
}

fn integer(raw: Raw<'_>) -> Result<i64, String> {
    match raw {
        Raw::Toml(toml::Value::Integer(i)) => Ok(*i),
        Raw::Toml(other) => Err(format!("expected a whole number, found {}", a(other))),
        Raw::Text(s) => s
            .trim()
            .parse()
            .map_err(|_| "expected a whole number".to_owned()),
    }
}

fn count(raw: Raw<'_>) -> Result<u32, String> {
    let i = integer(raw)?;
    u32::try_from(i).map_err(|_| {
        if i < 0 {
            "must be at least 1".to_owned()
        } else {
            format!("must be at most {}", u32::MAX)
        }
    })
}

fn number(raw: Raw<'_>) -> Result<f64, String> {
    match raw {
        Raw::Toml(toml::Value::Float(f)) => Ok(*f),
        Raw::Toml(toml::Value::Integer(i)) => Ok(*i as f64),
        Raw::Toml(other) => Err(format!("expected a number, found {}", a(other))),
        Raw::Text(s) => s
            .trim()
            .parse()
            .map_err(|_| "expected a number such as 0.5".to_owned()),
    }
}

fn duration(raw: Raw<'_>) -> Result<Duration, String> {
    match raw {
        Raw::Toml(toml::Value::String(s)) => duration::parse(s),
        Raw::Toml(toml::Value::Integer(_) | toml::Value::Float(_)) => Err(format!(
            "a duration needs a unit and quotes: {}",
            duration::HINT
        )),
        Raw::Toml(other) => Err(format!(
            "expected a duration string, found {}: {}",
            a(other),
            duration::HINT
        )),
        Raw::Text(s) => duration::parse(unquote(s)),
    }
}

fn window(raw: Raw<'_>) -> Result<Window, String> {
    let calls = |i: i64| {
        u32::try_from(i)
            .map(Window::Calls)
            .map_err(|_| "must be a number of calls from 1 to 65535, or a duration".to_owned())
    };
    match raw {
        Raw::Toml(toml::Value::Integer(i)) => calls(*i),
        Raw::Toml(toml::Value::String(s)) => duration::parse(s).map(Window::Time),
        Raw::Toml(other) => Err(format!(
            "expected a number of calls or a duration string, found {}",
            a(other)
        )),
        Raw::Text(s) => {
            let s = unquote(s);
            match s.parse::<i64>() {
                Ok(i) => calls(i),
                Err(_) => duration::parse(s).map(Window::Time),
            }
        }
    }
}

/// `fixed`, `kind(name = value, …)`, or a table with `kind` and the parameters.
fn backoff(raw: Raw<'_>) -> Result<Backoff, String> {
    let (kind, params) = match raw {
        Raw::Toml(toml::Value::String(s)) => split_call(s)?,
        Raw::Text(s) => split_call(s)?,
        Raw::Toml(toml::Value::Table(t)) => {
            let kind = match t.get("kind") {
                Some(toml::Value::String(k)) => k.as_str(),
                Some(other) => {
                    return Err(format!(
                        "`kind` must be a string, found {}: {BACKOFF_HINT}",
                        a(other)
                    ))
                }
                None => return Err(format!("the table needs a `kind`: {BACKOFF_HINT}")),
            };
            let params = t
                .iter()
                .filter(|(k, _)| *k != "kind")
                .map(|(k, v)| (k.as_str(), Raw::Toml(v)))
                .collect();
            (kind, params)
        }
        Raw::Toml(other) => {
            return Err(format!(
                "expected a string or a table, found {}: {BACKOFF_HINT}",
                a(other)
            ))
        }
    };
    let takes: &[&str] = match kind {
        "fixed" => &["jitter"],
        "linear" => &["step", "max", "jitter"],
        "exponential" => &["multiplier", "max", "jitter"],
        other => return Err(format!("unknown backoff kind `{other}`: {BACKOFF_HINT}")),
    };
    let (mut multiplier, mut step, mut max, mut jitter) = (None, None, None, None);
    for (name, value) in params {
        if !takes.contains(&name) {
            return Err(format!(
                "`{kind}` backoff has no `{name}`; it takes {}",
                takes
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let named = |e: String| format!("`{name}` = {value}: {e}");
        match name {
            "multiplier" => multiplier = Some(number(value).map_err(named)?),
            "jitter" => jitter = Some(number(value).map_err(named)?),
            "step" => step = Some(duration(value).map_err(named)?),
            _ => max = Some(duration(value).map_err(named)?),
        }
    }
    let mut backoff = match kind {
        "fixed" => Backoff::fixed(),
        "linear" => Backoff::linear(step.ok_or_else(|| {
            "`linear` backoff needs a `step`, e.g. \"linear(step = 10s, max = 2m)\"".to_owned()
        })?),
        _ => Backoff::exponential(multiplier.ok_or_else(|| {
            "`exponential` backoff needs a `multiplier`, e.g. \"exponential(multiplier = 2, max = 5m)\""
                .to_owned()
        })?),
    };
    if let Some(max) = max {
        backoff = backoff.max(max);
    }
    if let Some(jitter) = jitter {
        backoff = backoff.jitter(jitter);
    }
    backoff.check()?;
    Ok(backoff)
}

/// A backoff's parameters by name.
type Params<'a> = Vec<(&'a str, Raw<'a>)>;

/// Splits `kind(name = value, …)` (or a bare `kind`) into its parts.
fn split_call(text: &str) -> Result<(&str, Params<'_>), String> {
    let text = unquote(text);
    let Some(open) = text.find('(') else {
        return Ok((text.trim(), Vec::new()));
    };
    let Some(inner) = text[open + 1..].trim_end().strip_suffix(')') else {
        return Err(format!("missing `)`: {BACKOFF_HINT}"));
    };
    let mut params = Vec::new();
    for part in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, value)) = part.split_once('=') else {
            return Err(format!(
                "expected `name = value`, found `{part}`: {BACKOFF_HINT}"
            ));
        };
        let name = name.trim();
        if params.iter().any(|(n, _)| *n == name) {
            return Err(format!("`{name}` is given twice"));
        }
        params.push((name, Raw::Text(value.trim())));
    }
    Ok((text[..open].trim(), params))
}

/// "a string", "an integer": the kind of a TOML value, for messages.
pub(super) fn a(v: &toml::Value) -> String {
    let kind = v.type_str();
    let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {kind}")
}

/// Text without one pair of surrounding quotes, so `"5m"` and `5m` both read.
fn unquote(text: &str) -> &str {
    let t = text.trim();
    ['"', '\'']
        .iter()
        .find_map(|q| t.strip_prefix(*q).and_then(|t| t.strip_suffix(*q)))
        .unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_backoff(s: &str) -> Result<Backoff, String> {
        backoff(Raw::Text(s))
    }

    #[test]
    fn backoff_text_forms() {
        assert_eq!(text_backoff("fixed").unwrap(), Backoff::fixed());
        assert_eq!(
            text_backoff("exponential(multiplier=2,max=5m)").unwrap(),
            Backoff::exponential(2.0).max(Duration::from_secs(300))
        );
        assert_eq!(
            text_backoff("linear(step = \"10s\", max = \"2m\", jitter = 0.1)").unwrap(),
            Backoff::linear(Duration::from_secs(10))
                .max(Duration::from_secs(120))
                .jitter(0.1)
        );
        assert!(text_backoff("exponential")
            .unwrap_err()
            .contains("multiplier"));
        assert!(text_backoff("linear(step=10s")
            .unwrap_err()
            .contains("missing `)`"));
        assert!(text_backoff("fixed(step=1s)")
            .unwrap_err()
            .contains("has no `step`"));
        assert!(text_backoff("cubic")
            .unwrap_err()
            .contains("unknown backoff kind"));
        assert!(text_backoff("exponential(multiplier=0.5)")
            .unwrap_err()
            .contains("at least 1"));
        assert!(text_backoff("exponential(multiplier=x)")
            .unwrap_err()
            .contains("`multiplier` = \"x\""));
    }

    #[test]
    fn windows_are_counts_or_durations() {
        assert_eq!(window(Raw::Text("100")).unwrap(), Window::Calls(100));
        assert_eq!(
            window(Raw::Text("60s")).unwrap(),
            Window::Time(Duration::from_secs(60))
        );
        assert!(window(Raw::Text("-1")).is_err());
    }
}
