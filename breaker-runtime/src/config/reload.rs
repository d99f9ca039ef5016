//! Reloading a registry: new outside layers, from config files or the environment, swapped
//! in and laid over every breaker's code settings; a load's last step.

use crate::error::ConfigError;
use crate::registry::Registry;
use crate::settings::{BreakerConfig, Layers};

impl Registry {
    /// Replaces the outside layers with what `next` makes of the current ones and the
    /// registered names (declared ones included), and reconfigures every breaker; or changes nothing if `next` fails
    /// (a document or variable that is bad in itself).
    ///
    /// Each breaker is held to the rule creation follows: a breaker whose new settings do not
    /// fit together runs with its code's settings alone (or the defaults, should its code
    /// not resolve on its own) and the error is logged, while the others are reconfigured
    /// and the load succeeds. One misfit never blocks a load for every breaker.
    ///
    /// Loads do not interleave (the `updates` lock), and the layers are swapped under the
    /// registry's write lock, so a breaker created meanwhile gets the new ones; the breakers
    /// are reconfigured, and misfits logged, after the registry lock is released, since a
    /// transition's event or the log may reach a subscriber that reads the registry.
    pub(crate) fn update_layers(
        &self,
        next: impl FnOnce(&Layers, &[&str]) -> Result<Layers, ConfigError>,
    ) -> Result<(), ConfigError> {
        let _updates = self.updates();
        let planned = {
            let mut inner = self.write();
            let mut names: Vec<&str> = inner.breakers.keys().map(|n| n.as_str()).collect();
            names.sort_unstable();
            // What `next` names errors after: the annotated functions' breakers too, known
            // from the start though not built yet. Only the built ones are reconfigured.
            let mut known = names.clone();
            for declared in self.declared_names() {
                if !inner.removed.contains(declared) {
                    known.push(declared);
                }
            }
            known.sort_unstable();
            known.dedup();
            let layers = next(&inner.layers, &known)?;
            let planned: Vec<_> = names
                .iter()
                .map(|&name| {
                    let b = inner.breakers[name].clone();
                    let (effective, misfit) = fitting(name, &layers, &b.code_config());
                    (b, effective, misfit)
                })
                .collect();
            inner.layers = layers;
            planned
        };
        for (b, effective, misfit) in planned {
            if let Err(e) = b.apply(&effective) {
                // Unreachable: `fitting` resolved it.
                tracing::error!(target: "breaker_runtime", name = b.name(), error = %e, "could not reconfigure the circuit breaker");
            }
            if let Some(e) = misfit {
                tracing::error!(target: "breaker_runtime", name = b.name(), error = %e, "settings from config files or the environment do not fit this breaker; ignoring them");
            }
        }
        Ok(())
    }
}

/// The config `name` runs with under `layers`, as creation decides it: the layers over its
/// code if that resolves; else the code alone, or the defaults if the code does not resolve
/// either; with the error that set the layers aside.
fn fitting(
    name: &str,
    layers: &Layers,
    code: &BreakerConfig,
) -> (BreakerConfig, Option<ConfigError>) {
    let effective = layers.effective(name, code);
    match effective.resolve(name) {
        Ok(_) => (effective, None),
        Err(e) if code.resolve(name).is_ok() => (code.clone(), Some(e)),
        Err(e) => (BreakerConfig::default(), Some(e)),
    }
}
