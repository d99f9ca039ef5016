//! Names in the loaded settings that no breaker has: most likely typos, which would otherwise
//! load without a word and change nothing.
//!
//! Settings for a breaker that does not exist yet are legal (they apply when it is created),
//! so a name is unmatched only for now: against the breakers registered when asked. The
//! breakers of annotated functions whose names are known when they are compiled count as
//! registered from the start, before their first call; a method named after its `Self` type
//! registers on its first call, so before that its name is unmatched, and the warning says the
//! settings still apply later.

use crate::registry::{registry, Registry};
use crate::settings::overlay::env_name;
use breaker_spec::suggest::{did_you_mean, suggestions};
use std::collections::HashSet;

/// The names in the loaded settings that no breaker in the global
/// [`registry()`](crate::registry()) has, sorted: `[breakers."name"]` tables as the file
/// writes them, and `BREAKER_<NAME>_<KEY>` variables by their `<NAME>` as the variable
/// writes it. A table that only serves as another's `base` is not listed. A breaker created
/// later matches its name from then on.
///
/// Loads log the same names as warnings, each with the closest registered name.
///
/// ```
/// use breaker_runtime::{config, registry, BreakerConfig};
///
/// registry().get_or_create("docs-orders", BreakerConfig::default());
/// config::load_str(r#"
///     [breakers."docs-ordres"]
///     failure_threshold = 3
/// "#)?;
/// assert_eq!(config::unmatched(), ["docs-ordres"]);
///
/// // Settings loaded before their breaker exists are not wrong: they apply when it is created.
/// registry().get_or_create("docs-ordres", BreakerConfig::default());
/// assert!(config::unmatched().is_empty());
/// # Ok::<(), breaker_runtime::ConfigError>(())
/// ```
pub fn unmatched() -> Vec<String> {
    unmatched_in(registry())
}

/// [`unmatched`] against a registry of your own.
///
/// ```
/// use breaker_runtime::{config, BreakerConfig, Registry};
///
/// let registry = Registry::new();
/// registry.get_or_create("quotes-api", BreakerConfig::default());
/// config::load_vars_into(&registry, [
///     ("BREAKER_QUOTES_API_FAILURE_THRESHOLD", "3"),
///     ("BREAKER_QOUTES_API_RESET_TIMEOUT", "10s"),
/// ])?;
/// assert_eq!(config::unmatched_in(&registry), ["QOUTES_API"]);
/// # Ok::<(), breaker_runtime::ConfigError>(())
/// ```
pub fn unmatched_in(registry: &Registry) -> Vec<String> {
    let mut found: Vec<String> = find(registry, Loaded::Tables)
        .into_iter()
        .chain(find(registry, Loaded::Variables))
        .map(|(name, _)| name)
        .collect();
    found.sort();
    found
}

/// Which layer a load replaced, and so which names it warns about.
#[derive(Clone, Copy)]
pub(super) enum Loaded {
    /// A document's `[breakers."name"]` tables.
    Tables,
    /// `BREAKER_<NAME>_<KEY>` variables.
    Variables,
}

/// Logs a warning for each name of the `loaded` layer that no breaker has. Called after the
/// load, outside the registry's lock, since a subscriber may read the registry.
pub(super) fn warn(registry: &Registry, loaded: Loaded) {
    let what = match loaded {
        Loaded::Tables => "the table `[breakers.\"{}\"]`",
        Loaded::Variables => "the variables `BREAKER_{}_…`",
    };
    for (name, closest) in find(registry, loaded) {
        let hint = if closest.is_empty() {
            String::new()
        } else {
            let closest: Vec<&str> = closest.iter().map(String::as_str).collect();
            format!("; {}", did_you_mean(&closest))
        };
        let subject = what.replace("{}", &name);
        tracing::warn!(
            target: "breaker_runtime",
            name = %name,
            "{subject} names no breaker{hint} (its settings apply if a breaker of that name is created later)"
        );
    }
}

/// The unmatched names of the `loaded` layer, each with the registered names it is closest to.
fn find(registry: &Registry, loaded: Loaded) -> Vec<(String, Vec<String>)> {
    let (candidates, known) = {
        let inner = registry.read();
        let candidates: Vec<String> = match loaded {
            Loaded::Tables => inner
                .layers
                .tables
                .keys()
                .filter(|name| !inner.layers.bases.contains(*name))
                .cloned()
                .collect(),
            Loaded::Variables => inner.layers.env.keys().cloned().collect(),
        };
        let mut known: Vec<String> = inner
            .breakers
            .keys()
            .map(|n| n.as_str().to_owned())
            // The annotated functions' breakers are known from the start, built or not.
            .chain(
                registry
                    .declared_names()
                    .filter(|d| !inner.removed.contains(d))
                    .map(str::to_owned),
            )
            .collect();
        known.sort_unstable();
        known.dedup();
        (candidates, known)
    };
    let mut found = match loaded {
        Loaded::Tables => {
            let names: HashSet<&str> = known.iter().map(String::as_str).collect();
            let known: Vec<&str> = known.iter().map(String::as_str).collect();
            candidates
                .into_iter()
                .filter(|name| !names.contains(name.as_str()))
                .map(|name| {
                    let closest = suggestions(&name, &known)
                        .into_iter()
                        .map(str::to_owned)
                        .collect();
                    (name, closest)
                })
                .collect::<Vec<_>>()
        }
        Loaded::Variables => {
            // Compared as spelt in variables (lower-cased, since the suggester compares
            // the misspelt name in lower case), then shown as the breakers' own names.
            let spelt: Vec<(String, &str)> = known
                .iter()
                .map(|n| (env_name(n).to_ascii_lowercase(), n.as_str()))
                .collect();
            let spellings: Vec<&str> = spelt.iter().map(|(s, _)| s.as_str()).collect();
            candidates
                .into_iter()
                .filter(|name| !spellings.contains(&name.to_ascii_lowercase().as_str()))
                .map(|name| {
                    let mut closest: Vec<String> = Vec::new();
                    for s in suggestions(&name, &spellings) {
                        for (_, n) in spelt.iter().filter(|(sp, _)| sp == s) {
                            if !closest.iter().any(|c| c == n) {
                                closest.push((*n).to_owned());
                            }
                        }
                    }
                    (name, closest)
                })
                .collect()
        }
    };
    found.sort();
    found
}
