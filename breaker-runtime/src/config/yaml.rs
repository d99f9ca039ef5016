//! YAML config files (feature `yaml`): read into the TOML values the TOML path reads, so a
//! YAML file has the same keys, `base` chains, precedence and errors, each written once in
//! `file.rs` and `value.rs`.

use super::file::{self, FileLayers};
use crate::error::ConfigError;
use serde_norway::Value;

/// Reads a YAML document; `source_name` says where it came from in errors.
pub(super) fn parse(text: &str, source_name: &str) -> Result<FileLayers, ConfigError> {
    let parse_error = |message: String| ConfigError::Parse {
        source_name: source_name.to_owned(),
        message,
    };
    let syntax = |e: serde_norway::Error| parse_error(format!("YAML parse error: {e}"));
    let mut doc: Value = if text.trim().is_empty() {
        // An empty file sets nothing, as an empty TOML file does.
        Value::Null
    } else {
        serde_norway::from_str(text).map_err(syntax)?
    };
    // YAML's own inheritance (`<<: *anchor`) is resolved first, so it works beside `base`.
    doc.apply_merge().map_err(syntax)?;
    let doc = match doc {
        Value::Null => toml::Table::new(),
        Value::Mapping(_) => {
            match convert(doc, &mut Vec::new()).map_err(|e| e.error(source_name))? {
                toml::Value::Table(t) => t,
                _ => unreachable!("a mapping converts to a table"),
            }
        }
        other => {
            return Err(parse_error(format!(
                "the document must be a mapping with `default` and `breakers`, found {}",
                a(&other)
            )))
        }
    };
    file::layers(&doc, source_name)
}

/// Why a YAML value has no TOML equivalent, and where it is.
struct Unconvertible {
    path: Vec<String>,
    found: &'static str,
}

impl Unconvertible {
    /// A setting with no value names its breaker and key, as a bad value does; anything else
    /// is a document that cannot be read, at its path.
    fn error(self, source_name: &str) -> ConfigError {
        let (breaker, key) = match self.path.as_slice() {
            [top, key] if top == "default" => ("default", key),
            [top, name, key, ..] if top == "breakers" => (name.as_str(), key),
            _ => {
                return ConfigError::Parse {
                    source_name: source_name.to_owned(),
                    message: format!("`{}`: {}", self.path.join("."), self.found),
                }
            }
        };
        ConfigError::invalid(breaker, key, "null", self.found)
    }
}

/// `value` as TOML; `path` is where it is, for errors.
fn convert(value: Value, path: &mut Vec<String>) -> Result<toml::Value, Unconvertible> {
    let fail = |path: &Vec<String>, found| {
        Err(Unconvertible {
            path: path.clone(),
            found,
        })
    };
    Ok(match value {
        // `breakers:` or `quotes:` with nothing below: a table with no settings, as TOML's
        // empty `[breakers."quotes"]`.
        Value::Null if is_table(path) => toml::Value::Table(toml::Table::new()),
        Value::Null => return fail(path, "has no value"),
        Value::Bool(b) => toml::Value::Boolean(b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => toml::Value::Integer(i),
            (None, Some(f)) if n.is_f64() => toml::Value::Float(f),
            _ => return fail(path, "is a number too large to read"),
        },
        Value::String(s) => toml::Value::String(s),
        Value::Sequence(items) => {
            let mut array = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                path.push(i.to_string());
                array.push(convert(item, path)?);
                path.pop();
            }
            toml::Value::Array(array)
        }
        Value::Mapping(entries) => {
            let mut table = toml::Table::new();
            for (key, item) in entries {
                let key = match key {
                    Value::String(s) => s,
                    // `breakers: { 404: … }` names a breaker `404`, as TOML's bare keys do.
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return fail(path, "has a key that is not a string"),
                };
                path.push(key.clone());
                let item = convert(item, path)?;
                path.pop();
                table.insert(key, item);
            }
            toml::Value::Table(table)
        }
        Value::Tagged(_) => return fail(path, "has a `!tag`, which config files do not use"),
    })
}

/// Whether `path` is where a table goes: `default`, `breakers` or a breaker's table.
fn is_table(path: &[String]) -> bool {
    match path {
        [top] => top == "default" || top == "breakers",
        [top, _] => top == "breakers",
        _ => false,
    }
}

/// "a string", "a sequence": the kind of a YAML value, for messages.
fn a(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a sequence",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}
