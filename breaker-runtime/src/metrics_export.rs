//! Breaker metrics through the [`metrics`] facade (feature `metrics`).
//!
//! Every breaker registers its series with the recorder that is installed when the breaker is
//! created (install yours first, e.g. `metrics_exporter_prometheus::PrometheusBuilder`), and
//! keeps the handles: recording a call is then a few atomic adds, with no label allocation
//! and no lookup. Every series carries the label `breaker` (the breaker's name).
//!
//! | metric | kind | labels | what |
//! |---|---|---|---|
//! | `breaker_calls_total` | counter | `breaker`, `outcome` | finished or rejected calls; `outcome` is `success`, `failure`, `ignored`, `cancelled` or `rejected` |
//! | `breaker_slow_calls_total` | counter | `breaker` | calls that took at least `slow_call` (also in `success` or `failure`) |
//! | `breaker_timeouts_total` | counter | `breaker` | calls cut by `call_timeout` (also in `failure`) |
//! | `breaker_call_duration_seconds` | histogram | `breaker`, `outcome` | how long calls took; `outcome` is `success`, `failure` or `ignored` |
//! | `breaker_state` | gauge | `breaker`, `state` | 1 for the state the breaker is in, 0 for the others; `state` is `closed`, `open`, `half_open`, `forced_open`, `disabled` or `metrics_only` |
//! | `breaker_transitions_total` | counter | `breaker`, `to`, `reason` | state changes, by the state entered and the [reason](crate::TransitionReason::as_str) (`failure_threshold`, `failure_rate`, `slow_call_rate`, `probe_failed`, `half_open_timeout`, `reset_timeout_elapsed`, `probes_succeeded`, `manual`) |
//!
//! The counters mirror [`Metrics`](crate::Metrics), with two differences a dashboard should
//! know: they are monotonic (a breaker's [`reset`](crate::CircuitBreaker::reset) zeroes its
//! `Metrics` but not its counters), and a [`Disabled`](crate::State::Disabled) breaker
//! records nothing. `breaker_state` follows transitions as they happen: an open breaker
//! whose `reset_timeout` has passed reports `open` until the next call moves it to
//! `half_open`, whereas [`CircuitBreaker::state`](crate::CircuitBreaker::state) already
//! says `HalfOpen`.
//!
//! Each distinct name registers 28 series up front: 5 call counters, slow calls, timeouts,
//! 3 duration histograms, 6 state gauges and 12 transition counters. Mind it with names made
//! at run time (one breaker per host): series stay with the recorder after their breakers go.
//!
//! Series are keyed by name: two live breakers of one name share them. Their counters and
//! histograms add up; `breaker_state` shows the breaker of that name created last (1 for its
//! state, 0 for the others), and when it is dropped, the newest one left. The first time a
//! name has two live breakers, a `tracing` warning says so.
//!
//! With the feature on, every admitted call reads the clock once more, to time it.
//!
//! ```
//! use breaker_runtime::CircuitBreaker;
//! use metrics_exporter_prometheus::PrometheusBuilder;
//!
//! let recorder = PrometheusBuilder::new().build_recorder();
//! let prometheus = recorder.handle();
//! // Usually `install_recorder()` once at start-up; a local recorder keeps this example apart.
//! let breaker = metrics::with_local_recorder(&recorder, || {
//!     CircuitBreaker::builder("docs-prometheus").failure_threshold(1).build()
//! });
//! let _ = breaker.call_sync(|| Err::<(), _>("down"));
//! let _ = breaker.call_sync(|| Ok::<_, &str>(()));
//!
//! let text = prometheus.render();
//! assert!(text.contains(r#"breaker_calls_total{breaker="docs-prometheus",outcome="failure"} 1"#));
//! assert!(text.contains(r#"breaker_calls_total{breaker="docs-prometheus",outcome="rejected"} 1"#));
//! assert!(text.contains(r#"breaker_state{breaker="docs-prometheus",state="open"} 1"#));
//! ```

use crate::events::TransitionReason;
use crate::name::Name;
use crate::permit::Outcome;
use crate::state::State;
use ::metrics::{Counter, Gauge, Histogram, SharedString, Unit};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

/// `breaker_calls_total{breaker, outcome}`: calls by outcome (counter).
///
/// ```
/// assert_eq!(breaker_runtime::metrics_export::CALLS_TOTAL, "breaker_calls_total");
/// ```
pub const CALLS_TOTAL: &str = "breaker_calls_total";
/// `breaker_slow_calls_total{breaker}`: calls that took at least `slow_call` (counter).
///
/// ```
/// assert_eq!(breaker_runtime::metrics_export::SLOW_CALLS_TOTAL, "breaker_slow_calls_total");
/// ```
pub const SLOW_CALLS_TOTAL: &str = "breaker_slow_calls_total";
/// `breaker_timeouts_total{breaker}`: calls cut by `call_timeout` (counter).
///
/// ```
/// assert_eq!(breaker_runtime::metrics_export::TIMEOUTS_TOTAL, "breaker_timeouts_total");
/// ```
pub const TIMEOUTS_TOTAL: &str = "breaker_timeouts_total";
/// `breaker_call_duration_seconds{breaker, outcome}`: call durations (histogram, seconds).
///
/// ```
/// assert_eq!(breaker_runtime::metrics_export::CALL_DURATION_SECONDS, "breaker_call_duration_seconds");
/// ```
pub const CALL_DURATION_SECONDS: &str = "breaker_call_duration_seconds";
/// `breaker_state{breaker, state}`: 1 for the current state, 0 for the others (gauge).
///
/// ```
/// assert_eq!(breaker_runtime::metrics_export::STATE, "breaker_state");
/// ```
pub const STATE: &str = "breaker_state";
/// `breaker_transitions_total{breaker, to, reason}`: state changes (counter).
///
/// ```
/// assert_eq!(breaker_runtime::metrics_export::TRANSITIONS_TOTAL, "breaker_transitions_total");
/// ```
pub const TRANSITIONS_TOTAL: &str = "breaker_transitions_total";

/// Histogram buckets (seconds) that suit calls to remote dependencies, from 1 ms to 30 s:
/// pass them to your exporter, e.g. Prometheus's `set_buckets_for_metric`.
///
/// ```
/// assert!(breaker_runtime::metrics_export::DURATION_BUCKETS.windows(2).all(|w| w[0] < w[1]));
/// ```
pub const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

const OUTCOMES: [&str; 5] = ["success", "failure", "ignored", "cancelled", "rejected"];
const REJECTED: usize = 4;

const STATES: [State; 6] = [
    State::Closed,
    State::Open,
    State::HalfOpen,
    State::ForcedOpen,
    State::Disabled,
    State::MetricsOnly,
];

/// Every transition a breaker makes, by the state entered and why; registered up front so
/// each series exists (at 0) from the breaker's creation and `rate()` works from the start.
const TRANSITIONS: [(State, TransitionReason); 12] = [
    (State::Open, TransitionReason::FailureThreshold),
    // `open_for`.
    (State::Open, TransitionReason::Manual),
    (State::Open, TransitionReason::FailureRate),
    (State::Open, TransitionReason::SlowCallRate),
    (State::Open, TransitionReason::ProbeFailed),
    (State::Open, TransitionReason::HalfOpenTimeout),
    (State::HalfOpen, TransitionReason::ResetTimeoutElapsed),
    (State::Closed, TransitionReason::ProbesSucceeded),
    (State::Closed, TransitionReason::Manual),
    (State::ForcedOpen, TransitionReason::Manual),
    (State::Disabled, TransitionReason::Manual),
    (State::MetricsOnly, TransitionReason::Manual),
];

fn outcome_index(outcome: Outcome) -> usize {
    match outcome {
        Outcome::Success => 0,
        Outcome::Failure => 1,
        Outcome::Ignored => 2,
        Outcome::Cancelled => 3,
    }
}

fn state_index(state: State) -> usize {
    match state {
        State::Closed => 0,
        State::Open => 1,
        State::HalfOpen => 2,
        State::ForcedOpen => 3,
        State::Disabled => 4,
        State::MetricsOnly => 5,
    }
}

/// A breaker's metric handles, registered once when the breaker is created.
pub(crate) struct Observer {
    /// The `breaker` label: the name itself if static, else one copy shared by every series.
    name: SharedString,
    calls: [Counter; 5],
    slow: Counter,
    timeouts: Counter,
    /// success, failure, ignored.
    durations: [Histogram; 3],
    /// This breaker's place among the live breakers of its name, which share one
    /// `breaker_state` series per state: only the newest of them moves it.
    slot: Arc<Mutex<Slot>>,
    id: u64,
    transitions: [Counter; TRANSITIONS.len()],
}

/// The live breakers of one name, oldest first. The newest one owns the name's
/// `breaker_state` series: the gauge shows its state (1 for it, 0 for the others), and when
/// it goes the gauge shows the state of the newest one left.
#[derive(Default)]
struct Slot {
    live: Vec<Member>,
    /// Whether the warning about two live breakers of this name was logged.
    warned: bool,
}

struct Member {
    id: u64,
    /// Its state gauges (with the recorder installed when it was created).
    states: [Gauge; 6],
    /// Its own state, as a 1 at the state's index, whether or not it owns the gauge.
    marks: [i64; 6],
}

impl Member {
    fn show(&self, sign: f64) {
        for (gauge, &mark) in self.states.iter().zip(&self.marks) {
            if mark != 0 {
                gauge.increment(sign * mark as f64);
            }
        }
    }
}

type Slots = Mutex<HashMap<String, Arc<Mutex<Slot>>>>;

/// Every name with a live breaker (whose metrics are on), so breakers of one name share one
/// `breaker_state` owner. A name leaves when its last breaker is dropped.
fn slots() -> std::sync::MutexGuard<'static, HashMap<String, Arc<Mutex<Slot>>>> {
    static SLOTS: OnceLock<Slots> = OnceLock::new();
    SLOTS
        .get_or_init(Slots::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

fn lock(slot: &Mutex<Slot>) -> std::sync::MutexGuard<'_, Slot> {
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}

impl fmt::Debug for Observer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Observer")
            .field("name", &&*self.name)
            .finish_non_exhaustive()
    }
}

fn describe() {
    ::metrics::describe_counter!(
        CALLS_TOTAL,
        Unit::Count,
        "Calls through a circuit breaker, by outcome."
    );
    ::metrics::describe_counter!(
        SLOW_CALLS_TOTAL,
        Unit::Count,
        "Calls through a circuit breaker that took at least its slow_call threshold."
    );
    ::metrics::describe_counter!(
        TIMEOUTS_TOTAL,
        Unit::Count,
        "Calls through a circuit breaker cut by its call_timeout."
    );
    ::metrics::describe_histogram!(
        CALL_DURATION_SECONDS,
        Unit::Seconds,
        "How long calls through a circuit breaker took, by outcome."
    );
    ::metrics::describe_gauge!(
        STATE,
        "1 for the state a circuit breaker is in, 0 for the others."
    );
    ::metrics::describe_counter!(
        TRANSITIONS_TOTAL,
        Unit::Count,
        "Circuit breaker state changes, by the state entered and the reason."
    );
}

impl Observer {
    pub(crate) fn new(name: &Name) -> Observer {
        describe();
        let name = match name.as_static() {
            Some(s) => SharedString::const_str(s),
            None => SharedString::from(Arc::<str>::from(name.as_str())),
        };
        let states = STATES
            .map(|s| ::metrics::gauge!(STATE, "breaker" => name.clone(), "state" => s.as_str()));
        static IDS: AtomicU64 = AtomicU64::new(1);
        let id = IDS.fetch_add(1, Relaxed);
        // A new breaker starts closed, and owns its name's state gauge from now on.
        let mut marks = [0; 6];
        marks[state_index(State::Closed)] = 1;
        let member = Member { id, states, marks };
        let (slot, warn) = {
            let mut slots = slots();
            let slot = slots.entry(name.to_string()).or_default().clone();
            let mut s = lock(&slot);
            if let Some(previous) = s.live.last() {
                previous.show(-1.0);
            }
            member.show(1.0);
            s.live.push(member);
            let warn = s.live.len() > 1 && !s.warned;
            s.warned |= warn;
            drop(s);
            (slot, warn)
        };
        if warn {
            tracing::warn!(
                target: "breaker_runtime",
                name = &*name,
                "two live circuit breakers share this name: their counters add up, and \
                 `breaker_state` shows the state of the one created last"
            );
        }
        Observer {
            calls: OUTCOMES.map(|o| ::metrics::counter!(CALLS_TOTAL, "breaker" => name.clone(), "outcome" => o)),
            slow: ::metrics::counter!(SLOW_CALLS_TOTAL, "breaker" => name.clone()),
            timeouts: ::metrics::counter!(TIMEOUTS_TOTAL, "breaker" => name.clone()),
            durations: [OUTCOMES[0], OUTCOMES[1], OUTCOMES[2]]
                .map(|o| ::metrics::histogram!(CALL_DURATION_SECONDS, "breaker" => name.clone(), "outcome" => o)),
            slot,
            id,
            transitions: TRANSITIONS.map(|(to, reason)| {
                ::metrics::counter!(TRANSITIONS_TOTAL, "breaker" => name.clone(), "to" => to.as_str(), "reason" => reason.as_str())
            }),
            name,
        }
    }

    /// Calls are timed, for the duration histogram.
    #[inline]
    pub(crate) const fn wants_timing() -> bool {
        true
    }

    #[inline]
    pub(crate) fn call_finished(
        &self,
        outcome: Outcome,
        slow: bool,
        timed_out: bool,
        elapsed: Option<Duration>,
    ) {
        let i = outcome_index(outcome);
        self.calls[i].increment(1);
        if slow {
            self.slow.increment(1);
        }
        if timed_out {
            self.timeouts.increment(1);
        }
        if let (Some(took), Some(histogram)) = (elapsed, self.durations.get(i)) {
            histogram.record(took.as_secs_f64());
        }
    }

    #[inline]
    pub(crate) fn rejected(&self, _state: State) {
        self.calls[REJECTED].increment(1);
    }

    /// Moves the state gauge by increments, not `set`s: two transitions reported out of order
    /// by racing threads still add up to the state the breaker is in. Only the newest live
    /// breaker of the name moves the gauge; the others keep their marks for when it goes.
    pub(crate) fn transition(&self, from: State, to: State, reason: TransitionReason) {
        let (f, t) = (state_index(from), state_index(to));
        {
            let mut slot = lock(&self.slot);
            let owner = slot.live.last().map(|m| m.id);
            if let Some(me) = slot.live.iter_mut().find(|m| m.id == self.id) {
                me.marks[f] -= 1;
                me.marks[t] += 1;
                if owner == Some(self.id) {
                    me.states[f].decrement(1.0);
                    me.states[t].increment(1.0);
                }
            }
        }
        match TRANSITIONS.iter().position(|&(s, r)| s == to && r == reason) {
            Some(k) => self.transitions[k].increment(1),
            None => ::metrics::counter!(TRANSITIONS_TOTAL, "breaker" => self.name.clone(), "to" => to.as_str(), "reason" => reason.as_str())
                .increment(1),
        }
    }
}

impl Drop for Observer {
    /// A dropped breaker is in no state any more: if it owned its name's gauge, the newest
    /// live breaker left of the name shows its state there instead.
    fn drop(&mut self) {
        let mut slots = slots();
        let mut slot = lock(&self.slot);
        let Some(i) = slot.live.iter().position(|m| m.id == self.id) else {
            return;
        };
        let owned = i + 1 == slot.live.len();
        let me = slot.live.remove(i);
        if owned {
            me.show(-1.0);
            if let Some(next) = slot.live.last() {
                next.show(1.0);
            }
        }
        if slot.live.is_empty() {
            drop(slot);
            if slots
                .get(&*self.name)
                .is_some_and(|s| Arc::ptr_eq(s, &self.slot))
            {
                slots.remove(&*self.name);
            }
        }
    }
}
