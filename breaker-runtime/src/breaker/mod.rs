//! [`CircuitBreaker`]: the struct and its views; the manual controls are in [`controls`], new
//! settings in [`reconfigure`].
//!
//! The state machine ([`machine`]) lives under a lock and changes only there; each change is
//! published in the hot word ([`Word`]), which is all that a closed call and a rejection well
//! before the deadline read ([`admit`], [`record`]). Results carry the generation they were
//! admitted in and touch the state only while that generation is current.

mod admit;
mod cause;
mod controls;
pub(crate) mod machine;
mod progress;
mod reconfigure;
mod record;

use crate::clock;
use crate::counters::Counters;
use crate::error::ConfigError;
use crate::events::{trace_transition, BreakerEvent, EventReceiver, Events};
use crate::metrics::Metrics;
use crate::name::Name;
use crate::observe::Observer;
use crate::settings::{setters, BreakerConfig, Settings};
use crate::state::{State, Word};
use crate::sync::{exclusive_ptr, AtomicBool, AtomicPtr, AtomicU64, Mutex, Ordering::*};
use crate::window::RateWindow;
pub(crate) use cause::PANICKED;
use machine::{Machine, Move, Moves};
use std::fmt;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

/// A circuit breaker: lets calls through while the dependency behind it is healthy, rejects
/// them at once while it is not, and probes now and then to see whether it recovered.
///
/// ```
/// use breaker_runtime::{CallError, CircuitBreaker, State};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let breaker = CircuitBreaker::builder("docs-breaker")
///     .failure_threshold(2)
///     .reset_timeout(Duration::from_secs(30))
///     .build();
///
/// for _ in 0..2 {
///     let r: Result<(), CallError<&str>> = breaker.call(|| async { Err("down") }).await;
///     assert!(matches!(r, Err(CallError::Inner("down"))));
/// }
/// assert_eq!(breaker.state(), State::Open);
///
/// // Rejected without running the call.
/// let r = breaker.call(|| async { Ok::<_, &str>(unreachable!()) }).await;
/// assert!(r.unwrap_err().is_circuit_open());
/// # }
/// ```
pub struct CircuitBreaker {
    name: Name,
    /// The published [`Word`]: written only under `machine`'s lock.
    word: AtomicU64,
    /// Open: the clock millisecond from which probes are let in, published with the word so
    /// that a rejection needs no lock.
    open_until: AtomicU64,
    /// Whether the settings in force have a `classify`: read by every finished call, so kept
    /// here, beside the word, rather than a pointer away in the settings.
    classified: AtomicBool,
    /// From `Arc::into_raw`, never null; replaced settings are kept in `cold` until the
    /// breaker is dropped, so a reader on the hot path needs neither a lock nor a reference
    /// count. Breakers with equal settings share one allocation.
    settings: AtomicPtr<Settings>,
    /// Null when no rate needs a window.
    window: AtomicPtr<RateWindow>,
    cold: std::sync::Mutex<Cold>,
    /// The state machine; every transition happens under this lock.
    machine: Mutex<Machine>,
    counters: Counters,
    events: Events,
    observer: Observer,
}

/// What only reconfiguration touches.
struct Cold {
    /// The layer the code gave (attribute or builder), kept to re-resolve on reload; shared
    /// by every breaker given an equal config.
    code: Arc<BreakerConfig>,
    /// Settings and windows replaced by a reconfiguration; rare, hence boxed.
    retired: Option<Box<Retired>>,
}

/// Allocations, not values: late readers hold pointers into them, so they must never move.
#[derive(Default)]
#[allow(clippy::vec_box)]
struct Retired {
    settings: Vec<Arc<Settings>>,
    windows: Vec<Box<RateWindow>>,
}

// SAFETY: the two raw pointers stand for an `Arc<Settings>` and a `Box<RateWindow>` the breaker
// owns (from `Arc::into_raw` / `Box::into_raw`, in `new` and `apply`), freed only in `drop` or
// by `retired` when the breaker itself is dropped. Sending the breaker sends that ownership, as
// an `Arc` or `Box` field would, and both pointees are `Send` and `Sync` (checked below). Every
// other field is `Send` on its own.
unsafe impl Send for CircuitBreaker {}
// SAFETY: through `&CircuitBreaker` the pointees are only read, as `&Settings` and
// `&RateWindow` (`in_force`, `window`): `Settings` is plain data and `RateWindow` changes only
// through its atomics, both `Sync` (checked below). Swapping a pointer is itself atomic, and
// the pointee it replaces stays alive in `retired`, so a reference handed out before the swap
// stays valid as long as the breaker. Every other field is `Sync` on its own.
unsafe impl Sync for CircuitBreaker {}

// What the two impls above rely on, checked by the compiler.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Settings>();
    send_sync::<RateWindow>();
};

impl Drop for CircuitBreaker {
    fn drop(&mut self) {
        self.observer.retire(self.lifetime_counts());
        // SAFETY: `&mut self`: no reference from `in_force` or `window` is left. The settings
        // pointer came from `Arc::into_raw` and is never null; the window pointer, unless
        // null, from `Box::into_raw`. Each holds the one reference (or box) the breaker owns
        // and is given back once, here; the ones replaced are owned by `retired`, not by these.
        unsafe {
            drop(Arc::from_raw(exclusive_ptr(&mut self.settings)));
            let w = exclusive_ptr(&mut self.window);
            if !w.is_null() {
                drop(Box::from_raw(w));
            }
        }
    }
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.name)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

/// Builds a [`CircuitBreaker`]; every `#[circuit_breaker]` argument is a method of the same
/// name.
///
/// ```
/// use breaker_runtime::{Backoff, CircuitBreaker};
/// use std::time::Duration;
///
/// let breaker = CircuitBreaker::builder("payments")
///     .failure_rate(0.5)
///     .minimum_calls(20)
///     .window(Duration::from_secs(60))
///     .slow_call(Duration::from_secs(2))
///     .reset_timeout(Duration::from_secs(10))
///     .backoff(Backoff::exponential(2.0).max(Duration::from_secs(300)).jitter(0.1))
///     .build();
/// assert_eq!(breaker.name(), "payments");
/// ```
#[derive(Debug, Clone)]
pub struct CircuitBreakerBuilder {
    name: Name,
    config: BreakerConfig,
}

impl CircuitBreakerBuilder {
    setters!(config);

    /// The breaker, outside the registry.
    ///
    /// # Panics
    /// When a setting is out of range, with the message of [`try_build`](Self::try_build)'s
    /// error. Settings from files and the environment never get here unchecked.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-build").build();
    /// assert_eq!(breaker.name(), "docs-build");
    /// ```
    pub fn build(self) -> Arc<CircuitBreaker> {
        self.try_build().unwrap_or_else(|e| panic!("{e}"))
    }

    /// The breaker, or an error naming the setting that is out of range.
    ///
    /// ```
    /// let err = breaker_runtime::CircuitBreaker::builder("x").failure_threshold(0).try_build();
    /// assert!(err.unwrap_err().to_string().contains("`failure_threshold` = 0"));
    /// ```
    pub fn try_build(self) -> Result<Arc<CircuitBreaker>, ConfigError> {
        CircuitBreaker::new(self.name, self.config.clone(), &self.config)
            .map(CircuitBreaker::shared)
    }

    /// The settings made so far, e.g. to register them with
    /// [`Registry::get_or_create`](crate::Registry::get_or_create).
    ///
    /// ```
    /// let config = breaker_runtime::CircuitBreaker::builder("x").failure_threshold(3).config();
    /// assert_eq!(config.get_failure_threshold(), Some(3));
    /// ```
    pub fn config(self) -> BreakerConfig {
        self.config
    }
}

impl CircuitBreaker {
    /// Starts a breaker named `name`; see [`CircuitBreakerBuilder`].
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("inventory").build();
    /// assert_eq!(breaker.state(), breaker_runtime::State::Closed);
    /// ```
    pub fn builder(name: impl Into<String>) -> CircuitBreakerBuilder {
        CircuitBreaker::builder_named(name.into())
    }

    /// Like [`builder`](Self::builder), for a [`Name`]: a string literal is taken as it is,
    /// without a copy, and so is an `Arc<str>` shared with the caller.
    ///
    /// ```
    /// use breaker_runtime::CircuitBreaker;
    ///
    /// let breaker = CircuitBreaker::builder_named("inventory").build();
    /// assert_eq!(breaker.name(), "inventory");
    /// ```
    pub fn builder_named(name: impl Into<Name>) -> CircuitBreakerBuilder {
        CircuitBreakerBuilder {
            name: name.into(),
            config: BreakerConfig::default(),
        }
    }

    /// A breaker running `effective`, remembering `code` as the layer its code gave.
    pub(crate) fn new(
        name: Name,
        code: BreakerConfig,
        effective: &BreakerConfig,
    ) -> Result<CircuitBreaker, ConfigError> {
        let settings = effective.resolve(&name)?;
        let window = settings.window.map_or(std::ptr::null_mut(), |w| {
            Box::into_raw(Box::new(RateWindow::new(w)))
        });
        let machine = Machine::new();
        let observer = Observer::new(&name);
        let timed = settings.slow_call.is_some() || observer.times_calls();
        let word = machine.word().with_hints(!window.is_null(), timed);
        Ok(CircuitBreaker {
            observer,
            name,
            word: AtomicU64::new(word.0),
            open_until: AtomicU64::new(0),
            classified: AtomicBool::new(settings.classify.is_some()),
            machine: Mutex::new(machine),
            settings: AtomicPtr::new(Arc::into_raw(crate::share::settings(settings)).cast_mut()),
            window: AtomicPtr::new(window),
            cold: std::sync::Mutex::new(Cold {
                code: crate::share::config(code),
                retired: None,
            }),
            counters: Counters::default(),
            events: Events::default(),
        })
    }

    /// The breaker in its `Arc`, as every breaker is handed out: from here an observer may
    /// read its counts.
    pub(crate) fn shared(self) -> Arc<CircuitBreaker> {
        let breaker = Arc::new(self);
        breaker.observer.attach(&breaker);
        breaker
    }

    /// The breaker's name, as registered and as shown in errors and events.
    ///
    /// ```
    /// assert_eq!(breaker_runtime::CircuitBreaker::builder("db").build().name(), "db");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name, to put in an error or event.
    #[inline]
    pub(crate) fn shared_name(&self) -> &Name {
        &self.name
    }

    /// The settings this breaker runs with now: every value after defaults, config files, the
    /// code and the environment.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-settings-fn")
    ///     .failure_rate(0.5)
    ///     .build();
    /// let s = breaker.settings();
    /// assert_eq!((s.failure_rate, s.failure_threshold, s.minimum_calls), (Some(0.5), None, 10));
    /// ```
    pub fn settings(&self) -> Settings {
        self.in_force().clone()
    }

    /// Whether the settings in force have a `classify` (see the field).
    #[inline]
    pub(crate) fn has_classify(&self) -> bool {
        self.classified.load(Relaxed)
    }

    /// The settings in force, borrowed: replaced ones live as long as the breaker.
    #[inline]
    pub(crate) fn in_force(&self) -> &Settings {
        // SAFETY: the pointer is never null and came from `Arc::into_raw`, whose reference the
        // breaker holds; a replaced `Settings` is kept in `retired` until the breaker is
        // dropped, so it outlives the `&self` the returned reference borrows from.
        unsafe { &*self.settings.load(Acquire) }
    }

    #[inline]
    fn window(&self) -> Option<&RateWindow> {
        // SAFETY: as in `in_force`: the pointer is null (no window) or from `Box::into_raw`,
        // and a replaced window is kept in `retired` until the breaker is dropped.
        unsafe { self.window.load(Acquire).as_ref() }
    }

    /// The state as last published, not moved on: `state` may move an open breaker to
    /// half-open and announce it, and an announcement must not run under the registry's lock
    /// (a subscriber may read the registry). For `Family`'s look under that lock.
    pub(crate) fn published_state(&self) -> State {
        self.load().state()
    }

    #[inline]
    fn load(&self) -> Word {
        Word(self.word.load(Acquire))
    }

    /// Runs `f` on the state machine under its lock, publishes where it ends up, and then,
    /// outside the lock, announces the moves it made.
    pub(crate) fn locked<R>(&self, f: impl FnOnce(&mut Machine, &Settings, &mut Moves) -> R) -> R {
        let mut moves = Moves::default();
        let r = {
            let mut m = self.machine.lock().unwrap_or_else(PoisonError::into_inner);
            let r = f(&mut m, self.in_force(), &mut moves);
            // A clock read only when something moved, which is rare: for the snapshot's
            // `last_transition`.
            if let Some(last) = moves.iter().last() {
                m.note_transition(last.reason, clock::now_ms());
            }
            // Before the word lets calls of a new closed generation in, so that none of them
            // lands in the window it is about to lose.
            if m.take_clear_window() {
                self.clear_window();
            }
            self.publish(&m);
            r
        };
        for m in moves.iter() {
            self.announce(m);
        }
        r
    }

    /// Publishes `m`'s position, with the hints of the settings in force, for the lock-free
    /// paths; only ever under the machine's lock, so publications never cross.
    fn publish(&self, m: &Machine) {
        self.open_until.store(m.until_ms(), Relaxed);
        let timed = self.in_force().slow_call.is_some() || self.observer.times_calls();
        let word = m.word().with_hints(self.window().is_some(), timed);
        self.word.store(word.0, Release);
    }

    /// Applies the time-driven moves due now and returns the state they lead to.
    fn current(&self) -> (State, Option<Duration>) {
        let now = clock::now_ms();
        self.locked(|m, s, moves| {
            m.advance(now, s, moves);
            let retry = (m.state() == State::Open)
                .then(|| Duration::from_millis(m.until_ms().saturating_sub(now)));
            (m.state(), retry)
        })
    }

    fn announce(&self, m: Move) {
        self.announce_because(m, None);
    }

    /// Announces a move; `cause` is the text of the failure that made it an open, if known
    /// (in the log line only: subscribers read it from `open_cause`).
    fn announce_because(&self, m: Move, cause: Option<&str>) {
        if m.to == State::Open {
            self.counters.opened.fetch_add(1, Relaxed);
        }
        trace_transition(&self.name, m.from, m.to, m.reason, cause);
        self.observer.transition(m.from, m.to, m.reason);
        self.events.send(BreakerEvent::StateTransition {
            name: self.name.clone(),
            from: m.from,
            to: m.to,
            reason: m.reason,
        });
        crate::changes::changed();
    }

    fn clear_window(&self) {
        if let Some(w) = self.window() {
            w.clear();
        }
    }

    fn set_manual(&self, target: State) {
        self.locked(|m, _, moves| m.set_manual(target, moves));
    }

    /// Starts the generation counter at `bits`, so tests can drive it across its whole range.
    #[cfg(feature = "test-util")]
    pub(crate) fn start_generation_at(&self, bits: u64) {
        self.locked(|m, _, _| m.set_generation(crate::state::Generation::from_bits(bits)));
    }

    // ----- views ---------------------------------------------------------------------

    /// The current state. Time-based moves are applied as they fall due: once
    /// `reset_timeout` has passed an open breaker already says [`State::HalfOpen`], without
    /// waiting for a call.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-state-fn").build();
    /// assert_eq!(breaker.state(), breaker_runtime::State::Closed);
    /// ```
    pub fn state(&self) -> State {
        let w = self.load();
        match w.state() {
            State::Open if clock::now_ms() < self.open_until.load(Relaxed) => State::Open,
            State::Open | State::HalfOpen => self.current().0,
            s => s,
        }
    }

    /// Every count since the breaker was created, untouched by resets: what an exporter
    /// publishes.
    pub(crate) fn lifetime_counts(&self) -> crate::counters::Totals {
        self.counters.lifetime()
    }

    /// The breaker's counts and rates now.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-metrics-fn").build();
    /// assert_eq!(breaker.metrics().calls, 0);
    /// ```
    pub fn metrics(&self) -> Metrics {
        let t = self.counters.totals();
        let s = self.in_force();
        let (failure_rate, slow_call_rate) = match self.window() {
            Some(window) => {
                let st = window.stats();
                if st.calls == 0 || st.calls < s.minimum_calls {
                    (None, None)
                } else {
                    let calls = st.calls as f64;
                    (
                        Some(st.failures as f64 / calls),
                        s.slow_call.map(|_| st.slow as f64 / calls),
                    )
                }
            }
            None => {
                let recorded = t.successes + t.failures;
                let rate = (recorded > 0 && recorded >= s.minimum_calls as u64)
                    .then(|| t.failures as f64 / recorded as f64);
                (rate, None)
            }
        };
        Metrics {
            calls: t.successes + t.failures + t.ignored + t.rejected + t.cancelled,
            successes: t.successes,
            failures: t.failures,
            ignored: t.ignored,
            rejected: t.rejected,
            cancelled: t.cancelled,
            timeouts: t.timeouts,
            slow_calls: t.slow_calls,
            failure_rate,
            slow_call_rate,
            state: self.state(),
            opened_count: t.opened,
        }
    }

    /// Receives this breaker's state transitions and rejections from now on.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-subscribe").build();
    /// let mut events = breaker.subscribe();
    /// breaker.force_open();
    /// assert!(events.try_recv().is_some());
    /// ```
    pub fn subscribe(&self) -> EventReceiver {
        self.events.subscribe()
    }

    /// Time until an open breaker lets a probe in, if it is open.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self.load().state() {
            State::Open | State::HalfOpen => self.current().1,
            _ => None,
        }
    }
}
