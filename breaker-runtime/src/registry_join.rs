//! Joining a registry breaker by name without stating its settings, as
//! `tower::CircuitBreakerLayer::named` does: the code that states settings wins, whether it
//! comes before or after the join.
//!
//! A breaker a join had to create gets the defaults (and whatever files and the environment
//! say) and is marked "settings not stated". The first `get_or_create` that then finds it
//! with a config of its own (`#[circuit_breaker]`'s first call, say) reconfigures it once to
//! that config, keeping its state, instead of warning that the first config wins. A join of a
//! breaker that exists takes it as it is, without a warning.
//!
//! The registry calls [`adopt`] where `get_or_create` finds an existing breaker:
//!
//! ```ignore
//! if !crate::registry_join::adopt(self, &existing, &config)? {
//!     warn_if_different(&existing, &config);
//! }
//! ```

use crate::breaker::CircuitBreaker;
use crate::error::ConfigError;
use crate::registry::Registry;
use crate::settings::BreakerConfig;
use std::cell::Cell;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

/// The breakers joins created whose settings no code has stated yet. Few, and short-lived:
/// an entry goes when its breaker's settings are stated or the breaker is dropped.
static UNSTATED: Mutex<Vec<Weak<CircuitBreaker>>> = Mutex::new(Vec::new());

thread_local! {
    /// Set while [`join`] creates a breaker, so the registry's call to [`adopt`] from inside
    /// it neither takes [`UNSTATED`] again nor warns about the join's defaults.
    static JOINING: Cell<bool> = const { Cell::new(false) };
}

fn unstated() -> MutexGuard<'static, Vec<Weak<CircuitBreaker>>> {
    UNSTATED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The breaker `name` of `registry`, as it is if it exists, else created with the defaults
/// and marked "settings not stated".
pub(crate) fn join(registry: &Registry, name: &str) -> Arc<CircuitBreaker> {
    if let Some(existing) = registry.get(name) {
        return existing;
    }
    // Held while creating, so that code stating the settings on another thread waits in
    // `adopt` until the breaker is marked.
    let mut unstated = unstated();
    JOINING.with(|j| j.set(true));
    let breaker = registry.get_or_create(name, BreakerConfig::default());
    JOINING.with(|j| j.set(false));
    // Created by someone else in the meantime with settings of their own: theirs.
    if breaker.code_config() == BreakerConfig::default() {
        unstated.retain(|w| w.strong_count() > 0 && !std::ptr::eq(w.as_ptr(), &*breaker));
        unstated.push(Arc::downgrade(&breaker));
    }
    breaker
}

/// For the registry, when `get_or_create` finds `existing` and the code gives `config`:
/// `Ok(true)` if there is nothing to warn about (`existing` had no stated settings and now has
/// `config`, or this is a join's own lookup), `Ok(false)` if `existing` keeps its first config
/// (then the registry warns if `config` differs). A `config` that makes no sense is an error,
/// and `existing` stays unstated.
pub(crate) fn adopt(
    registry: &Registry,
    existing: &Arc<CircuitBreaker>,
    config: &BreakerConfig,
) -> Result<bool, ConfigError> {
    if JOINING.with(Cell::get) {
        return Ok(true);
    }
    let mut unstated = unstated();
    let Some(i) = unstated
        .iter()
        .position(|w| std::ptr::eq(w.as_ptr(), &**existing))
    else {
        return Ok(false);
    };
    registry.reconfigure(existing.name(), config.clone())?;
    unstated.swap_remove(i);
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::State;

    #[test]
    fn stated_settings_win_over_an_earlier_join_once() {
        let registry = Registry::new();
        let joined = join(&registry, "join-unit");
        assert!(Arc::ptr_eq(&joined, &join(&registry, "join-unit")));
        let stated = BreakerConfig::builder().failure_threshold(1).build();
        assert_eq!(adopt(&registry, &joined, &stated), Ok(true));
        assert_eq!(joined.settings().failure_threshold, Some(1));
        let _ = joined.call_sync(|| Err::<(), _>("down"));
        assert_eq!(joined.state(), State::Open);
        // Once: later configs keep the first stated one.
        let other = BreakerConfig::builder().failure_threshold(7).build();
        assert_eq!(adopt(&registry, &joined, &other), Ok(false));
        assert_eq!(joined.settings().failure_threshold, Some(1));
    }

    #[test]
    fn a_stated_breaker_is_joined_as_it_is() {
        let registry = Registry::new();
        let stated = BreakerConfig::builder().failure_threshold(2).build();
        let first = registry.get_or_create("join-unit-stated", stated);
        let joined = join(&registry, "join-unit-stated");
        assert!(Arc::ptr_eq(&first, &joined));
        let other = BreakerConfig::builder().failure_threshold(9).build();
        assert_eq!(adopt(&registry, &joined, &other), Ok(false));
        assert_eq!(joined.settings().failure_threshold, Some(2));
    }

    #[test]
    fn a_config_that_makes_no_sense_leaves_it_unstated() {
        let registry = Registry::new();
        let joined = join(&registry, "join-unit-bad");
        let bad = BreakerConfig::builder().failure_rate(2.0).build();
        assert!(adopt(&registry, &joined, &bad).is_err());
        let good = BreakerConfig::builder().failure_threshold(3).build();
        assert_eq!(adopt(&registry, &joined, &good), Ok(true));
        assert_eq!(joined.settings().failure_threshold, Some(3));
    }
}
