//! A TOML document: its `[default]` table and its `[breakers."name"]` tables, with `base`
//! inheritance resolved.

use super::value::{self, Raw};
use crate::error::ConfigError;
use crate::settings::BreakerConfig;
use breaker_spec::suggest::suggestions;
use std::collections::{HashMap, HashSet};

/// What a document sets: the `[default]` table and each breaker's table, each table
/// already laid over the tables its `base` chain names.
#[derive(Debug, Default)]
pub(super) struct FileLayers {
    pub(super) default: BreakerConfig,
    pub(super) tables: HashMap<String, BreakerConfig>,
    /// The tables other tables name as their `base`.
    pub(super) bases: HashSet<String>,
}

/// The name errors give the `[default]` table.
const DEFAULT: &str = "default";

/// Reads a TOML document; `source_name` says where it came from in syntax errors.
pub(super) fn parse(text: &str, source_name: &str) -> Result<FileLayers, ConfigError> {
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::Parse {
            source_name: source_name.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
    layers(&doc, source_name)
}

/// The layers of a document already read into TOML's values, whatever its format: every
/// rule of a config file is here, once.
pub(super) fn layers(doc: &toml::Table, source_name: &str) -> Result<FileLayers, ConfigError> {
    let mut layers = FileLayers::default();
    let mut own = HashMap::new();
    let mut bases = HashMap::new();
    for (key, value) in doc {
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
                    match suggestions(key, &["default", "breakers"]).first() {
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
        if layers.tables.contains_key(name.as_str()) {
            continue;
        }
        // The chain up to a table already resolved (or to one with no base): each table is
        // laid over its base once, so a document resolves in time linear in its tables.
        let chain = base_chain(name, &own, &bases, &layers.tables)?;
        let mut flat = chain
            .last()
            .and_then(|top| bases.get(*top))
            .and_then(|base| layers.tables.get(base))
            .cloned()
            .unwrap_or_default();
        for n in chain.iter().rev() {
            flat = merge(&flat, &own[*n]);
            layers.tables.insert((*n).to_owned(), flat.clone());
        }
    }
    layers.bases = bases.into_values().collect();
    Ok(layers)
}

/// `higher` laid over `base`: one table merge.
fn merge(base: &BreakerConfig, higher: &BreakerConfig) -> BreakerConfig {
    #[cfg(test)]
    tests::MERGES.with(|m| m.set(m.get() + 1));
    base.overlay(higher)
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

/// `name` and the tables it inherits from, nearest first, up to (without) the first one
/// already in `resolved`.
fn base_chain<'a>(
    name: &'a str,
    own: &'a HashMap<String, BreakerConfig>,
    bases: &'a HashMap<String, String>,
    resolved: &HashMap<String, BreakerConfig>,
) -> Result<Vec<&'a str>, ConfigError> {
    let mut chain = vec![name];
    let mut on_chain: HashMap<&str, usize> = HashMap::from([(name, 0)]);
    let mut at = name;
    while let Some(base) = bases.get(at) {
        if let Some(&start) = on_chain.get(base.as_str()) {
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
        if resolved.contains_key(base.as_str()) {
            break;
        }
        on_chain.insert(base, chain.len());
        chain.push(base);
        at = base;
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::fmt::Write;

    thread_local! {
        /// Table merges done by `parse` on this thread.
        pub(super) static MERGES: Cell<usize> = const { Cell::new(0) };
    }

    fn chain_of(n: usize) -> String {
        let mut text = String::from("[breakers.t0]\nfailure_threshold = 3\n");
        for i in 1..n {
            let _ = write!(text, "[breakers.t{i}]\nbase = \"t{}\"\n", i - 1);
            if i % 2 == 0 {
                let _ = writeln!(text, "success_threshold = {}", i % 7 + 1);
            }
        }
        text
    }

    /// Regression: each table's chain was walked and merged again from its root (and the
    /// cycle check scanned the chain at every step), so a chain of 1,000 tables took a third
    /// of a second and 2,000 several times that. Now each table is merged once.
    #[test]
    fn a_long_base_chain_is_resolved_with_one_merge_per_table() {
        for n in [1, 2, 250, 2_000] {
            MERGES.with(|m| m.set(0));
            let started = std::time::Instant::now();
            let layers = parse(&chain_of(n), "<test>").unwrap();
            assert!(
                started.elapsed() < std::time::Duration::from_secs(2),
                "{n} tables took {:?}",
                started.elapsed()
            );
            assert_eq!(MERGES.with(Cell::get), n, "merges for {n} tables");
            assert_eq!(layers.tables.len(), n);
            let last = &layers.tables[&format!("t{}", n - 1)];
            assert_eq!(last.failure_threshold, Some(3), "inherited from the root");
        }
    }

    #[test]
    fn tables_inherit_nearest_first_in_any_order() {
        let layers = parse(
            "[breakers.a]\nbase = \"b\"\nfailure_threshold = 1\n\
             [breakers.b]\nbase = \"c\"\nsuccess_threshold = 2\nfailure_threshold = 9\n\
             [breakers.c]\nsuccess_threshold = 8\nhalf_open_max_calls = 3\n\
             [breakers.d]\nbase = \"b\"\n",
            "<test>",
        )
        .unwrap();
        let a = &layers.tables["a"];
        assert_eq!(
            (
                a.failure_threshold,
                a.success_threshold,
                a.half_open_max_calls
            ),
            (Some(1), Some(2), Some(3))
        );
        let d = &layers.tables["d"];
        assert_eq!(
            (
                d.failure_threshold,
                d.success_threshold,
                d.half_open_max_calls
            ),
            (Some(9), Some(2), Some(3))
        );
        assert_eq!(layers.tables["c"].failure_threshold, None);
    }
}
