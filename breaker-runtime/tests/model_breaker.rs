//! Model test: random sequences of calls, held permits, late results, clock advances and
//! manual controls are applied both to a real breaker and to a small reference model written
//! straight from the contract; state, each call's admission or rejection, and every metric
//! must agree after every step.
//!
//! One property per policy (consecutive failures, count window, time window, slow calls);
//! every case also draws a backoff (fixed, linear, exponential; jitter 0, so waits are exact).
//! `PROPTEST_CASES` sets the number of cases (default 96 per policy, 2,000 with
//! `BREAKER_LONG_TESTS=1`).

mod common;

use breaker_runtime::{Backoff, BreakerError, CallError, CircuitBreaker, Metrics, Permit, State};
use common::{cases, paused_runtime, quiet_panics, FAILED, IGNORED, NOT_A_FAILURE};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseResult};
use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::advance;

// ----- configuration -------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Policy {
    Consecutive {
        threshold: u32,
    },
    CountWindow {
        rate: f64,
        minimum: u32,
        size: u32,
        threshold: Option<u32>,
    },
    TimeWindow {
        rate: f64,
        minimum: u32,
        span_ms: u64,
    },
    SlowCalls {
        slow_ms: u64,
        slow_rate: f64,
        minimum: u32,
        size: u32,
        failure_rate: Option<f64>,
    },
}

#[derive(Debug, Clone, Copy)]
enum BackoffKind {
    Fixed,
    Linear {
        step_ms: u64,
        max_ms: Option<u64>,
    },
    Exponential {
        multiplier: u32,
        max_ms: Option<u64>,
    },
}

#[derive(Debug, Clone, Copy)]
struct Cfg {
    policy: Policy,
    success_threshold: u32,
    half_open_max_calls: u32,
    reset_ms: u64,
    backoff: BackoffKind,
    half_open_timeout_ms: u64,
    call_timeout_ms: Option<u64>,
}

impl Cfg {
    /// The time window's bucket: every clock move of a time-window case is a multiple of
    /// it, so the model knows which bucket each call lands in.
    fn grain_ms(&self) -> u64 {
        match self.policy {
            Policy::TimeWindow { span_ms, .. } => span_ms / 10,
            _ => 1,
        }
    }

    fn slow_ms(&self) -> Option<u64> {
        match self.policy {
            Policy::SlowCalls { slow_ms, .. } => Some(slow_ms),
            _ => None,
        }
    }

    fn build(&self, name: &str) -> Arc<CircuitBreaker> {
        let ms = Duration::from_millis;
        let mut b = CircuitBreaker::builder(name)
            .success_threshold(self.success_threshold)
            .half_open_max_calls(self.half_open_max_calls)
            .reset_timeout(ms(self.reset_ms))
            .half_open_timeout(ms(self.half_open_timeout_ms))
            .ignore_if(|e: &u8| *e == IGNORED)
            .failure_if(|e: &u8| *e != NOT_A_FAILURE)
            .backoff(match self.backoff {
                BackoffKind::Fixed => Backoff::fixed(),
                BackoffKind::Linear { step_ms, max_ms } => {
                    let b = Backoff::linear(ms(step_ms));
                    max_ms.map_or(b, |m| b.max(ms(m)))
                }
                BackoffKind::Exponential { multiplier, max_ms } => {
                    let b = Backoff::exponential(multiplier as f64);
                    max_ms.map_or(b, |m| b.max(ms(m)))
                }
            });
        if let Some(t) = self.call_timeout_ms {
            b = b.call_timeout(ms(t));
        }
        b = match self.policy {
            Policy::Consecutive { threshold } => b.failure_threshold(threshold),
            Policy::CountWindow {
                rate,
                minimum,
                size,
                threshold,
            } => {
                let b = b.failure_rate(rate).minimum_calls(minimum).window(size);
                match threshold {
                    Some(t) => b.failure_threshold(t),
                    None => b,
                }
            }
            Policy::TimeWindow {
                rate,
                minimum,
                span_ms,
            } => b
                .failure_rate(rate)
                .minimum_calls(minimum)
                .window(ms(span_ms))
                .failure_threshold(1_000),
            Policy::SlowCalls {
                slow_ms,
                slow_rate,
                minimum,
                size,
                failure_rate,
            } => {
                let b = b
                    .slow_call(ms(slow_ms))
                    .slow_call_rate(slow_rate)
                    .minimum_calls(minimum)
                    .window(size);
                match failure_rate {
                    Some(r) => b.failure_rate(r),
                    None => b,
                }
            }
        };
        b.build()
    }
}

// ----- operations ----------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Body {
    Ok,
    Err(u8),
}

#[derive(Debug, Clone, Copy)]
enum Op {
    /// A call through `call` that finishes at once.
    Call(Body),
    /// A call through `call` that takes `grains` clock grains, then returns.
    Slow(Body, u64),
    /// A call whose body panics (`call_sync` under `catch_unwind`, or `call` in a task).
    Panic {
        in_task: bool,
    },
    /// A call whose future is dropped after its first poll.
    Cancel,
    /// A call that never answers and is cut by `call_timeout`.
    Hang,
    /// Takes a permit and keeps it.
    Hold,
    /// Finishes the `i % held`-th held permit (a late result if the state moved since).
    Finish(usize, Fin),
    /// Moves the clock.
    Advance(u64),
    ForceOpen,
    Disable,
    MetricsOnly,
    Close,
    Reset,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fin {
    Success,
    Failure,
    Ignore,
    Drop,
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        4 => Just(Body::Ok),
        4 => Just(Body::Err(FAILED)),
        1 => Just(Body::Err(IGNORED)),
        1 => Just(Body::Err(NOT_A_FAILURE)),
    ]
}

fn op(cfg: Cfg) -> impl Strategy<Value = Op> {
    let grain = cfg.grain_ms();
    // Clock moves in grains: around the reset and half-open timeouts, and now and then
    // far ahead (past 65,536 buckets of a time window, past many backoff steps).
    let near = (cfg.reset_ms.max(cfg.half_open_timeout_ms) / grain).max(2) + 2;
    let advance = prop_oneof![
        6 => (0..=near).prop_map(move |g| g * grain),
        1 => (0..20u64).prop_map(move |g| g * grain),
        1 => (65_530..65_545u64).prop_map(move |g| g * grain),
    ];
    let slow_grains = match cfg.slow_ms() {
        // Exactly at the threshold (slow, inclusive) or one millisecond under it.
        Some(s) => prop_oneof![Just(s), Just(s - 1)].boxed(),
        None => (1..=3u64).boxed(),
    };
    prop_oneof![
        12 => body().prop_map(Op::Call),
        4 => (body(), slow_grains).prop_map(|(b, g)| Op::Slow(b, g)),
        1 => any::<bool>().prop_map(|in_task| Op::Panic { in_task }),
        1 => Just(Op::Cancel),
        1 => Just(Op::Hang),
        3 => Just(Op::Hold),
        3 => (any::<usize>(), prop_oneof![
            Just(Fin::Success), Just(Fin::Failure), Just(Fin::Ignore), Just(Fin::Drop)
        ])
            .prop_map(|(i, f)| Op::Finish(i, f)),
        4 => advance.prop_map(Op::Advance),
        1 => prop_oneof![
            Just(Op::ForceOpen),
            Just(Op::Disable),
            Just(Op::MetricsOnly),
            Just(Op::Close),
            Just(Op::Reset),
        ],
    ]
}

fn backoff_kind() -> impl Strategy<Value = BackoffKind> {
    prop_oneof![
        Just(BackoffKind::Fixed),
        (1..=500u64, proptest::option::of(1..=3_000u64))
            .prop_map(|(step_ms, max_ms)| BackoffKind::Linear { step_ms, max_ms }),
        (1..=3u32, proptest::option::of(1..=5_000u64))
            .prop_map(|(multiplier, max_ms)| BackoffKind::Exponential { multiplier, max_ms }),
    ]
}

fn rate() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.25), Just(0.5), Just(0.6), Just(0.75), Just(1.0)]
}

fn cfg(policy: BoxedStrategy<Policy>) -> impl Strategy<Value = Cfg> {
    (
        policy,
        1..=3u32,
        1..=3u32,
        prop_oneof![1 => Just(0u64), 4 => 1..=2_000u64],
        backoff_kind(),
        1..=3_000u64,
        proptest::option::of(1..=50u64),
    )
        .prop_map(|(policy, st, hm, reset_ms, backoff, hot, ct)| {
            let mut c = Cfg {
                policy,
                success_threshold: st,
                half_open_max_calls: hm,
                reset_ms,
                backoff,
                half_open_timeout_ms: hot,
                call_timeout_ms: ct,
            };
            // In a time-window case every duration is a whole number of buckets.
            let g = c.grain_ms();
            c.reset_ms = c.reset_ms / g * g;
            c.half_open_timeout_ms = (c.half_open_timeout_ms / g).max(1) * g;
            c.call_timeout_ms = c.call_timeout_ms.map(|t| t.max(1) * g);
            if let BackoffKind::Linear { step_ms, max_ms } = &mut c.backoff {
                *step_ms = (*step_ms / g).max(1) * g;
                *max_ms = max_ms.map(|m| m / g * g);
            }
            if let BackoffKind::Exponential { max_ms, .. } = &mut c.backoff {
                *max_ms = max_ms.map(|m| m / g * g);
            }
            c
        })
}

fn case(policy: BoxedStrategy<Policy>) -> impl Strategy<Value = (Cfg, Vec<Op>)> {
    cfg(policy).prop_flat_map(|c| (Just(c), proptest::collection::vec(op(c), 1..80)))
}

// ----- the reference model -------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum MState {
    Closed { failures: u32 },
    Open { until: u64, level: u32 },
    HalfOpen { level: u32, successes: u32 },
    ForcedOpen,
    Disabled,
    MetricsOnly,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Closed,
    HalfOpen,
    MetricsOnly,
    Untracked,
}

#[derive(Debug, Clone, Copy)]
struct Ticket {
    generation: u64,
    kind: Kind,
    started: u64,
    /// Which probe this is, for a half-open ticket.
    probe: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Success,
    Failure,
    Ignored,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Rejection {
    Open { retry_after_ms: u64 },
    HalfOpenFull,
    ForcedOpen,
}

#[derive(Debug, Default, Clone, PartialEq)]
struct Counts {
    successes: u64,
    failures: u64,
    ignored: u64,
    rejected: u64,
    cancelled: u64,
    timeouts: u64,
    slow_calls: u64,
    opened: u64,
}

/// The contract, written the plain way: one thread, no atomics, every rule spelled out.
#[derive(Debug)]
struct Model {
    cfg: Cfg,
    now: u64,
    state: MState,
    generation: u64,
    counts: Counts,
    /// (failed, slow, bucket) of each call in the window, oldest first.
    window: VecDeque<(bool, bool, u64)>,
    /// HalfOpen: (probe id, admitted at) of each probe in flight.
    probes: Vec<(u64, u64)>,
    next_probe: u64,
}

impl Model {
    fn new(cfg: Cfg) -> Model {
        Model {
            cfg,
            now: 0,
            state: MState::Closed { failures: 0 },
            generation: 0,
            counts: Counts::default(),
            window: VecDeque::new(),
            probes: Vec::new(),
            next_probe: 0,
        }
    }

    fn threshold(&self) -> Option<u32> {
        match self.cfg.policy {
            Policy::Consecutive { threshold } => Some(threshold),
            Policy::CountWindow { threshold, .. } => threshold,
            Policy::TimeWindow { .. } => Some(1_000),
            Policy::SlowCalls { failure_rate, .. } => failure_rate.is_none().then_some(5),
        }
    }

    fn minimum(&self) -> u32 {
        match self.cfg.policy {
            Policy::Consecutive { .. } => 10,
            Policy::CountWindow { minimum, .. }
            | Policy::TimeWindow { minimum, .. }
            | Policy::SlowCalls { minimum, .. } => minimum,
        }
    }

    fn has_window(&self) -> bool {
        !matches!(self.cfg.policy, Policy::Consecutive { .. })
    }

    /// (calls, failures, slow) in the window now.
    fn window_stats(&self) -> (u32, u32, u32) {
        let bucket = self.now / self.cfg.grain_ms();
        let live = self
            .window
            .iter()
            .filter(|(_, _, b)| match self.cfg.policy {
                Policy::TimeWindow { .. } => bucket - b < 10,
                _ => true,
            });
        live.fold((0, 0, 0), |(c, f, s), &(failed, slow, _)| {
            (c + 1, f + failed as u32, s + slow as u32)
        })
    }

    fn window_record(&mut self, failed: bool, slow: bool) {
        let bucket = self.now / self.cfg.grain_ms();
        self.window.push_back((failed, slow, bucket));
        let size = match self.cfg.policy {
            Policy::CountWindow { size, .. } | Policy::SlowCalls { size, .. } => size as usize,
            _ => usize::MAX,
        };
        if self.window.len() > size {
            self.window.pop_front();
        }
    }

    fn rates(&self) -> (Option<f64>, Option<f64>) {
        let (failure_rate, slow_rate) = match self.cfg.policy {
            Policy::Consecutive { .. } => (None, None),
            Policy::CountWindow { rate, .. } | Policy::TimeWindow { rate, .. } => {
                (Some(rate), None)
            }
            Policy::SlowCalls {
                slow_rate,
                failure_rate,
                ..
            } => (failure_rate, Some(slow_rate)),
        };
        (failure_rate, slow_rate)
    }

    /// The rate that trips, if the window holds enough calls for one to.
    fn tripped(&self) -> bool {
        let (calls, failures, slow) = self.window_stats();
        if calls == 0 || calls < self.minimum() {
            return false;
        }
        let (fr, sr) = self.rates();
        fr.is_some_and(|r| failures as f64 / calls as f64 >= r)
            || sr.is_some_and(|r| slow as f64 / calls as f64 >= r)
    }

    /// How long the `level`-th re-open in a row waits.
    fn wait_ms(&self, level: u32) -> u64 {
        const YEAR_MS: u128 = 365 * 24 * 3600 * 1000;
        let reset = self.cfg.reset_ms as u128;
        let (grown, max) = match self.cfg.backoff {
            BackoffKind::Fixed => (reset, None),
            BackoffKind::Linear { step_ms, max_ms } => {
                (reset + level as u128 * step_ms as u128, max_ms)
            }
            BackoffKind::Exponential { multiplier, max_ms } => {
                let mut w = reset;
                for _ in 0..level {
                    w = (w * multiplier as u128).min(YEAR_MS * 4);
                }
                (w, max_ms)
            }
        };
        grown.min(max.map_or(YEAR_MS, |m| m as u128)).min(YEAR_MS) as u64
    }

    /// Opens at `at` (from Closed or HalfOpen); the new open period counts from `at`.
    fn open(&mut self, at: u64) {
        let level = match self.state {
            MState::Closed { .. } => 0,
            MState::HalfOpen { level, .. } | MState::Open { level, .. } => (level + 1).min(255),
            _ => unreachable!("only Closed and HalfOpen open on their own"),
        };
        self.enter(MState::Open {
            until: at + self.wait_ms(level),
            level,
        });
        self.counts.opened += 1;
    }

    /// Every transition starts a new generation with no probe in flight.
    fn enter(&mut self, next: MState) {
        self.generation += 1;
        self.probes.clear();
        self.state = next;
    }

    /// Applies the time-driven moves due now, each at the instant it fell due: an open period
    /// that ended half-opens; a probe with no verdict `half_open_timeout` after it was let in
    /// re-opens the breaker at that instant.
    fn settle(&mut self) {
        loop {
            match self.state {
                MState::Open { until, level } if self.now >= until => {
                    self.enter(MState::HalfOpen {
                        level,
                        successes: 0,
                    })
                }
                MState::HalfOpen { .. } => {
                    let oldest = self.probes.iter().map(|&(_, at)| at).min();
                    match oldest.map(|at| at + self.cfg.half_open_timeout_ms) {
                        Some(due) if self.now >= due => self.open(due),
                        _ => return,
                    }
                }
                _ => return,
            }
        }
    }

    /// What `state()` says: time-based moves show as soon as they fall due.
    fn view(&mut self) -> State {
        self.settle();
        match self.state {
            MState::Closed { .. } => State::Closed,
            MState::Open { .. } => State::Open,
            MState::HalfOpen { .. } => State::HalfOpen,
            MState::ForcedOpen => State::ForcedOpen,
            MState::Disabled => State::Disabled,
            MState::MetricsOnly => State::MetricsOnly,
        }
    }

    fn acquire(&mut self) -> Result<Ticket, Rejection> {
        let r = self.admit();
        if r.is_err() {
            self.counts.rejected += 1;
        }
        r
    }

    fn admit(&mut self) -> Result<Ticket, Rejection> {
        self.settle();
        let mut probe = 0;
        let kind = match self.state {
            MState::Closed { .. } => Kind::Closed,
            MState::Disabled => Kind::Untracked,
            MState::MetricsOnly => Kind::MetricsOnly,
            MState::ForcedOpen => return Err(Rejection::ForcedOpen),
            MState::Open { until, .. } => {
                return Err(Rejection::Open {
                    retry_after_ms: until - self.now,
                })
            }
            MState::HalfOpen { .. } if self.probes.len() as u32 >= self.cfg.half_open_max_calls => {
                return Err(Rejection::HalfOpenFull)
            }
            MState::HalfOpen { .. } => {
                self.next_probe += 1;
                probe = self.next_probe;
                self.probes.push((probe, self.now));
                Kind::HalfOpen
            }
        };
        Ok(Ticket {
            generation: self.generation,
            kind,
            started: self.now,
            probe,
        })
    }

    fn record(&mut self, t: Ticket, outcome: Outcome, timed_out: bool) {
        if t.kind == Kind::Untracked {
            return;
        }
        let verdict = matches!(outcome, Outcome::Success | Outcome::Failure);
        let slow = verdict
            && self
                .cfg
                .slow_ms()
                .is_some_and(|s| self.now - t.started >= s);
        let failed = outcome == Outcome::Failure;
        match outcome {
            Outcome::Success => self.counts.successes += 1,
            Outcome::Failure => {
                self.counts.failures += 1;
                self.counts.timeouts += timed_out as u64;
            }
            Outcome::Ignored => self.counts.ignored += 1,
            Outcome::Cancelled => self.counts.cancelled += 1,
        }
        self.counts.slow_calls += slow as u64;
        // A probe whose phase timed out before it answered is late too.
        self.settle();
        // A result from an older generation touches nothing but the counts.
        if t.generation != self.generation {
            return;
        }
        match (t.kind, self.state) {
            (Kind::Closed, MState::Closed { failures }) if verdict => {
                if self.has_window() {
                    self.window_record(failed, slow);
                    if self.tripped() {
                        self.open(self.now);
                        return;
                    }
                }
                if failed {
                    if let Some(threshold) = self.threshold() {
                        if failures + 1 >= threshold {
                            self.open(self.now);
                        } else {
                            self.state = MState::Closed {
                                failures: failures + 1,
                            };
                        }
                    }
                } else {
                    self.state = MState::Closed { failures: 0 };
                }
            }
            (Kind::HalfOpen, MState::HalfOpen { level, successes }) => {
                self.probes.retain(|&(id, _)| id != t.probe);
                match outcome {
                    // A slow probe counts against the phase when slowness can open it.
                    Outcome::Failure => self.open(self.now),
                    Outcome::Success if slow => self.open(self.now),
                    Outcome::Success if successes + 1 >= self.cfg.success_threshold => {
                        self.enter(MState::Closed { failures: 0 });
                        self.window.clear();
                    }
                    Outcome::Success => {
                        self.state = MState::HalfOpen {
                            level,
                            successes: successes + 1,
                        }
                    }
                    Outcome::Ignored | Outcome::Cancelled => {}
                }
            }
            (Kind::MetricsOnly, MState::MetricsOnly) if verdict && self.has_window() => {
                self.window_record(failed, slow);
            }
            _ => {}
        }
    }

    fn set_manual(&mut self, next: MState) {
        match (self.state, next) {
            (MState::Closed { .. }, MState::Closed { .. }) => {
                self.state = MState::Closed { failures: 0 };
                self.window.clear();
            }
            (a, b) if a == b => {}
            (_, next) => {
                self.enter(next);
                if matches!(next, MState::Closed { .. }) {
                    self.window.clear();
                }
            }
        }
    }

    /// `close()` and zeroed counts: on a closed breaker held permits keep counting.
    fn reset(&mut self) {
        self.set_manual(MState::Closed { failures: 0 });
        self.counts = Counts::default();
    }

    fn metrics(&mut self) -> Metrics {
        let state = self.view();
        let c = &self.counts;
        let (failure_rate, slow_call_rate) = if self.has_window() {
            let (calls, failures, slow) = self.window_stats();
            if calls == 0 || calls < self.minimum() {
                (None, None)
            } else {
                (
                    Some(failures as f64 / calls as f64),
                    self.cfg.slow_ms().map(|_| slow as f64 / calls as f64),
                )
            }
        } else {
            let recorded = c.successes + c.failures;
            let rate = (recorded > 0 && recorded >= self.minimum() as u64)
                .then(|| c.failures as f64 / recorded as f64);
            (rate, None)
        };
        let mut m = empty_metrics();
        m.calls = c.successes + c.failures + c.ignored + c.rejected + c.cancelled;
        m.successes = c.successes;
        m.failures = c.failures;
        m.ignored = c.ignored;
        m.rejected = c.rejected;
        m.cancelled = c.cancelled;
        m.timeouts = c.timeouts;
        m.slow_calls = c.slow_calls;
        m.failure_rate = failure_rate;
        m.slow_call_rate = slow_call_rate;
        m.state = state;
        m.opened_count = c.opened;
        m
    }
}

/// `Metrics` is non-exhaustive: start from a real (fresh) one and overwrite every field.
fn empty_metrics() -> Metrics {
    CircuitBreaker::builder("model-empty").build().metrics()
}

fn outcome_of(body: Body) -> Outcome {
    match body {
        Body::Ok | Body::Err(NOT_A_FAILURE) => Outcome::Success,
        Body::Err(IGNORED) => Outcome::Ignored,
        Body::Err(_) => Outcome::Failure,
    }
}

// ----- running both --------------------------------------------------------------------

/// What a call returned, reduced to what the model predicts.
#[derive(Debug, PartialEq)]
enum Seen {
    Ran,
    Rejected(Rejection),
    TimedOut,
}

fn seen<T>(r: &Result<T, CallError<u8>>) -> Seen {
    match r {
        Ok(_) | Err(CallError::Inner(_)) => Seen::Ran,
        Err(CallError::Breaker(e)) => match e {
            BreakerError::Open { retry_after, .. } => Seen::Rejected(Rejection::Open {
                retry_after_ms: retry_after.as_millis() as u64,
            }),
            BreakerError::HalfOpenFull { .. } => Seen::Rejected(Rejection::HalfOpenFull),
            BreakerError::ForcedOpen { .. } => Seen::Rejected(Rejection::ForcedOpen),
            BreakerError::TimedOut { .. } => Seen::TimedOut,
            other => panic!("unexpected breaker error {other:?}"),
        },
    }
}

fn expected(r: &Result<Ticket, Rejection>) -> Seen {
    match r {
        Ok(_) => Seen::Ran,
        Err(rej) => Seen::Rejected(*rej),
    }
}

fn result(body: Body) -> Result<(), u8> {
    match body {
        Body::Ok => Ok(()),
        Body::Err(e) => Err(e),
    }
}

const PANIC_MESSAGE: &str = "model test: the body panics";

fn boom() -> Result<(), u8> {
    std::panic::panic_any(PANIC_MESSAGE)
}

async fn step<'b>(
    b: &'b Arc<CircuitBreaker>,
    m: &mut Model,
    held: &mut Vec<(Permit<'b>, Ticket)>,
    op: Op,
) -> TestCaseResult {
    let grain = m.cfg.grain_ms();
    match op {
        Op::Call(body) => {
            let r = b.call(|| async move { result(body) }).await;
            let want = m.acquire();
            prop_assert_eq!(seen(&r), expected(&want));
            if let Ok(t) = want {
                m.record(t, outcome_of(body), false);
            }
        }
        Op::Slow(body, grains) => {
            // A call outlasting `call_timeout` is a timeout: that is `Op::Hang`.
            if m.cfg.call_timeout_ms.is_some_and(|t| grains * grain >= t) {
                return Ok(());
            }
            let took = Duration::from_millis(grains * grain);
            let r = b
                .call(|| async move {
                    advance(took).await;
                    result(body)
                })
                .await;
            let want = m.acquire();
            prop_assert_eq!(seen(&r), expected(&want));
            if let Ok(t) = want {
                m.now += grains * grain;
                m.record(t, outcome_of(body), false);
            }
        }
        Op::Panic { in_task } => {
            let r = if in_task {
                let task_b = b.clone();
                let joined =
                    tokio::spawn(async move { task_b.call(|| async { boom() }).await }).await;
                match joined {
                    Ok(r) => Some(r),
                    Err(e) => {
                        prop_assert!(e.is_panic());
                        None
                    }
                }
            } else {
                std::panic::catch_unwind(AssertUnwindSafe(|| b.call_sync(boom))).ok()
            };
            let want = m.acquire();
            match (&r, &want) {
                (None, Ok(t)) => m.record(*t, Outcome::Failure, false),
                (Some(r), Err(rej)) => prop_assert_eq!(seen(r), Seen::Rejected(*rej)),
                _ => prop_assert!(false, "panic op: got {:?}, model {:?}", r, want),
            }
        }
        Op::Cancel => {
            let fut = b.call(std::future::pending::<Result<(), u8>>);
            let r = tokio::time::timeout(Duration::ZERO, fut).await;
            let want = m.acquire();
            match (&r, &want) {
                (Err(_elapsed), Ok(t)) => m.record(*t, Outcome::Cancelled, false),
                (Ok(r), Err(rej)) => prop_assert_eq!(seen(r), Seen::Rejected(*rej)),
                _ => prop_assert!(false, "cancel op: got {:?}, model {:?}", r, want),
            }
        }
        Op::Hang => {
            let Some(timeout) = m.cfg.call_timeout_ms else {
                return Ok(());
            };
            let r = b.call(std::future::pending::<Result<(), u8>>).await;
            let want = m.acquire();
            match want {
                Ok(t) => {
                    prop_assert_eq!(seen(&r), Seen::TimedOut);
                    m.now += timeout;
                    m.record(t, Outcome::Failure, true);
                }
                Err(rej) => prop_assert_eq!(seen(&r), Seen::Rejected(rej)),
            }
        }
        Op::Hold => {
            let r = b.try_acquire();
            let want = m.acquire();
            match (r, want) {
                (Ok(p), Ok(t)) => held.push((p, t)),
                (Err(e), Err(rej)) => {
                    let r: Result<(), CallError<u8>> = Err(CallError::Breaker(e));
                    prop_assert_eq!(seen(&r), Seen::Rejected(rej));
                }
                (r, want) => prop_assert!(false, "hold: got {:?}, model {:?}", r.is_ok(), want),
            }
        }
        Op::Finish(i, fin) => {
            if held.is_empty() {
                return Ok(());
            }
            let (p, t) = held.remove(i % held.len());
            let outcome = match fin {
                Fin::Success => {
                    p.success();
                    Outcome::Success
                }
                Fin::Failure => {
                    p.failure();
                    Outcome::Failure
                }
                Fin::Ignore => {
                    p.ignore();
                    Outcome::Ignored
                }
                Fin::Drop => {
                    drop(p);
                    Outcome::Cancelled
                }
            };
            m.record(t, outcome, false);
        }
        Op::Advance(ms) => {
            advance(Duration::from_millis(ms)).await;
            m.now += ms;
        }
        Op::ForceOpen => {
            b.force_open();
            m.set_manual(MState::ForcedOpen);
        }
        Op::Disable => {
            b.disable();
            m.set_manual(MState::Disabled);
        }
        Op::MetricsOnly => {
            b.metrics_only();
            m.set_manual(MState::MetricsOnly);
        }
        Op::Close => {
            b.close();
            m.set_manual(MState::Closed { failures: 0 });
        }
        Op::Reset => {
            b.reset();
            m.reset();
        }
    }
    Ok(())
}

fn run(name: &'static str, cfg: Cfg, ops: Vec<Op>) -> TestCaseResult {
    quiet_panics(PANIC_MESSAGE);
    let rt = paused_runtime();
    rt.block_on(async move {
        let b = cfg.build(name);
        let mut m = Model::new(cfg);
        let mut held = Vec::new();
        for (i, op) in ops.into_iter().enumerate() {
            step(&b, &mut m, &mut held, op).await?;
            prop_assert_eq!(b.state(), m.view(), "state after step {} ({:?})", i, op);
            prop_assert_eq!(
                b.metrics(),
                m.metrics(),
                "metrics after step {} ({:?})",
                i,
                op
            );
        }
        Ok(())
    })
}

fn config() -> Config {
    Config {
        cases: cases(96, 2_000),
        max_global_rejects: 100_000,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn consecutive_failures((cfg, ops) in case(
        (1..=5u32).prop_map(|threshold| Policy::Consecutive { threshold }).boxed()
    )) {
        run("model-consecutive", cfg, ops)?;
    }

    #[test]
    fn count_window((cfg, ops) in case(
        (rate(), 1..=8u32, proptest::option::of(1..=6u32))
            .prop_flat_map(|(rate, size, threshold)| (Just(rate), 1..=size, Just(size), Just(threshold)))
            .prop_map(|(rate, minimum, size, threshold)| Policy::CountWindow { rate, minimum, size, threshold })
            .boxed()
    )) {
        run("model-count-window", cfg, ops)?;
    }

    #[test]
    fn time_window((cfg, ops) in case(
        (rate(), 1..=6u32, prop_oneof![Just(10u64), Just(100), Just(1_000)])
            .prop_map(|(rate, minimum, span_ms)| Policy::TimeWindow { rate, minimum, span_ms })
            .boxed()
    )) {
        run("model-time-window", cfg, ops)?;
    }

    #[test]
    fn slow_calls((cfg, ops) in case(
        (2..=40u64, rate(), 1..=8u32, proptest::option::of(rate()))
            .prop_flat_map(|(slow_ms, slow_rate, size, failure_rate)| {
                (Just(slow_ms), Just(slow_rate), 1..=size, Just(size), Just(failure_rate))
            })
            .prop_map(|(slow_ms, slow_rate, minimum, size, failure_rate)| Policy::SlowCalls {
                slow_ms, slow_rate, minimum, size, failure_rate,
            })
            .boxed()
    )) {
        run("model-slow-calls", cfg, ops)?;
    }
}
