//! A TOML document: its `[default]` table and its `[breakers."name"]` tables, with `base`
//! inheritance resolved.

use super::suggest::suggest;
use super::value::{self, Raw};
use super::BreakerConfig;
use crate::error::ConfigError;
use std::collections::HashMap;

/// What a document sets: the `[default]` table and each breaker's table, each table
/// already laid over the tables its `base` chain names.
#[derive(Debug, Default)]
pub(super) struct FileLayers {
    pub(super) default: BreakerConfig,
    pub(super) tables: HashMap<String, BreakerConfig>,
}

/// The name errors give the `[default]` table.
const DEFAULT: &str = "default";

/// Reads a document; `source_name` says where it came from in syntax errors.
pub(super) fn parse(text: &str, source_name: &str) -> Result<FileLayers, ConfigError> {
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::Parse {
            source_name: source_name.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
    let mut layers = FileLayers::default();
    let mut own = HashMap::new();
    let mut bases = HashMap::new();
    for (key, value) in &doc {
        match (key.as_str(), value) {
            ("default", toml::Value::Table(t)) => layers.default = table(DEFAULT, t, None)?,
            ("breakers", toml::Value::Table(breakers)) => {
                for (name, value) in breakers {
                    let toml::Value::Table(t) = value else {
                        return Err(ConfigError::Parse {
                            source_name: source_name.to_owned(),
                            message: format!(
                                "`breakers.{}` must be a table: write `[breakers.\"{name}\"]` \
                                 and the settings below it",
                                toml::Value::String(name.clone())
                            ),
                        });
                    };
                    if name.is_empty() {
                        return Err(ConfigError::Parse {
                            source_name: source_name.to_owned(),
                            message: "`[breakers.\"\"]`: a breaker's name cannot be empty"
                                .to_owned(),
                        });
                    }
                    let mut base = None;
                    own.insert(name.clone(), table(name, t, Some(&mut base))?);
                    if let Some(base) = base {
                        bases.insert(name.clone(), base);
                    }
                }
            }
            ("default" | "breakers", other) => {
                return Err(ConfigError::Parse {
                    source_name: source_name.to_owned(),
                    message: format!(
                    "`{key}` must be a table, found {}: write `[{key}]` and the settings below it",
                    value::a(other)
                ),
                })
            }
            _ => {
                let hint = if value::KEYS.contains(&key.as_str()) {
                    "; settings go below `[default]` or `[breakers.\"name\"]`".to_owned()
                } else {
                    match suggest(key, &["default", "breakers"]) {
                        Some(s) => format!("; did you mean `[{s}]`?"),
                        None => "; a config file has a `[default]` table and `[breakers.\"name\"]` tables".to_owned(),
                    }
                };
                return Err(ConfigError::Parse {
                    source_name: source_name.to_owned(),
                    message: format!("unknown top-level key `{key}`{hint}"),
                });
            }
        }
    }
    let mut names: Vec<&String> = own.keys().collect();
    names.sort();
    for name in names {
        let chain = base_chain(name, &own, &bases)?;
        let flat = chain
            .iter()
            .rev()
            .fold(BreakerConfig::default(), |acc, n| acc.overlay(&own[*n]));
        layers.tables.insert(name.clone(), flat);
    }
    Ok(layers)
}

/// One table's settings. `base` is where a breaker table's `base` goes; `None` for
/// `[default]`, which has none.
fn table(
    breaker: &str,
    t: &toml::Table,
    mut base: Option<&mut Option<String>>,
) -> Result<BreakerConfig, ConfigError> {
    let mut config = BreakerConfig::default();
    for (key, v) in t {
        if key == "base" {
            match (base.as_deref_mut(), v) {
                (Some(slot), toml::Value::String(s)) => *slot = Some(s.clone()),
                (Some(_), other) => {
                    return Err(ConfigError::invalid(
                        breaker,
                        key,
                        Raw::Toml(v),
                        format!(
                            "expected the name of another breaker's table as a string, found {}",
                            value::a(other)
                        ),
                    ))
                }
                (None, _) => {
                    return Err(ConfigError::invalid(
                        breaker,
                        key,
                        Raw::Toml(v),
                        "`[default]` applies to every breaker and cannot have a `base`",
                    ))
                }
            }
            continue;
        }
        value::set(&mut config, breaker, key, Raw::Toml(v))?;
    }
    Ok(config)
}

/// `name` and the tables it inherits from, nearest first.
fn base_chain<'a>(
    name: &'a str,
    own: &'a HashMap<String, BreakerConfig>,
    bases: &'a HashMap<String, String>,
) -> Result<Vec<&'a str>, ConfigError> {
    let mut chain = vec![name];
    let mut at = name;
    while let Some(base) = bases.get(at) {
        if let Some(start) = chain.iter().position(|n| n == base) {
            let mut cycle: Vec<String> = chain[start..].iter().map(|s| s.to_string()).collect();
            cycle.push(base.clone());
            return Err(ConfigError::BaseCycle {
                breaker: base.clone(),
                chain: cycle,
            });
        }
        if !own.contains_key(base.as_str()) {
            return Err(ConfigError::UnknownBase {
                breaker: at.to_owned(),
                base: base.clone(),
            });
        }
        chain.push(base);
        at = base;
    }
    Ok(chain)
}
