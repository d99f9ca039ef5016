//! What the registry shows of its breakers: [`BreakerSnapshot`]s, [`Health`], and where each
//! breaker's settings came from.

use crate::breaker::CircuitBreaker;
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::settings::{Layers, SettingSource};
use crate::state::State;

/// One breaker as a health endpoint or dashboard shows it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct BreakerSnapshot {
    /// The breaker's name.
    pub name: String,
    /// Its state.
    pub state: State,
    /// Milliseconds until an open breaker lets probes through, rounded up (as every place
    /// that shows a retry wait rounds it; see [`BreakerError`](crate::BreakerError)). `None`
    /// in every other state, half-open included (before its first probe too: once the reset
    /// timeout has passed the breaker is half-open, whether or not a call has come).
    pub retry_after_ms: Option<u64>,
    /// Its counts and rates.
    pub metrics: Metrics,
    /// While it is open or half-open, the `Display` text of the failure that opened it, if the
    /// breaker was given one (see [`CircuitBreaker::open_cause`]); `None` otherwise.
    pub open_cause: Option<String>,
}

/// How many breakers are in each state.
///
/// ```
/// let health = breaker_runtime::registry().health();
/// assert_eq!(
///     health.total,
///     health.closed + health.open + health.half_open + health.forced_open
///         + health.disabled + health.metrics_only
/// );
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Health {
    /// Every registered breaker.
    pub total: usize,
    /// Closed breakers.
    pub closed: usize,
    /// Open breakers.
    pub open: usize,
    /// Half-open breakers.
    pub half_open: usize,
    /// Breakers forced open by hand.
    pub forced_open: usize,
    /// Disabled breakers.
    pub disabled: usize,
    /// Breakers in metrics-only mode.
    pub metrics_only: usize,
}

impl Health {
    /// No breaker rejects calls: none is open or forced open.
    ///
    /// ```
    /// assert!(breaker_runtime::Health::default().is_healthy());
    /// ```
    pub fn is_healthy(&self) -> bool {
        self.open == 0 && self.forced_open == 0
    }
}

impl Registry {
    /// Every breaker's state and metrics, sorted by name; serializable with the `serde`
    /// feature, ready for a health or admin endpoint.
    ///
    /// ```
    /// use breaker_runtime::{registry, BreakerConfig};
    /// registry().get_or_create("docs-snapshot", BreakerConfig::default());
    /// let snap = registry().snapshot();
    /// assert!(snap.iter().any(|b| b.name == "docs-snapshot"));
    /// ```
    pub fn snapshot(&self) -> Vec<BreakerSnapshot> {
        let mut snaps: Vec<_> = self.all().iter().map(|b| b.snapshot()).collect();
        snaps.sort_by(|a, b| a.name.cmp(&b.name));
        snaps
    }

    /// How many breakers are in each state.
    ///
    /// ```
    /// let health = breaker_runtime::Registry::new().health();
    /// assert_eq!(health.total, 0);
    /// assert!(health.is_healthy());
    /// ```
    pub fn health(&self) -> Health {
        let mut h = Health::default();
        for b in self.all() {
            h.total += 1;
            *match b.state() {
                State::Closed => &mut h.closed,
                State::Open => &mut h.open,
                State::HalfOpen => &mut h.half_open,
                State::ForcedOpen => &mut h.forced_open,
                State::Disabled => &mut h.disabled,
                State::MetricsOnly => &mut h.metrics_only,
            } += 1;
        }
        h
    }
}

impl Registry {
    /// Where each setting of the breaker `name` came from (`None` if there is no such
    /// breaker): for every setting a file may set, in the order of the README's table, then
    /// `failure_if` and `ignore_if`, the highest layer that set it. Its value is in
    /// [`CircuitBreaker::settings`]. When the files' and variables' settings did not fit the
    /// breaker and were set aside (an error was logged), only the code's count.
    ///
    /// ```
    /// use breaker_runtime::{BreakerConfig, Registry, SettingSource};
    ///
    /// let registry = Registry::new();
    /// registry.get_or_create("docs-sources", BreakerConfig::builder().failure_threshold(3).build());
    /// let sources = registry.setting_sources("docs-sources").unwrap();
    /// assert!(sources.contains(&("failure_threshold", SettingSource::Code)));
    /// assert!(sources.contains(&("reset_timeout", SettingSource::Default)));
    /// ```
    pub fn setting_sources(&self, name: &str) -> Option<Vec<(&'static str, SettingSource)>> {
        let breaker = self.get(name)?;
        let code = breaker.code_config();
        let inner = self.read();
        let effective = inner.layers.effective(name, &code);
        let fits = effective
            .resolve(name)
            .is_ok_and(|s| s == *breaker.in_force());
        Some(if fits {
            inner.layers.sources(name, &code)
        } else {
            Layers::default().sources(name, &code)
        })
    }
}

impl CircuitBreaker {
    /// This breaker's state and metrics now.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-snap-one").build();
    /// assert_eq!(breaker.snapshot().name, "docs-snap-one");
    /// ```
    pub fn snapshot(&self) -> BreakerSnapshot {
        let metrics = self.metrics();
        BreakerSnapshot {
            name: self.name().to_owned(),
            state: metrics.state,
            retry_after_ms: self.retry_after().map(crate::error::format::retry_after_ms),
            metrics,
            open_cause: self.open_cause(),
        }
    }
}
