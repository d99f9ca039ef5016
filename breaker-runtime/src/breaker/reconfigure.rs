//! Reconfiguration: new settings swapped in while the breaker runs, keeping its state.

use super::{CircuitBreaker, Cold};
use crate::clock;
use crate::error::ConfigError;
use crate::settings::BreakerConfig;
use crate::sync::Ordering::{AcqRel, Release};
use crate::window::RateWindow;
use std::sync::Arc;

impl CircuitBreaker {
    /// Applies `config` as it is, keeping the state, the metrics and, when its shape is the
    /// same, the window. An open period lasts at most the new reset timeout from now, and a
    /// kept window already past new, lower thresholds opens the breaker at once. It becomes
    /// the layer the code gave. Settings from config files and
    /// the environment are not laid over it here: for a breaker in a registry use
    /// [`Registry::reconfigure`](crate::Registry::reconfigure), which does.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-reconf").build();
    /// let config = breaker_runtime::BreakerConfig::builder().failure_threshold(1).build();
    /// breaker.reconfigure(config).unwrap();
    /// let _ = breaker.call_sync(|| Err::<(), _>("down"));
    /// assert_eq!(breaker.state(), breaker_runtime::State::Open);
    /// ```
    pub fn reconfigure(&self, config: BreakerConfig) -> Result<(), ConfigError> {
        self.apply(&config)?;
        self.set_code_config(config);
        Ok(())
    }

    fn cold(&self) -> std::sync::MutexGuard<'_, Cold> {
        self.cold.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn set_code_config(&self, config: BreakerConfig) {
        self.cold().code = crate::share::config(config);
    }

    pub(crate) fn code_config(&self) -> BreakerConfig {
        (*self.cold().code).clone()
    }

    /// Swaps in the settings `effective` resolves to.
    pub(crate) fn apply(&self, effective: &BreakerConfig) -> Result<(), ConfigError> {
        let next = effective.resolve(&self.name)?;
        let mut cold = self.cold();
        if *self.in_force() == next {
            return Ok(());
        }
        let retired = cold.retired.get_or_insert_with(Box::default);
        if self.window().map(RateWindow::spec) != next.window {
            let fresh = next.window.map_or(std::ptr::null_mut(), |w| {
                Box::into_raw(Box::new(RateWindow::new(w)))
            });
            let old = self.window.swap(fresh, AcqRel);
            if !old.is_null() {
                // SAFETY: a non-null window pointer came from `Box::into_raw`, and the swap
                // took it out of the atomic, so this is its one owner (reconfigurations run
                // one at a time, under `cold`). The box goes to `retired`, not dropped: a
                // reader that loaded the pointer before the swap may still be reading.
                retired.windows.push(unsafe { Box::from_raw(old) });
            }
        }
        let classified = next.classify.is_some();
        let next = Arc::into_raw(crate::share::settings(next)).cast_mut();
        let old = self.settings.swap(next, AcqRel);
        self.classified.store(classified, Release);
        // SAFETY: the settings pointer came from `Arc::into_raw` and the swap took it out of
        // the atomic, so this takes back the one reference it stood for (reconfigurations run
        // one at a time, under `cold`). The `Arc` goes to `retired`, not dropped: a reader
        // that loaded the pointer before the swap may still be reading.
        retired.settings.push(unsafe { Arc::from_raw(old) });
        drop(cold);
        // The word's hints follow the new settings, and so does an open period.
        let now = clock::now_ms();
        self.locked(|m, s, _| m.reconfigured(now, s));
        // A window kept across the change may already be past the new thresholds: a success
        // cannot raise a rate, so no later call would notice.
        if let Some(reason) = self.window().and_then(|w| self.rate_tripped(w.stats())) {
            self.locked(|m, s, moves| m.rate_tripped(m.generation(), reason, now, s, moves));
        }
        Ok(())
    }
}
