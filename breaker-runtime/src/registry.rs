//! The global [`Registry`]: one breaker per name, created on first use.

use crate::breaker::CircuitBreaker;
use crate::error::ConfigError;
use crate::name::Name;
use crate::settings::{BreakerConfig, Layers};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

/// The process-wide registry every `#[circuit_breaker]` function registers in.
///
/// ```
/// use breaker_runtime::{registry, BreakerConfig};
///
/// let a = registry().get_or_create("docs-registry", BreakerConfig::default());
/// let b = registry().get("docs-registry").unwrap();
/// assert!(std::sync::Arc::ptr_eq(&a, &b));
/// ```
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry {
        // Every `#[circuit_breaker]` function's breaker, known before its first call.
        declared: crate::declared::all(),
        ..Registry::default()
    })
}

/// Breakers by name. Thread-safe; lookups take a read lock, so keep the returned `Arc`
/// rather than looking a breaker up on every call (the attribute caches it for you).
#[derive(Debug, Default)]
pub struct Registry {
    inner: RwLock<Inner>,
    /// Serialises config loads and reconfigures, which reconfigure breakers outside `inner`.
    updates: Mutex<()>,
    /// The global registry's annotated functions' breakers (see `declared.rs`): listed by
    /// [`names`](Registry::names) from the start, built at the first look that needs one
    /// (`get`, `snapshot`, `health`) or at their function's first call. Not built up
    /// front: a breaker registers its metrics with the recorder installed when it is built,
    /// and a service installs its recorder after it has first touched the registry.
    declared: Vec<crate::declared::Known>,
    /// Whether every declared breaker has been built.
    declared_built: std::sync::atomic::AtomicBool,
    /// The members of each live family, by family name, so that families of one name
    /// share them (see `family.rs`).
    pub(crate) families: Mutex<HashMap<String, std::sync::Weak<crate::family::Members>>>,
    /// Fleets sharing this registry's breakers, for the admin router (see `coordinator.rs`).
    /// Read only by those two integrations: unread in a build with neither.
    #[allow(dead_code)]
    pub(crate) coordinators: crate::coordinator::Coordinators,
}

/// What the registry's lock guards. Crate-visible for a config load (`config/reload.rs`),
/// which swaps `layers`.
#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub(crate) breakers: HashMap<Name, Arc<CircuitBreaker>>,
    pub(crate) layers: Layers,
    /// Declared names `remove` forgot: no longer listed nor built by a look, until a
    /// `get_or_create` (their function's first call, say) registers the name again.
    pub(crate) removed: std::collections::HashSet<&'static str>,
}

impl Registry {
    /// An empty registry of your own; most code uses the global [`registry()`].
    ///
    /// ```
    /// assert_eq!(breaker_runtime::Registry::new().len(), 0);
    /// ```
    pub fn new() -> Registry {
        Registry::default()
    }

    pub(crate) fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The breaker registered as `name`.
    ///
    /// ```
    /// assert!(breaker_runtime::registry().get("docs-nobody").is_none());
    /// ```
    pub fn get(&self, name: &str) -> Option<Arc<CircuitBreaker>> {
        {
            let inner = self.read();
            if let Some(b) = inner.breakers.get(name) {
                return Some(b.clone());
            }
            if inner.removed.contains(name) {
                return None;
            }
        }
        // Built through their functions' cells; of two functions that ask for one default
        // name, the first to register keeps it (the other is `name@site`), so look on.
        self.declared
            .iter()
            .filter(|d| d.name == name)
            .map(|d| d.build())
            .find(|b| b.name() == name)
    }

    /// Builds every declared breaker not built yet, once.
    pub(crate) fn build_declared(&self) {
        use std::sync::atomic::Ordering::{Acquire, Release};
        if self.declared.is_empty() || self.declared_built.load(Acquire) {
            return;
        }
        for declared in &self.declared {
            let build = {
                let inner = self.read();
                !inner.breakers.contains_key(declared.name)
                    && !inner.removed.contains(declared.name)
            };
            if build {
                declared.build();
            }
        }
        self.declared_built.store(true, Release);
    }

    /// Forgets the breaker registered as `name` and returns it; `None` if there is none.
    ///
    /// From then on [`get`](Self::get) does not find it, [`names`](Self::names),
    /// [`snapshot`](Self::snapshot), [`health`](Self::health) and the admin routes do not
    /// list it, and config loads no longer reconfigure it; a later
    /// [`get_or_create`](Self::get_or_create) makes a fresh breaker, closed and with no
    /// counts. Settings loaded from files and the environment for `name` stay loaded, so
    /// that fresh breaker gets them too.
    ///
    /// Whoever still holds an `Arc` of the old breaker (a tower layer, a task, the value
    /// returned here) keeps using it as before, outside the registry; its memory, its name included,
    /// comes back when the last `Arc` goes. A `#[circuit_breaker]` function keeps the breaker
    /// it reached on its first call for the rest of the program, so removing that name
    /// leaves the function on its old, now unlisted breaker, while `get_or_create` under the
    /// same name makes another one: remove only the breakers you made yourself. With the
    /// `metrics` feature, the old breaker's state gauge is taken back when it is dropped; the
    /// series it already exported stay with the recorder (the Prometheus exporter, for one,
    /// keeps them until its idle timeout, if one is set).
    ///
    /// ```
    /// use breaker_runtime::{registry, BreakerConfig, State};
    ///
    /// let config = BreakerConfig::builder().failure_threshold(1).build();
    /// let old = registry().get_or_create("docs-remove", config.clone());
    /// old.force_open();
    ///
    /// let removed = registry().remove("docs-remove").unwrap();
    /// assert!(std::sync::Arc::ptr_eq(&old, &removed));
    /// assert!(registry().get("docs-remove").is_none());
    /// assert!(registry().remove("docs-remove").is_none());
    ///
    /// let fresh = registry().get_or_create("docs-remove", config);
    /// assert_eq!(fresh.state(), State::Closed);
    /// assert_eq!(old.state(), State::ForcedOpen);
    /// ```
    ///
    /// An annotated function's name, listed from the start, is forgotten the same way (even
    /// before its breaker was built, though then this returns `None`): `get`, `names` and the
    /// others no longer build or list it, until a `get_or_create` under that name (the
    /// function's first call, if it had none yet) registers it again.
    pub fn remove(&self, name: &str) -> Option<Arc<CircuitBreaker>> {
        let mut inner = self.write();
        if let Some(declared) = self.declared.iter().find(|d| d.name == name) {
            inner.removed.insert(declared.name);
        }
        inner.breakers.remove(name)
    }

    /// The breaker registered as `name`, created with `config` if there is none.
    ///
    /// The first config wins: asking again with a different config returns the existing
    /// breaker and logs a warning naming both. Settings loaded from files or the
    /// environment are laid over `config` (see the crate docs). If they make no sense
    /// together with `config`, the error is logged and `config` alone is used; if `config`
    /// itself is out of range, the error is logged and the defaults are used. It never
    /// panics; [`try_get_or_create`](Self::try_get_or_create) returns such errors instead.
    ///
    /// ```
    /// use breaker_runtime::{registry, BreakerConfig};
    /// let config = BreakerConfig::builder().failure_threshold(3).build();
    /// let breaker = registry().get_or_create("docs-goc", config);
    /// assert_eq!(breaker.name(), "docs-goc");
    /// ```
    pub fn get_or_create(&self, name: &str, config: BreakerConfig) -> Arc<CircuitBreaker> {
        self.get_or_create_as(name, None, config)
    }

    /// [`get_or_create`](Self::get_or_create) under a name that may live as long as the
    /// program, as `#[circuit_breaker]`'s do: it is kept as it is, not copied.
    pub(crate) fn get_or_create_named(
        &self,
        name: &Name,
        config: BreakerConfig,
    ) -> Arc<CircuitBreaker> {
        self.get_or_create_as(name, Some(name), config)
    }

    fn get_or_create_as(
        &self,
        name: &str,
        owned: Option<&Name>,
        config: BreakerConfig,
    ) -> Arc<CircuitBreaker> {
        match self.create(name, owned, config, true) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(target: "breaker_runtime", name, error = %e, "invalid circuit breaker settings; using the defaults");
                self.create(name, owned, BreakerConfig::default(), true)
                    .expect("the default settings are valid")
            }
        }
    }

    /// Like [`get_or_create`](Self::get_or_create), but a config out of range is an error.
    ///
    /// ```
    /// use breaker_runtime::{registry, BreakerConfig};
    /// let bad = BreakerConfig::builder().failure_rate(2.0).build();
    /// assert!(registry().try_get_or_create("docs-tgoc", bad).is_err());
    /// ```
    pub fn try_get_or_create(
        &self,
        name: &str,
        config: BreakerConfig,
    ) -> Result<Arc<CircuitBreaker>, ConfigError> {
        self.create(name, None, config, false)
    }

    /// The breaker `name`, or a new one under `owned` (a copy of `name` if `None`).
    fn create(
        &self,
        name: &str,
        owned: Option<&Name>,
        config: BreakerConfig,
        forgive_layers: bool,
    ) -> Result<Arc<CircuitBreaker>, ConfigError> {
        // The built breakers only: `get` would build a declared one, through here.
        let built = self.read().breakers.get(name).cloned();
        if let Some(existing) = built {
            if !crate::registry_join::adopt(self, &existing, &config)? {
                warn_if_different(&existing, &config);
            }
            return Ok(existing);
        }
        // Logs only once the lock is released: a tracing subscriber may read the registry.
        let (breaker, misfit) = {
            let mut inner = self.write();
            if let Some(existing) = inner.breakers.get(name) {
                let existing = existing.clone();
                drop(inner);
                if !crate::registry_join::adopt(self, &existing, &config)? {
                    warn_if_different(&existing, &config);
                }
                return Ok(existing);
            }
            let effective = inner.layers.effective(name, &config);
            let owned = owned.cloned().unwrap_or_else(|| Name::new(name));
            let (breaker, misfit) =
                match CircuitBreaker::new(owned.clone(), config.clone(), &effective) {
                    Ok(b) => (b, None),
                    Err(e) if forgive_layers && effective != config => {
                        let b = CircuitBreaker::new(owned.clone(), config.clone(), &config)?;
                        (b, Some(e))
                    }
                    Err(e) => return Err(e),
                };
            let breaker = breaker.shared();
            if !inner.removed.is_empty() {
                inner.removed.remove(name);
            }
            inner.breakers.insert(owned, breaker.clone());
            (breaker, misfit)
        };
        if let Some(e) = misfit {
            tracing::error!(target: "breaker_runtime", name, error = %e, "settings from config files or the environment do not fit this breaker; ignoring them");
        }
        Ok(breaker)
    }

    /// Gives the breaker `name` a new config from the code, with the settings from config
    /// files and the environment laid over it as when it was created; its state and metrics
    /// stay. `Ok(false)` if there is no such breaker; an error, changing nothing, if the
    /// result makes no sense.
    ///
    /// ```
    /// use breaker_runtime::{registry, BreakerConfig, State};
    ///
    /// registry().get_or_create("docs-reg-reconf", BreakerConfig::default());
    /// let stricter = BreakerConfig::builder().failure_threshold(1).build();
    /// assert_eq!(registry().reconfigure("docs-reg-reconf", stricter), Ok(true));
    /// let breaker = registry().get("docs-reg-reconf").unwrap();
    /// let _ = breaker.call_sync(|| Err::<(), _>("down"));
    /// assert_eq!(breaker.state(), State::Open);
    /// ```
    pub fn reconfigure(&self, name: &str, config: BreakerConfig) -> Result<bool, ConfigError> {
        // Under `updates`, so no load reconfigures it in between; outside the registry lock,
        // since a transition's event may reach a subscriber that reads the registry.
        let _updates = self.updates();
        let (breaker, effective) = {
            let inner = self.read();
            let Some(breaker) = inner.breakers.get(name) else {
                return Ok(false);
            };
            (breaker.clone(), inner.layers.effective(name, &config))
        };
        breaker.apply(&effective)?;
        breaker.set_code_config(config);
        Ok(true)
    }

    /// The names of every registered breaker, sorted.
    ///
    /// ```
    /// use breaker_runtime::{registry, BreakerConfig};
    ///
    /// registry().get_or_create("docs-names", BreakerConfig::default());
    /// let names = registry().names();
    /// assert!(names.iter().any(|n| n == "docs-names"));
    /// assert!(names.windows(2).all(|w| w[0] <= w[1]));
    /// ```
    pub fn names(&self) -> Vec<Name> {
        let inner = self.read();
        let mut names: Vec<_> = inner.breakers.keys().cloned().collect();
        names.extend(
            self.declared_names()
                .filter(|d| !inner.removed.contains(d))
                .map(Name::from_static),
        );
        drop(inner);
        names.sort_unstable();
        names.dedup();
        names
    }

    /// How many breakers are registered.
    ///
    /// ```
    /// assert_eq!(breaker_runtime::Registry::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        if self.declared.is_empty() {
            self.read().breakers.len()
        } else {
            self.names().len()
        }
    }

    /// Whether no breaker is registered.
    ///
    /// ```
    /// assert!(breaker_runtime::Registry::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The names the attribute declared (the global registry's; none in a registry of your
    /// own), removed ones included.
    pub(crate) fn declared_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.declared.iter().map(|d| d.name)
    }

    pub(crate) fn all(&self) -> Vec<Arc<CircuitBreaker>> {
        self.build_declared();
        self.read().breakers.values().cloned().collect()
    }

    /// Held by whatever reconfigures breakers outside `inner`: `reconfigure`, and a config
    /// load (`config/reload.rs`).
    pub(crate) fn updates(&self) -> std::sync::MutexGuard<'_, ()> {
        self.updates.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn warn_if_different(existing: &CircuitBreaker, config: &BreakerConfig) {
    let first = existing.code_config();
    if first.without_attribute_marks() != config.without_attribute_marks() {
        tracing::warn!(
            target: "breaker_runtime",
            name = existing.name(),
            first = ?first,
            ignored = ?config,
            "circuit breaker already exists with other settings; keeping the first"
        );
    }
}
