//! Each breaker's metric handles, and the live breakers of each name, which share series.

use super::publisher;
use super::{
    CALLS_TOTAL, CALL_DURATION_SECONDS, SLOW_CALLS_TOTAL, STATE, TIMEOUTS_TOTAL, TRANSITIONS_TOTAL,
};
use crate::breaker::CircuitBreaker;
use crate::counters::Totals;
use crate::events::TransitionReason;
use crate::name::Name;
use crate::permit::Outcome;
use crate::state::State;
use ::metrics::{Counter, Gauge, Histogram, SharedString, Unit};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::Duration;

const OUTCOMES: [&str; 5] = ["success", "failure", "ignored", "cancelled", "rejected"];

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

/// Where `state` is in [`State::ALL`], the order of a member's gauges and marks.
fn state_index(state: State) -> usize {
    State::ALL.iter().position(|&s| s == state).unwrap_or(0)
}

/// A breaker's metric handles, registered once when the breaker is created.
pub(crate) struct Observer {
    /// The `breaker` label: the name itself if static, else one copy shared by every series.
    name: SharedString,
    /// This breaker's place among the live breakers of its name.
    slot: Arc<Mutex<Slot>>,
    id: u64,
    transitions: [Counter; TRANSITIONS.len()],
    /// success, failure, ignored; only with [`record_durations`](super::record_durations).
    durations: Option<[Histogram; 3]>,
}

/// The live breakers of one name, oldest first. The newest one owns the name's
/// `breaker_state` series: the gauge shows its state (1 for it, 0 for the others), and when
/// it goes the gauge shows the state of the newest one left.
#[derive(Default)]
pub(super) struct Slot {
    live: Vec<Member>,
    /// Whether the warning about two live breakers of this name was logged.
    warned: bool,
}

/// One live breaker: its handles (with the recorder installed when it was created), and
/// what of its counts is published already.
struct Member {
    id: u64,
    /// Set once the breaker is shared ([`Observer::attach`]).
    breaker: Weak<CircuitBreaker>,
    counts: CountHandles,
    published: Totals,
    states: [Gauge; 6],
    /// Its own state, as a 1 at the state's index, whether or not it owns the gauge.
    marks: [i64; 6],
}

struct CountHandles {
    /// By [`OUTCOMES`].
    calls: [Counter; 5],
    slow: Counter,
    timeouts: Counter,
}

impl CountHandles {
    /// Adds what `now` counts beyond `before`. Increments, not absolute values: the series
    /// are shared by every breaker of a name, those alive and those gone.
    fn add(&self, now: Totals, before: Totals) {
        let d = now.since(before);
        let by_outcome = [d.successes, d.failures, d.ignored, d.cancelled, d.rejected];
        for (counter, n) in self.calls.iter().zip(by_outcome) {
            if n > 0 {
                counter.increment(n);
            }
        }
        if d.slow_calls > 0 {
            self.slow.increment(d.slow_calls);
        }
        if d.timeouts > 0 {
            self.timeouts.increment(d.timeouts);
        }
    }
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
fn slots() -> MutexGuard<'static, HashMap<String, Arc<Mutex<Slot>>>> {
    static SLOTS: OnceLock<Slots> = OnceLock::new();
    SLOTS
        .get_or_init(Slots::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

fn lock(slot: &Mutex<Slot>) -> MutexGuard<'_, Slot> {
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Publishes the counts of every live breaker.
pub(super) fn publish_all() {
    let all: Vec<Arc<Mutex<Slot>>> = slots().values().cloned().collect();
    for slot in all {
        // The strong references are dropped after the lock: the last reference to a breaker
        // may drop it here, and its drop locks the slot.
        let _breakers: Vec<Arc<CircuitBreaker>> = lock(&slot)
            .live
            .iter_mut()
            .filter_map(Member::publish)
            .collect();
    }
}

impl Member {
    /// Publishes what the breaker counted since the last time; under the slot's lock, so
    /// that two publications never add the same counts.
    fn publish(&mut self) -> Option<Arc<CircuitBreaker>> {
        let breaker = self.breaker.upgrade()?;
        let now = breaker.lifetime_counts();
        self.counts.add(now, self.published);
        self.published = now;
        Some(breaker)
    }
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
        publisher::start();
        let name = match name.as_static() {
            Some(s) => SharedString::const_str(s),
            None => SharedString::from(Arc::<str>::from(name.as_str())),
        };
        super::unrecorded::note(&name);
        let label = || name.clone();
        let states = State::ALL
            .map(|s| ::metrics::gauge!(STATE, "breaker" => label(), "state" => s.as_str()));
        static IDS: AtomicU64 = AtomicU64::new(1);
        let id = IDS.fetch_add(1, Relaxed);
        // A new breaker starts closed, and owns its name's state gauge from now on.
        let mut marks = [0; 6];
        marks[state_index(State::Closed)] = 1;
        let member = Member {
            id,
            breaker: Weak::new(),
            counts: CountHandles {
                calls: OUTCOMES.map(
                    |o| ::metrics::counter!(CALLS_TOTAL, "breaker" => label(), "outcome" => o),
                ),
                slow: ::metrics::counter!(SLOW_CALLS_TOTAL, "breaker" => label()),
                timeouts: ::metrics::counter!(TIMEOUTS_TOTAL, "breaker" => label()),
            },
            published: Totals::default(),
            states,
            marks,
        };
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
            durations: publisher::durations_on().then(|| {
                [OUTCOMES[0], OUTCOMES[1], OUTCOMES[2]].map(
                    |o| ::metrics::histogram!(CALL_DURATION_SECONDS, "breaker" => label(), "outcome" => o),
                )
            }),
            transitions: TRANSITIONS.map(|(to, reason)| {
                ::metrics::counter!(TRANSITIONS_TOTAL, "breaker" => label(), "to" => to.as_str(), "reason" => reason.as_str())
            }),
            slot,
            id,
            name,
        }
    }

    /// Calls are timed only for the duration histogram.
    #[inline]
    pub(crate) fn times_calls(&self) -> bool {
        self.durations.is_some()
    }

    /// The breaker, once shared: from now on its counts are published.
    pub(crate) fn attach(&self, breaker: &Arc<CircuitBreaker>) {
        if let Some(me) = lock(&self.slot).live.iter_mut().find(|m| m.id == self.id) {
            me.breaker = Arc::downgrade(breaker);
        }
    }

    #[inline]
    pub(crate) fn call_timed(&self, outcome: Outcome, took: Duration) {
        let i = match outcome {
            Outcome::Success => 0,
            Outcome::Failure => 1,
            Outcome::Ignored => 2,
            Outcome::Cancelled => return,
        };
        if let Some(durations) = &self.durations {
            durations[i].record(took.as_secs_f64());
        }
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
                // The counts that led here go out with the state. Dropping this reference
                // under the lock is safe: the breaker making the transition holds another.
                me.publish();
            }
        }
        match TRANSITIONS.iter().position(|&(s, r)| s == to && r == reason) {
            Some(k) => self.transitions[k].increment(1),
            None => ::metrics::counter!(TRANSITIONS_TOTAL, "breaker" => self.name.clone(), "to" => to.as_str(), "reason" => reason.as_str())
                .increment(1),
        }
    }

    /// The breaker is going: publishes the rest of its counts, and it is in no state any
    /// more: if it owned its name's gauge, the newest live breaker left of the name shows its
    /// state there instead.
    pub(crate) fn retire(&self, lifetime: Totals) {
        let mut slots = slots();
        let mut slot = lock(&self.slot);
        let Some(i) = slot.live.iter().position(|m| m.id == self.id) else {
            return;
        };
        let owned = i + 1 == slot.live.len();
        let me = slot.live.remove(i);
        me.counts.add(lifetime, me.published);
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
