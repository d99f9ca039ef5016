//! [`CircuitBreaker`]: admission, recording and transitions over the packed state word.
//!
//! Every decision is a pure function of one reading of the word, applied with a
//! compare-and-swap; the thread whose swap succeeds performs the transition and reports it.
//! Results carry the generation they were admitted in and touch the state only while that
//! generation is current.

use crate::backoff::random_unit;
use crate::clock::{self, ceil_ms, COARSE_SLACK_MS};
use crate::config::{setters, BreakerConfig, Settings};
use crate::counters::Counters;
use crate::error::{BreakerError, ConfigError};
use crate::events::{trace_transition, BreakerEvent, EventReceiver, Events, TransitionReason};
use crate::metrics::Metrics;
use crate::name::Name;
use crate::observe::Observer;
use crate::permit::{Outcome, Permit, Ticket, TicketKind};
use crate::state::{Generation, State, Word};
use crate::sync::{exclusive_ptr, AtomicPtr, AtomicU64, Ordering::*};
use crate::window::{RateWindow, WindowStats};
use std::fmt;
use std::sync::{Arc, Mutex};
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
    word: AtomicU64,
    /// Half-open: when the current phase last saw a verdict, tagged with its generation.
    verdict_at: AtomicU64,
    /// From `Arc::into_raw`, never null; replaced settings are kept in `cold` until the
    /// breaker is dropped, so a reader on the hot path needs neither a lock nor a reference
    /// count. Breakers with equal settings share one allocation.
    settings: AtomicPtr<Settings>,
    /// Null when no rate needs a window.
    window: AtomicPtr<RateWindow>,
    cold: Mutex<Cold>,
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

// The raw pointers are owned boxes, read-only while shared.
unsafe impl Send for CircuitBreaker {}
unsafe impl Sync for CircuitBreaker {}

impl Drop for CircuitBreaker {
    fn drop(&mut self) {
        // SAFETY: the pointers came from Arc::into_raw and Box::into_raw, and nobody else can
        // read them now.
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
        CircuitBreaker::new(self.name, self.config.clone(), &self.config).map(Arc::new)
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

/// What a rejected acquire says.
enum Admission {
    Admit(Ticket),
    Reject(BreakerError),
    Retry,
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
        Ok(CircuitBreaker {
            observer: Observer::new(&name),
            name,
            word: AtomicU64::new(Word::initial().0),
            verdict_at: AtomicU64::new(0),
            settings: AtomicPtr::new(Arc::into_raw(crate::share::settings(settings)).cast_mut()),
            window: AtomicPtr::new(window),
            cold: Mutex::new(Cold {
                code: crate::share::config(code),
                retired: None,
            }),
            counters: Counters::default(),
            events: Events::default(),
        })
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

    #[inline]
    pub(crate) fn settings(&self) -> &Settings {
        // SAFETY: never null, and a replaced Settings lives until `self` is dropped.
        unsafe { &*self.settings.load(Acquire) }
    }

    #[inline]
    fn window(&self) -> Option<&RateWindow> {
        // SAFETY: as for settings; null means no window.
        unsafe { self.window.load(Acquire).as_ref() }
    }

    #[inline]
    fn load(&self) -> Word {
        Word(self.word.load(Acquire))
    }

    fn swap(&self, current: Word, next: Word) -> bool {
        self.word
            .compare_exchange(current.0, next.0, AcqRel, Acquire)
            .is_ok()
    }

    // ----- admission -------------------------------------------------------------------

    /// Asks to let one call through. On success, the [`Permit`] records the call's outcome;
    /// dropped unrecorded it counts the call as cancelled (or failed, if dropped while
    /// panicking) and gives a half-open slot back.
    ///
    /// This is the low-level API under [`call`](Self::call) for callers with unusual needs.
    ///
    /// ```
    /// use breaker_runtime::CircuitBreaker;
    ///
    /// let breaker = CircuitBreaker::builder("docs-acquire").failure_threshold(1).build();
    /// let permit = breaker.try_acquire().expect("closed");
    /// permit.failure();
    /// assert!(breaker.try_acquire().is_err());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Result<Permit<'_>, BreakerError> {
        let w = self.load();
        if w.state() == State::Closed {
            return Ok(Permit::new(
                self,
                self.ticket(w.generation(), TicketKind::Closed),
            ));
        }
        if w.state() == State::Open {
            // The error is built here, inlined into the caller, from a number returned in a
            // register: a whole error returned through memory and then re-wrapped by the
            // caller cost more than the rest of the rejection.
            if let Some(retry_ms) = self.reject_while_open(w) {
                return Err(BreakerError::Open {
                    name: self.name.clone(),
                    retry_after: Duration::from_millis(retry_ms),
                });
            }
        }
        self.acquire_not_closed(w)
    }

    /// An open breaker well before its deadline: counts the rejection and says how many
    /// milliseconds are left; `None` when the deadline is near enough for a precise look.
    #[inline(never)]
    fn reject_while_open(&self, w: Word) -> Option<u64> {
        // The coarse clock never runs ahead of the precise one, so a deadline well beyond it
        // has surely not passed: reject without a precise clock read.
        let coarse = clock::coarse_now_ms();
        if coarse + COARSE_SLACK_MS < w.until_ms() {
            self.count_rejection(w.state());
            Some(w.until_ms() - coarse)
        } else {
            None
        }
    }

    /// Everything but Closed and an early Open, kept out of line so the common paths inline
    /// into callers.
    #[inline(never)]
    fn acquire_not_closed(&self, w: Word) -> Result<Permit<'_>, BreakerError> {
        self.acquire_slow(w).map(|t| Permit::new(self, t))
    }

    #[inline]
    fn count_rejection(&self, state: State) {
        self.counters.hot().rejected.fetch_add(1, Relaxed);
        self.observer.rejected(state);
        if self.events.observed() {
            self.events.send(BreakerEvent::Rejected {
                name: self.name.clone(),
                state,
            });
        }
    }

    #[inline]
    fn ticket(&self, generation: Generation, kind: TicketKind) -> Ticket {
        let timed = Observer::wants_timing() || self.settings().slow_call.is_some();
        Ticket::new(generation, kind, if timed { clock::stamp() } else { 0 })
    }

    #[cold]
    fn acquire_slow(&self, mut w: Word) -> Result<Ticket, BreakerError> {
        loop {
            match self.admit(w) {
                Admission::Admit(t) => return Ok(t),
                Admission::Reject(e) => {
                    self.count_rejection(w.state());
                    return Err(e);
                }
                Admission::Retry => w = self.load(),
            }
        }
    }

    fn admit(&self, w: Word) -> Admission {
        let gen = w.generation();
        match w.state() {
            State::Closed => Admission::Admit(self.ticket(gen, TicketKind::Closed)),
            State::Disabled => Admission::Admit(self.ticket(gen, TicketKind::Untracked)),
            State::MetricsOnly => Admission::Admit(self.ticket(gen, TicketKind::MetricsOnly)),
            State::ForcedOpen => Admission::Reject(BreakerError::ForcedOpen {
                name: self.name.clone(),
            }),
            State::Open => {
                let until = w.until_ms();
                // The coarse clock never runs ahead, so "well before the deadline" is safe
                // to decide on it; only near the deadline do we pay for a precise read.
                let coarse = clock::coarse_now_ms();
                let now = if coarse + COARSE_SLACK_MS < until {
                    coarse
                } else {
                    clock::now_ms()
                };
                if now < until {
                    return Admission::Reject(BreakerError::Open {
                        name: self.name.clone(),
                        retry_after: Duration::from_millis(until - now),
                    });
                }
                let next = Word::half_open(gen.next(), w.level(), 0, 1);
                if !self.swap(w, next) {
                    return Admission::Retry;
                }
                // The phase's half-open timeout runs from now, when its first probe is let
                // in, not from `until`: after a quiet spell that would time the probe out
                // the moment it started.
                self.note_verdict(next.generation(), now);
                self.announce(
                    State::Open,
                    State::HalfOpen,
                    TransitionReason::ResetTimeoutElapsed,
                );
                Admission::Admit(self.ticket(next.generation(), TicketKind::HalfOpen))
            }
            State::HalfOpen => {
                let in_flight = w.in_flight();
                if in_flight > 0 && self.half_open_expired(w, clock::now_ms()) {
                    self.open_from(w, TransitionReason::HalfOpenTimeout);
                    return Admission::Retry;
                }
                if in_flight >= self.settings().half_open_max_calls {
                    return Admission::Reject(BreakerError::HalfOpenFull {
                        name: self.name.clone(),
                    });
                }
                let next = Word::half_open(gen, w.level(), w.successes(), in_flight + 1);
                if self.swap(w, next) {
                    Admission::Admit(self.ticket(gen, TicketKind::HalfOpen))
                } else {
                    Admission::Retry
                }
            }
        }
    }

    // ----- recording ---------------------------------------------------------------------

    /// Applies a finished call's outcome. Counts it first: every call is counted, even one
    /// whose generation has passed.
    #[inline]
    pub(crate) fn record(&self, ticket: Ticket, outcome: Outcome, timed_out: bool) {
        // The common case: an untimed success in Closed, with no window to feed and no
        // failure streak to end, is one counter increment and one load.
        if outcome == Outcome::Success
            && ticket.kind() == TicketKind::Closed
            && ticket.started().is_none()
        {
            self.counters.hot().successes.fetch_add(1, Relaxed);
            if self.word.load(Acquire) == Word::closed(ticket.generation(), 0).0
                && self.window.load(Acquire).is_null()
            {
                return;
            }
            return self.record_closed(ticket.generation(), outcome, false);
        }
        self.record_slow(ticket, outcome, timed_out);
    }

    /// Gives an admitted call's slot back without counting it: a protected stream that ends
    /// had no call to count for the item it was waiting for.
    pub(crate) fn release(&self, ticket: Ticket) {
        if ticket.kind() == TicketKind::HalfOpen {
            self.record_half_open(ticket.generation(), Outcome::Cancelled);
        }
    }

    fn record_slow(&self, ticket: Ticket, outcome: Outcome, timed_out: bool) {
        if ticket.kind() == TicketKind::Untracked {
            return;
        }
        let elapsed = ticket.started().map(clock::since);
        let slow = match (elapsed, self.settings().slow_call) {
            (Some(took), Some(threshold)) => outcome.is_verdict() && took >= threshold,
            _ => false,
        };
        self.observer
            .call_finished(outcome, slow, timed_out, elapsed);
        let c = &self.counters;
        match outcome {
            Outcome::Success => {
                c.hot().successes.fetch_add(1, Relaxed);
            }
            Outcome::Failure => {
                c.failures.fetch_add(1, Relaxed);
                if timed_out {
                    c.timeouts.fetch_add(1, Relaxed);
                }
            }
            Outcome::Ignored => {
                c.ignored.fetch_add(1, Relaxed);
            }
            Outcome::Cancelled => {
                c.cancelled.fetch_add(1, Relaxed);
            }
        }
        if slow {
            c.slow_calls.fetch_add(1, Relaxed);
        }
        match ticket.kind() {
            TicketKind::Closed => self.record_closed(ticket.generation(), outcome, slow),
            TicketKind::HalfOpen => self.record_half_open(ticket.generation(), outcome),
            TicketKind::MetricsOnly => {
                if let (Some(window), true) = (self.window(), outcome.is_verdict()) {
                    // Like every late result, one from before a control moved the breaker
                    // on stays out of the new state's window.
                    let w = self.load();
                    if w.state() == State::MetricsOnly && w.generation() == ticket.generation() {
                        window.record(outcome == Outcome::Failure, slow);
                    }
                }
            }
            TicketKind::Untracked => {}
        }
    }

    fn record_closed(&self, gen: Generation, outcome: Outcome, slow: bool) {
        let w = self.load();
        if w.state() != State::Closed || w.generation() != gen || !outcome.is_verdict() {
            return;
        }
        let failed = outcome == Outcome::Failure;
        if let Some(window) = self.window() {
            // Not only failures can trip a rate: the call that brings the window up to
            // `minimum_calls` may be a success with the rate already reached.
            let minimum_calls = self.settings().minimum_calls;
            if let Some(stats) = window.record_and_check(failed, slow, minimum_calls) {
                if let Some(reason) = self.rate_tripped(stats) {
                    self.open_from_closed(gen, reason);
                    return;
                }
            }
        }
        if failed {
            self.count_failure(gen);
        } else if w.failures() > 0 {
            self.end_failure_streak(gen);
        }
    }

    fn rate_tripped(&self, stats: WindowStats) -> Option<TransitionReason> {
        let s = self.settings();
        if stats.calls == 0 || stats.calls < s.minimum_calls {
            return None;
        }
        let calls = stats.calls as f64;
        if s.failure_rate
            .is_some_and(|r| stats.failures as f64 / calls >= r)
        {
            return Some(TransitionReason::FailureRate);
        }
        if s.slow_call_rate
            .is_some_and(|r| stats.slow as f64 / calls >= r)
        {
            return Some(TransitionReason::SlowCallRate);
        }
        None
    }

    fn count_failure(&self, gen: Generation) {
        let threshold = self.settings().failure_threshold;
        let mut w = self.load();
        while w.state() == State::Closed && w.generation() == gen {
            let failures = w.failures().saturating_add(1);
            if threshold.is_some_and(|t| failures >= t) {
                self.open_from_closed(gen, TransitionReason::FailureThreshold);
                return;
            }
            if threshold.is_none() || self.swap(w, Word::closed(gen, failures)) {
                return;
            }
            w = self.load();
        }
    }

    fn end_failure_streak(&self, gen: Generation) {
        let mut w = self.load();
        while w.state() == State::Closed && w.generation() == gen && w.failures() > 0 {
            if self.swap(w, Word::closed(gen, 0)) {
                return;
            }
            w = self.load();
        }
    }

    fn record_half_open(&self, gen: Generation, outcome: Outcome) {
        let mut w = self.load();
        while w.state() == State::HalfOpen && w.generation() == gen {
            let in_flight = w.in_flight().saturating_sub(1);
            match outcome {
                Outcome::Failure => {
                    // The word may have moved only because another probe came or went:
                    // retry until this failure re-opens the phase or the phase is over.
                    if self.open_from(w, TransitionReason::ProbeFailed) {
                        return;
                    }
                }
                Outcome::Success => {
                    let successes = w.successes() + 1;
                    if successes >= self.settings().success_threshold {
                        if self.swap(w, Word::closed(gen.next(), 0)) {
                            self.clear_window();
                            self.announce(
                                State::HalfOpen,
                                State::Closed,
                                TransitionReason::ProbesSucceeded,
                            );
                            return;
                        }
                    } else if self.swap(w, Word::half_open(gen, w.level(), successes, in_flight)) {
                        self.note_verdict(gen, clock::now_ms());
                        return;
                    }
                }
                Outcome::Ignored | Outcome::Cancelled => {
                    let next = Word::half_open(gen, w.level(), w.successes(), in_flight);
                    if self.swap(w, next) {
                        return;
                    }
                }
            }
            w = self.load();
        }
    }

    // ----- transitions -------------------------------------------------------------------

    fn open_from_closed(&self, gen: Generation, reason: TransitionReason) {
        let mut w = self.load();
        while w.state() == State::Closed && w.generation() == gen {
            if self.open_from(w, reason) {
                return;
            }
            w = self.load();
        }
    }

    /// Opens from `w` (Closed or HalfOpen); false if the word moved first.
    fn open_from(&self, w: Word, reason: TransitionReason) -> bool {
        let from = w.state();
        let level = match from {
            State::Closed => 0,
            // Saturates at the word's limit of 255 re-opens.
            _ => w.level().saturating_add(1),
        };
        let s = self.settings();
        let wait = s.backoff.wait(s.reset_timeout, level, random_unit());
        let until = clock::now_ms().saturating_add(ceil_ms(wait));
        if !self.swap(w, Word::open(w.generation().next(), level, until)) {
            return false;
        }
        self.counters.opened.fetch_add(1, Relaxed);
        self.announce(from, State::Open, reason);
        true
    }

    /// Remembers when the half-open phase `gen` last heard a verdict (or began), so
    /// `half_open_timeout` counts from there. Newer generations and later times win.
    fn note_verdict(&self, gen: Generation, at_ms: u64) {
        let tagged = pack_verdict(gen, at_ms);
        let mut cur = self.verdict_at.load(Acquire);
        loop {
            let (cur_gen, cur_ms) = unpack_verdict(cur);
            if (cur_gen == gen && cur_ms >= at_ms) || is_newer(cur_gen, gen) {
                return;
            }
            match self
                .verdict_at
                .compare_exchange_weak(cur, tagged, AcqRel, Acquire)
            {
                Ok(_) => return,
                Err(now) => cur = now,
            }
        }
    }

    fn half_open_expired(&self, w: Word, now_ms: u64) -> bool {
        let (gen, at) = unpack_verdict(self.verdict_at.load(Acquire));
        // Not yet published by the thread that entered half-open: it is about to be.
        gen == w.generation()
            && now_ms >= at.saturating_add(ceil_ms(self.settings().half_open_timeout))
    }

    fn announce(&self, from: State, to: State, reason: TransitionReason) {
        trace_transition(&self.name, from, to, reason);
        self.observer.transition(from, to, reason);
        self.events.send(BreakerEvent::StateTransition {
            name: self.name.clone(),
            from,
            to,
            reason,
        });
    }

    fn clear_window(&self) {
        if let Some(w) = self.window() {
            w.clear();
        }
    }

    /// Moves to `next_state` from whatever state the breaker is in; returns the old state.
    fn set_manual(&self, next_state: State) -> State {
        let mut w = self.load();
        loop {
            let from = w.state();
            if from == next_state && from != State::Closed {
                return from;
            }
            if from == State::Closed && next_state == State::Closed {
                self.end_failure_streak(w.generation());
                self.clear_window();
                return from;
            }
            let next = match next_state {
                State::Closed => Word::closed(w.generation().next(), 0),
                s => Word::manual(s, w.generation().next()),
            };
            if self.swap(w, next) {
                if next_state == State::Closed {
                    self.clear_window();
                }
                self.announce(from, next_state, TransitionReason::Manual);
                return from;
            }
            w = self.load();
        }
    }

    // ----- public controls and views -------------------------------------------------

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
            State::Open if clock::now_ms() >= w.until_ms() => State::HalfOpen,
            State::HalfOpen if w.in_flight() > 0 && self.half_open_expired(w, clock::now_ms()) => {
                State::Open
            }
            s => s,
        }
    }

    /// Opens the breaker until [`close`](Self::close) or [`reset`](Self::reset): every call
    /// is rejected with [`BreakerError::ForcedOpen`].
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-force").build();
    /// breaker.force_open();
    /// assert!(breaker.try_acquire().is_err());
    /// ```
    pub fn force_open(&self) {
        self.set_manual(State::ForcedOpen);
    }

    /// Lets every call through and records nothing, until another control is used.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-disable").failure_threshold(1).build();
    /// breaker.disable();
    /// let _ = breaker.call_sync(|| Err::<(), _>("down"));
    /// assert_eq!(breaker.metrics().calls, 0);
    /// assert_eq!(breaker.state(), breaker_runtime::State::Disabled);
    /// ```
    pub fn disable(&self) {
        self.set_manual(State::Disabled);
    }

    /// Records every call but never rejects one, e.g. to watch a new breaker's settings in
    /// production before letting it act.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-mo").failure_threshold(1).build();
    /// breaker.metrics_only();
    /// for _ in 0..3 {
    ///     let _ = breaker.call_sync(|| Err::<(), _>("down"));
    /// }
    /// assert_eq!(breaker.metrics().failures, 3);
    /// assert_eq!(breaker.state(), breaker_runtime::State::MetricsOnly);
    /// ```
    pub fn metrics_only(&self) {
        self.set_manual(State::MetricsOnly);
    }

    /// Closes the breaker: clears the failure streak, the window and the backoff. If it was
    /// in another state, calls admitted before keep running but their results no longer move
    /// the state; if it was already closed, they still count in the (fresh) streak and window.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-close").build();
    /// breaker.force_open();
    /// breaker.close();
    /// assert_eq!(breaker.state(), breaker_runtime::State::Closed);
    /// ```
    pub fn close(&self) {
        self.set_manual(State::Closed);
    }

    /// Closes the breaker as [`close`](Self::close) does and zeroes its metrics.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-reset").build();
    /// let _ = breaker.call_sync(|| Ok::<_, ()>(()));
    /// breaker.reset();
    /// assert_eq!(breaker.metrics().calls, 0);
    /// ```
    pub fn reset(&self) {
        let mut w = self.load();
        loop {
            let next = Word::closed(w.generation().next(), 0);
            if self.swap(w, next) {
                self.clear_window();
                self.counters.clear();
                if w.state() != State::Closed {
                    self.announce(w.state(), State::Closed, TransitionReason::Manual);
                }
                return;
            }
            w = self.load();
        }
    }

    /// The breaker's counts and rates now.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-metrics-fn").build();
    /// assert_eq!(breaker.metrics().calls, 0);
    /// ```
    pub fn metrics(&self) -> Metrics {
        let t = self.counters.totals();
        let s = self.settings();
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

    /// Applies `config` as it is, keeping the state, the metrics and, when its shape is the
    /// same, the window. It becomes the layer the code gave. Settings from config files and
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
        if *self.settings() == next {
            return Ok(());
        }
        let retired = cold.retired.get_or_insert_with(Box::default);
        if self.window().map(RateWindow::spec) != next.window {
            let fresh = next.window.map_or(std::ptr::null_mut(), |w| {
                Box::into_raw(Box::new(RateWindow::new(w)))
            });
            let old = self.window.swap(fresh, AcqRel);
            if !old.is_null() {
                // SAFETY: from Box::into_raw; kept alive in `retired` for late readers.
                retired.windows.push(unsafe { Box::from_raw(old) });
            }
        }
        let next = Arc::into_raw(crate::share::settings(next)).cast_mut();
        let old = self.settings.swap(next, AcqRel);
        // SAFETY: from Arc::into_raw; kept alive in `retired` for late readers.
        retired.settings.push(unsafe { Arc::from_raw(old) });
        Ok(())
    }

    /// Time until an open breaker probes, if it is open.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        let w = self.load();
        (w.state() == State::Open)
            .then(|| Duration::from_millis(w.until_ms().saturating_sub(clock::now_ms())))
    }
}

const VERDICT_MS_BITS: u32 = 48;

fn pack_verdict(gen: Generation, ms: u64) -> u64 {
    ((gen.bits() as u64) << VERDICT_MS_BITS) | (ms & ((1 << VERDICT_MS_BITS) - 1))
}

fn unpack_verdict(v: u64) -> (Generation, u64) {
    (
        Generation::from_bits((v >> VERDICT_MS_BITS) as u16),
        v & ((1 << VERDICT_MS_BITS) - 1),
    )
}

/// Whether generation `a` is later than `b`, on the wrapping generation counter.
fn is_newer(a: Generation, b: Generation) -> bool {
    let d = a.bits().wrapping_sub(b.bits()) & Generation::MASK;
    d != 0 && d < Generation::MASK / 2
}
