//! `GET /breakers/{name}`: a breaker's snapshot with its settings, each with its source.

use super::fleet_link::Entry;
use super::AdminRouter;
use crate::breaker::CircuitBreaker;
use crate::registry::Registry;
use serde::Serialize;

/// `GET /breakers/{name}`: the snapshot, and each setting's value and source.
#[derive(Serialize)]
pub(super) struct Detail {
    #[serde(flatten)]
    entry: Entry,
    settings: serde_json::Map<String, serde_json::Value>,
}

/// `{"<key>": {"value": …, "source": "default" | "file" | "code" | "env"}, …}`: every
/// setting, its value as [`Settings`](crate::Settings) serializes it; the predicates' value
/// says whether one is set.
fn settings_of(
    registry: &Registry,
    b: &CircuitBreaker,
) -> serde_json::Map<String, serde_json::Value> {
    let settings = b.settings();
    let values = match serde_json::to_value(&settings) {
        Ok(serde_json::Value::Object(values)) => values,
        _ => serde_json::Map::new(),
    };
    let sources = registry.setting_sources(b.name()).unwrap_or_default();
    sources
        .into_iter()
        .map(|(key, source)| {
            let value = match key {
                "failure_if" => settings.has_failure_if().into(),
                "ignore_if" => settings.has_ignore_if().into(),
                "classify" => settings.has_classify().into(),
                _ => values.get(key).cloned().unwrap_or_default(),
            };
            let entry = serde_json::json!({ "value": value, "source": source });
            (key.to_owned(), entry)
        })
        .collect()
}

impl Detail {
    pub(super) fn of(admin: &AdminRouter, b: &CircuitBreaker) -> Detail {
        Detail {
            settings: settings_of(&admin.registry, b),
            entry: Entry::of(admin, b.snapshot()),
        }
    }
}
