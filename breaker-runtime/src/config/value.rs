//! The keys a config file or variable may set, and how each value is read: the same names
//! and values as the attribute's arguments.

use crate::backoff::Backoff;
use crate::error::ConfigError;
use crate::settings::{BreakerConfig, Window};
use breaker_spec::settings::SETTINGS;
use breaker_spec::suggest::suggestions;
use breaker_spec::{backoff as grammar, check, duration as spec_duration};
use std::fmt;
use std::time::Duration;

/// Every key a `[default]` or `[breakers."name"]` table, or a variable, may set.
pub(super) use breaker_spec::settings::FILE_KEYS as KEYS;

/// The attribute's arguments that only code can give: their names.
pub(super) fn code_only_keys() -> impl Iterator<Item = &'static str> {
    SETTINGS
        .iter()
        .filter(|s| s.code_only.is_some())
        .map(|s| s.name)
}

/// The form of a backoff only a file has, added to the spec's hint.
const TABLE_FORM: &str =
    "in a file also a table, `{ kind = \"exponential\", multiplier = 2.0, max = \"5m\" }`";

/// How to write a backoff: the spec's hint and the table form.
fn backoff_hint() -> String {
    format!("{}; {TABLE_FORM}", grammar::HINT)
}

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
    SETTINGS
        .iter()
        .find(|s| s.name == key)
        .and_then(|s| s.code_only)
        .map(|why| ConfigError::invalid(breaker, key, value, why))
}

/// Sets `key` on `config`, or says which of breaker, key and value is wrong.
pub(super) fn set(
    config: &mut BreakerConfig,
    breaker: &str,
    key: &str,
    raw: Raw<'_>,
) -> Result<(), ConfigError> {
    let bad = |reason: String| ConfigError::invalid(breaker, key, raw, reason);
    // Each setting is read by the reader of its kind (`count`, `rate`, … below).
    macro_rules! set_each {
        ($($field:ident: $kind:ident),*) => {
            match key {
                $(stringify!($field) => config.$field = Some($kind(raw).map_err(bad)?),)*
                _ => {
                    return Err(code_only(breaker, key, raw).unwrap_or_else(|| unknown(breaker, key)));
                }
            }
        };
    }
    breaker_spec::for_each_setting!(set_each);
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
        suggestion: suggestions(key, KEYS).first().map(|s| (*s).to_owned()),
    }
}

/// Checks the value of `key` in `config` on its own, with the checks a breaker's settings
/// get, so a layer is rejected for a value out of range even before any breaker uses it.
/// Rules between keys (`minimum_calls` within the window, …) are checked on the whole stack
/// of each breaker instead, since another layer may complete them.
fn check_alone(breaker: &str, config: &BreakerConfig, key: &str) -> Result<(), ConfigError> {
    macro_rules! each {
        ($($field:ident: $kind:ident),*) => {$(
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
    breaker_spec::for_each_setting!(each);
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

/// A count as a `u32`; its limit is checked with the other values, in `resolve`.
fn count(raw: Raw<'_>) -> Result<u32, String> {
    let i = integer(raw)?;
    // Below 1 and above `u32` are refused by the spec's rule, with its words.
    u32::try_from(i).map_err(|_| {
        let n = u64::try_from(i).unwrap_or(0);
        check::count(n, u64::from(u32::MAX)).unwrap_err()
    })
}

fn rate(raw: Raw<'_>) -> Result<f64, String> {
    number(raw)
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
        Raw::Toml(toml::Value::String(s)) => spec_duration::parse(s),
        Raw::Toml(toml::Value::Integer(_) | toml::Value::Float(_)) => Err(format!(
            "a duration needs a unit and quotes: {}",
            spec_duration::HINT
        )),
        Raw::Toml(other) => Err(format!(
            "expected a duration string, found {}: {}",
            a(other),
            spec_duration::HINT
        )),
        Raw::Text(s) => spec_duration::parse(unquote(s)),
    }
}

fn window(raw: Raw<'_>) -> Result<Window, String> {
    // The range is checked with the other values; here only what fits a `u32`.
    let calls = |i: i64| {
        u32::try_from(i)
            .map(Window::Calls)
            .map_err(|_| check::window_calls(u64::try_from(i).unwrap_or(0)).unwrap_err())
    };
    match raw {
        Raw::Toml(toml::Value::Integer(i)) => calls(*i),
        Raw::Toml(toml::Value::String(s)) => spec_duration::parse(s).map(Window::Time),
        Raw::Toml(other) => Err(format!(
            "expected a number of calls or a duration string, found {}",
            a(other)
        )),
        Raw::Text(s) => {
            let s = unquote(s);
            match s.parse::<i64>() {
                Ok(i) => calls(i),
                Err(_) => spec_duration::parse(s).map(Window::Time),
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
                        "`kind` must be a string, found {}: {}",
                        a(other),
                        backoff_hint()
                    ))
                }
                None => return Err(format!("the table needs a `kind`: {}", backoff_hint())),
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
                "expected a string or a table, found {}: {}",
                a(other),
                backoff_hint()
            ))
        }
    };
    let kind = grammar::kind(kind).map_err(|e| format!("{e}; {TABLE_FORM}"))?;
    let (mut multiplier, mut step, mut max, mut jitter) = (None, None, None, None);
    for (name, value) in params {
        kind.takes(name)?;
        let named = |e: String| format!("`{name}` = {value}: {e}");
        // A written step or cap has a duration's range, as in the attribute.
        let span = |d: Duration| check::duration(d, false).map(|()| d);
        match name {
            "multiplier" => multiplier = Some(number(value).map_err(named)?),
            "jitter" => jitter = Some(number(value).map_err(named)?),
            "step" => step = Some(duration(value).and_then(span).map_err(named)?),
            _ => max = Some(duration(value).and_then(span).map_err(named)?),
        }
    }
    let mut backoff = match kind.name {
        "fixed" => Backoff::fixed(),
        "linear" => Backoff::linear(step.ok_or_else(|| kind.missing_required())?),
        _ => Backoff::exponential(multiplier.ok_or_else(|| kind.missing_required())?),
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
        return Err(format!("missing `)`: {}", backoff_hint()));
    };
    let mut params = Vec::new();
    for part in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, value)) = part.split_once('=') else {
            return Err(format!(
                "expected `name = value`, found `{part}`: {}",
                backoff_hint()
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
