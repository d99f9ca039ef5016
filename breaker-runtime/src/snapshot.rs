//! What the registry shows of its breakers: [`BreakerSnapshot`]s, [`Health`], and where each
//! breaker's settings came from.

use crate::breaker::CircuitBreaker;
use crate::events::TransitionReason;
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
    /// In a manual state ([`ForcedOpen`](State::ForcedOpen), [`Disabled`](State::Disabled),
    /// [`MetricsOnly`](State::MetricsOnly)), the state the breaker's own Closed → Open rule
    /// would give from its counts: [`Open`](State::Open) if `failure_threshold` failures came
    /// in a row, or its failure rate or slow-call rate reached its threshold over a window
    /// that holds `minimum_calls` calls; [`Closed`](State::Closed) otherwise. The run of
    /// failures counts from when the manual state was entered (only metrics-only records
    /// calls); the window is the one the breaker had, so a disabled breaker's rates are
    /// those it had when it was disabled. `None` in the automatic states, where the computed
    /// state is `state`.
    pub computed_state: Option<State>,
    /// The thresholds the counts are held against.
    pub thresholds: Thresholds,
    /// The last transition, `None` before the first.
    pub last_transition: Option<LastTransition>,
    /// While half-open, its probes; `None` in every other state.
    pub probes: Option<Probes>,
    /// Milliseconds until time alone moves the breaker on (an open period ends, a probe
    /// times out), for a watcher to look again then (the admin's event stream). Not shown.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) next_move_ms: Option<u64>,
}

/// The thresholds a breaker's counts are held against: its settings, for a dashboard to draw
/// next to the rates.
///
/// ```
/// let breaker = breaker_runtime::CircuitBreaker::builder("docs-thresholds")
///     .failure_rate(0.5)
///     .build();
/// let t = breaker.snapshot().thresholds;
/// assert_eq!((t.failure_rate, t.failure_threshold, t.minimum_calls), (Some(0.5), None, 10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Thresholds {
    /// `failure_threshold`: failures in a row that open the breaker.
    pub failure_threshold: Option<u32>,
    /// `failure_rate`: the failure rate that opens it.
    pub failure_rate: Option<f64>,
    /// `slow_call_rate`: the slow-call rate that opens it (with `slow_call` set).
    pub slow_call_rate: Option<f64>,
    /// `minimum_calls`: calls in the window before a rate counts.
    pub minimum_calls: u32,
}

/// A breaker's last transition: why, and how long ago the breaker noticed it (a move that
/// time alone makes, such as open to half-open, is noticed at the next call or look).
///
/// ```
/// use breaker_runtime::{CircuitBreaker, TransitionReason};
///
/// let breaker = CircuitBreaker::builder("docs-last-transition").build();
/// assert_eq!(breaker.snapshot().last_transition, None);
/// breaker.force_open();
/// let last = breaker.snapshot().last_transition.unwrap();
/// assert_eq!(last.reason, TransitionReason::Manual);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct LastTransition {
    /// Why it happened.
    pub reason: TransitionReason,
    /// Milliseconds since, when the snapshot was taken.
    pub ms_ago: u64,
}

/// A half-open breaker's probes: how many are in flight out of how many may be, and how many
/// succeeded out of how many close it.
///
/// ```
/// use breaker_runtime::CircuitBreaker;
/// use std::time::Duration;
///
/// let breaker = CircuitBreaker::builder("docs-probes").half_open_max_calls(2).build();
/// breaker.open_for(Duration::ZERO);
/// let _probe = breaker.try_acquire().unwrap();
/// let p = breaker.snapshot().probes.unwrap();
/// assert_eq!((p.in_flight, p.max_in_flight, p.successes), (1, 2, 0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Probes {
    /// Probes let in and not finished.
    pub in_flight: u32,
    /// `half_open_max_calls`.
    pub max_in_flight: u32,
    /// Probes that succeeded in this half-open phase.
    pub successes: u32,
    /// `success_threshold`: the successes that close the breaker.
    pub success_threshold: u32,
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
        let settings = self.in_force();
        let thresholds = Thresholds {
            failure_threshold: settings.failure_threshold,
            failure_rate: settings.failure_rate,
            slow_call_rate: settings.slow_call.and(settings.slow_call_rate),
            minimum_calls: settings.minimum_calls,
        };
        let progress = self.progress();
        BreakerSnapshot {
            name: self.name().to_owned(),
            state: metrics.state,
            retry_after_ms: self.retry_after().map(crate::error::format::retry_after_ms),
            computed_state: progress.computed_state,
            thresholds,
            last_transition: progress
                .last
                .map(|(reason, ms_ago)| LastTransition { reason, ms_ago }),
            probes: progress.probes.map(|(in_flight, successes)| Probes {
                in_flight,
                max_in_flight: settings.half_open_max_calls,
                successes,
                success_threshold: settings.success_threshold,
            }),
            metrics,
            open_cause: self.open_cause(),
            next_move_ms: progress.next_move_ms,
        }
    }
}
