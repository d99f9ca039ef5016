//! A second reference model, written from the documents only (README "How it behaves" and
//! "Guarantees", CONTRACT "States", "Outcomes" and "Runtime API", and the public rustdoc),
//! never from the implementation. Random sequences of operations are applied to a real
//! breaker on tokio's paused clock and to a plain model of one breaker; after every operation
//! the state, each admission (`Ok` or which `BreakerError`), `retry_after`, the snapshot's
//! `retry_after_ms` and every metric must agree.
//!
//! The model's rules, as the documents state them:
//!
//! - Closed → Open after `failure_threshold` failures in a row, or once the count window
//!   holds `minimum_calls` recorded calls (successes and failures) and failures / calls
//!   reaches `failure_rate` (inclusive); the call that brings the window to `minimum_calls`
//!   opens it if the rate is already reached. Ignored and cancelled calls touch neither.
//! - Open → HalfOpen at the instant the wait in force has passed (inclusive). The first open
//!   waits `reset_timeout`; the n-th re-open in a row (from half-open, no close in between)
//!   waits what the backoff says for n (fixed, linear, exponential; no jitter; capped).
//! - HalfOpen: at most `half_open_max_calls` probes in flight (more are `HalfOpenFull`);
//!   `success_threshold` successful probes close it; a failed probe re-opens it; an ignored
//!   or dropped probe gives its slot back and moves nothing; a probe with no verdict
//!   `half_open_timeout` after its own admission re-opens it at that instant, and the new
//!   open period counts from that instant.
//! - Time-driven moves happen at the instant they fall due, however late anyone looks.
//! - Closing (probes succeeded, `close()`, `reset()`) clears the streak, the window and the
//!   backoff. `close()` / `reset()` on a closed breaker keep the generation: permits admitted
//!   before still count in the fresh streak and window.
//! - Every other transition starts a new generation: a permit admitted before it is a late
//!   result, counted in the metrics and moving nothing.
//! - ForcedOpen rejects everything (`ForcedOpen`) until `close()` / `reset()`; Disabled lets
//!   everything through and records nothing; MetricsOnly records everything and never
//!   rejects or moves. Manual controls do not count in `opened_count`.
//! - Metrics: every finished call in exactly one of successes, failures, ignored, rejected,
//!   cancelled; `calls` is their sum; `reset()` zeroes them. `failure_rate` is failures /
//!   calls over the window (None below `minimum_calls`); without a rate window, over all
//!   recorded calls since the last reset (None below `minimum_calls`, default 10).
//! - `retry_after` of an `Open` rejection never exceeds the time left until a probe is let
//!   in, nor the wait in force; the paused clock is exact, so it is the time left.
//!
//! Where the documents are silent the model does not guess: `failure_rate` is compared
//! exactly only while Closed (elsewhere it must be None or within [0, 1]); a call that
//! starts or ends while the breaker is Disabled may be counted or not (but in the right
//! bucket only), except one that starts and ends while Disabled, which counts nothing.
//!
//! Three properties (consecutive failures; count window; limits: windows of 65,535 calls,
//! 65,535 half-open slots, streaks of 70,000, filled past them), each drawing a backoff
//! (fixed, linear, exponential; no jitter), and named scenarios below, one per rule the
//! random cases found broken. `PROPTEST_CASES` sets the number of cases (default 48 per
//! property, 6 for the limits; 20x with `BREAKER_LONG_TESTS=1`). No regression files are
//! written: proptest prints the minimal failing case.

mod common;

use breaker_runtime::{Backoff, BreakerError, CallError, CircuitBreaker, Metrics, Permit, State};
use common::{cases, paused_runtime, quiet_panics, FAILED, IGNORED, NOT_A_FAILURE};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestCaseResult};
use std::collections::{BTreeMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

const PANIC_MESSAGE: &str = "model_contract: the body panics";
/// Permits the test holds at most at once (besides floods, which record theirs at once).
const MAX_HELD: usize = 6;
/// `minimum_calls` when none is given (README table).
const DEFAULT_MINIMUM_CALLS: u64 = 10;

// ----- configuration -------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Policy {
    /// `failure_threshold` only: no rate window.
    Consecutive { threshold: u32 },
    /// `failure_rate` over a count window, optionally with a `failure_threshold` as well.
    CountWindow {
        rate: f64,
        minimum: u32,
        size: u32,
        threshold: Option<u32>,
    },
}

#[derive(Debug, Clone, Copy)]
enum BackoffKind {
    Fixed,
    Linear { step_ms: u64, max_ms: u64 },
    Exponential { multiplier: u32, max_ms: u64 },
}

#[derive(Debug, Clone, Copy)]
struct Cfg {
    policy: Policy,
    success_threshold: u32,
    /// None: left to its default, `success_threshold`.
    half_open_max_calls: Option<u32>,
    reset_ms: u64,
    backoff: BackoffKind,
    half_open_timeout_ms: u64,
}

impl Cfg {
    fn half_open_max(&self) -> u32 {
        self.half_open_max_calls.unwrap_or(self.success_threshold)
    }

    fn build(&self, name: &str) -> Arc<CircuitBreaker> {
        let ms = Duration::from_millis;
        let mut b = CircuitBreaker::builder(name)
            .success_threshold(self.success_threshold)
            .reset_timeout(ms(self.reset_ms))
            .half_open_timeout(ms(self.half_open_timeout_ms))
            .ignore_if(|e: &u8| *e == IGNORED)
            .failure_if(|e: &u8| *e != NOT_A_FAILURE)
            .backoff(match self.backoff {
                BackoffKind::Fixed => Backoff::fixed(),
                BackoffKind::Linear { step_ms, max_ms } => {
                    Backoff::linear(ms(step_ms)).max(ms(max_ms))
                }
                BackoffKind::Exponential { multiplier, max_ms } => {
                    Backoff::exponential(f64::from(multiplier)).max(ms(max_ms))
                }
            });
        if let Some(n) = self.half_open_max_calls {
            b = b.half_open_max_calls(n);
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
        };
        b.build()
    }

    /// The wait before probing after the `level`-th open in a row (0: the first open).
    fn wait_ms(&self, level: u64) -> u64 {
        let base = self.reset_ms;
        match self.backoff {
            BackoffKind::Fixed => base,
            BackoffKind::Linear { step_ms, max_ms } => base
                .saturating_add(level.saturating_mul(step_ms))
                .min(max_ms),
            BackoffKind::Exponential { multiplier, max_ms } => {
                let mut w = base;
                for _ in 0..level {
                    w = w.saturating_mul(u64::from(multiplier));
                    if w >= max_ms {
                        break;
                    }
                }
                w.min(max_ms)
            }
        }
    }
}

// ----- the model -----------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Closed,
    Open,
    HalfOpen,
    ForcedOpen,
    Disabled,
    MetricsOnly,
}

impl Mode {
    fn state(self) -> State {
        match self {
            Mode::Closed => State::Closed,
            Mode::Open => State::Open,
            Mode::HalfOpen => State::HalfOpen,
            Mode::ForcedOpen => State::ForcedOpen,
            Mode::Disabled => State::Disabled,
            Mode::MetricsOnly => State::MetricsOnly,
        }
    }
}

/// How a finished call went, as the breaker sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Success,
    Failure,
    Ignore,
    /// The permit (or the call's future) dropped unrecorded: cancelled.
    Drop,
}

/// What the model says an admission does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admission {
    Admit(Ticket),
    /// Open: `left` ms until a probe is let in, `in_force` the wait of this open period.
    RejectOpen {
        left: u64,
        in_force: u64,
    },
    RejectHalfOpenFull,
    RejectForcedOpen,
}

/// What the model remembers of an admitted call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ticket {
    id: u64,
    epoch: u64,
    mode: Mode,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    successes: u64,
    failures: u64,
    ignored: u64,
    rejected: u64,
    cancelled: u64,
    opened_count: u64,
}

impl Counts {
    fn bucket(&mut self, v: Verdict) -> &mut u64 {
        match v {
            Verdict::Success => &mut self.successes,
            Verdict::Failure => &mut self.failures,
            Verdict::Ignore => &mut self.ignored,
            Verdict::Drop => &mut self.cancelled,
        }
    }

    fn calls(&self) -> u64 {
        self.successes + self.failures + self.ignored + self.rejected + self.cancelled
    }
}

#[derive(Debug)]
struct Model {
    cfg: Cfg,
    /// Milliseconds since the case started.
    now: u64,
    mode: Mode,
    /// Bumped by every transition; a ticket of another epoch is a late result.
    epoch: u64,
    next_id: u64,
    // Closed:
    streak: u64,
    /// Recorded calls in the count window, oldest first; `true` is a failure.
    window: VecDeque<bool>,
    /// Failures in `window`.
    window_failures: u64,
    // Open:
    open_until: u64,
    wait_in_force: u64,
    /// Opens in a row without a close: 0 for the first open.
    level: u64,
    // HalfOpen: probes in flight by ticket id, with their admission instants.
    probes: BTreeMap<u64, u64>,
    probe_successes: u64,
    counts: Counts,
}

impl Model {
    fn new(cfg: Cfg) -> Model {
        Model {
            cfg,
            now: 0,
            mode: Mode::Closed,
            epoch: 0,
            next_id: 0,
            streak: 0,
            window: VecDeque::new(),
            window_failures: 0,
            open_until: 0,
            wait_in_force: 0,
            level: 0,
            probes: BTreeMap::new(),
            probe_successes: 0,
            counts: Counts::default(),
        }
    }

    fn enter(&mut self, mode: Mode) {
        self.mode = mode;
        self.epoch += 1;
        self.probes.clear();
        self.probe_successes = 0;
    }

    /// Opens at instant `at`, from Closed (level 0) or from HalfOpen (one level up).
    fn open_at(&mut self, at: u64) {
        self.level = if self.mode == Mode::HalfOpen {
            self.level + 1
        } else {
            0
        };
        self.enter(Mode::Open);
        self.wait_in_force = self.cfg.wait_ms(self.level);
        self.open_until = at + self.wait_in_force;
        self.counts.opened_count += 1;
    }

    fn clear_closed(&mut self) {
        self.streak = 0;
        self.window.clear();
        self.window_failures = 0;
        self.level = 0;
    }

    fn close_auto(&mut self) {
        self.enter(Mode::Closed);
        self.clear_closed();
    }

    /// Applies every time-driven move that fell due at or before `now`, each at its own
    /// instant.
    fn settle(&mut self) {
        loop {
            match self.mode {
                Mode::Open if self.now >= self.open_until => self.enter(Mode::HalfOpen),
                Mode::HalfOpen => {
                    let hot = self.cfg.half_open_timeout_ms;
                    match self.probes.values().min().map(|a| a + hot) {
                        Some(due) if self.now >= due => self.open_at(due),
                        _ => return,
                    }
                }
                _ => return,
            }
        }
    }

    /// The next instant a time-driven move falls due, if any.
    fn next_due(&self) -> Option<u64> {
        match self.mode {
            Mode::Open => Some(self.open_until),
            Mode::HalfOpen => self
                .probes
                .values()
                .min()
                .map(|a| a + self.cfg.half_open_timeout_ms),
            _ => None,
        }
    }

    fn advance(&mut self, ms: u64) {
        self.now += ms;
        self.settle();
    }

    fn acquire(&mut self) -> Admission {
        self.settle();
        let ticket = |m: &mut Model| {
            m.next_id += 1;
            Ticket {
                id: m.next_id,
                epoch: m.epoch,
                mode: m.mode,
            }
        };
        match self.mode {
            Mode::Closed | Mode::Disabled | Mode::MetricsOnly => Admission::Admit(ticket(self)),
            Mode::Open => {
                self.counts.rejected += 1;
                Admission::RejectOpen {
                    left: self.open_until - self.now,
                    in_force: self.wait_in_force,
                }
            }
            Mode::ForcedOpen => {
                self.counts.rejected += 1;
                Admission::RejectForcedOpen
            }
            Mode::HalfOpen => {
                if (self.probes.len() as u64) < u64::from(self.cfg.half_open_max()) {
                    let t = ticket(self);
                    self.probes.insert(t.id, self.now);
                    Admission::Admit(t)
                } else {
                    self.counts.rejected += 1;
                    Admission::RejectHalfOpenFull
                }
            }
        }
    }

    /// Whether the documents leave open if this call is counted: it started or ends while
    /// the breaker is Disabled, but not both.
    fn count_is_open_question(&self, t: &Ticket) -> bool {
        (t.mode == Mode::Disabled) != (self.mode == Mode::Disabled)
    }

    /// Whether the call is counted for sure (false: surely not, or an open question).
    fn counts_for_sure(&self, t: &Ticket) -> bool {
        t.mode != Mode::Disabled && self.mode != Mode::Disabled
    }

    /// Finishes a call admitted with `t`. `counted` says whether it lands in the metrics.
    fn finish(&mut self, t: Ticket, v: Verdict, counted: bool) {
        self.settle();
        if counted {
            *self.counts.bucket(v) += 1;
        }
        if t.epoch != self.epoch {
            return; // late: counted, moves nothing
        }
        debug_assert_eq!(t.mode, self.mode);
        match self.mode {
            Mode::Closed => {
                match v {
                    Verdict::Success => {
                        self.streak = 0;
                        self.push(false);
                    }
                    Verdict::Failure => {
                        self.streak += 1;
                        self.push(true);
                    }
                    Verdict::Ignore | Verdict::Drop => return,
                }
                if self.should_open() {
                    self.open_at(self.now);
                }
            }
            Mode::HalfOpen => {
                self.probes.remove(&t.id);
                match v {
                    Verdict::Success => {
                        self.probe_successes += 1;
                        if self.probe_successes >= u64::from(self.cfg.success_threshold) {
                            self.close_auto();
                        }
                    }
                    Verdict::Failure => self.open_at(self.now),
                    Verdict::Ignore | Verdict::Drop => {}
                }
            }
            _ => {}
        }
        self.settle();
    }

    fn push(&mut self, failed: bool) {
        if let Policy::CountWindow { size, .. } = self.cfg.policy {
            self.window.push_back(failed);
            self.window_failures += u64::from(failed);
            while self.window.len() > size as usize {
                if self.window.pop_front() == Some(true) {
                    self.window_failures -= 1;
                }
            }
        }
    }

    fn should_open(&self) -> bool {
        let threshold = match self.cfg.policy {
            Policy::Consecutive { threshold } => Some(threshold),
            Policy::CountWindow { threshold, .. } => threshold,
        };
        if threshold.is_some_and(|t| self.streak >= u64::from(t)) {
            return true;
        }
        match self.window_rate() {
            Some(r) => match self.cfg.policy {
                Policy::CountWindow { rate, .. } => r >= rate,
                Policy::Consecutive { .. } => false,
            },
            None => false,
        }
    }

    fn window_rate(&self) -> Option<f64> {
        let Policy::CountWindow { minimum, .. } = self.cfg.policy else {
            return None;
        };
        let n = self.window.len();
        if n == 0 || (n as u64) < u64::from(minimum) {
            return None;
        }
        Some(self.window_failures as f64 / n as f64)
    }

    fn force_open(&mut self) {
        if self.mode != Mode::ForcedOpen {
            self.enter(Mode::ForcedOpen);
        }
    }

    fn disable(&mut self) {
        if self.mode != Mode::Disabled {
            self.enter(Mode::Disabled);
        }
    }

    fn metrics_only(&mut self) {
        if self.mode != Mode::MetricsOnly {
            self.enter(Mode::MetricsOnly);
        }
    }

    fn close(&mut self) {
        self.settle();
        if self.mode != Mode::Closed {
            self.enter(Mode::Closed);
        }
        self.clear_closed();
    }

    fn reset(&mut self) {
        self.close();
        self.counts = Counts::default();
    }

    /// Checks the real metrics against the model.
    fn check_metrics(&self, m: &Metrics, ctx: &str) -> TestCaseResult {
        let c = &self.counts;
        let got = (m.successes, m.failures, m.ignored, m.rejected, m.cancelled);
        let want = (c.successes, c.failures, c.ignored, c.rejected, c.cancelled);
        prop_assert_eq!(
            got,
            want,
            "(successes, failures, ignored, rejected, cancelled) {}; metrics {:?}",
            ctx,
            m
        );
        prop_assert_eq!(m.calls, c.calls(), "calls {}; metrics {:?}", ctx, m);
        prop_assert_eq!(
            m.opened_count,
            c.opened_count,
            "opened_count {}; metrics {:?}",
            ctx,
            m
        );
        prop_assert_eq!(
            (m.timeouts, m.slow_calls, m.slow_call_rate),
            (0, 0, None),
            "no call_timeout, no slow_call {}",
            ctx
        );
        prop_assert_eq!(m.state, self.mode.state(), "metrics().state {}", ctx);
        if let Some(r) = m.failure_rate {
            prop_assert!(
                (0.0..=1.0).contains(&r),
                "failure_rate {} out of [0, 1] {}",
                r,
                ctx
            );
        }
        let want_rate = match self.cfg.policy {
            Policy::CountWindow { .. } if self.mode == Mode::Closed => Some(self.window_rate()),
            Policy::CountWindow { .. } => None, // the documents do not say
            Policy::Consecutive { .. } => {
                let recorded = c.successes + c.failures;
                Some(if recorded >= DEFAULT_MINIMUM_CALLS {
                    Some(c.failures as f64 / recorded as f64)
                } else {
                    None
                })
            }
        };
        if let Some(want_rate) = want_rate {
            let same = match (m.failure_rate, want_rate) {
                (None, None) => true,
                (Some(a), Some(b)) => (a - b).abs() < 1e-9,
                _ => false,
            };
            prop_assert!(
                same,
                "failure_rate {:?}, the model says {:?} (its window: {} calls, {} failures) {}",
                m.failure_rate,
                want_rate,
                self.window.len(),
                self.window_failures,
                ctx
            );
        }
        Ok(())
    }
}

// ----- operations ----------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Adv {
    Zero,
    OneMs,
    Reset,
    ResetMinus1,
    ResetPlus1,
    HalfOpenTimeout,
    HalfOpenTimeoutMinus1,
    HalfOpenTimeoutPlus1,
    Hours(u8),
    Ms(u64),
    /// To the next instant a time-driven move falls due, plus -1, 0 or +1 ms.
    ToDue(i8),
}

#[derive(Debug, Clone, Copy)]
enum Body {
    Ok,
    Err(u8),
    Panic,
}

#[derive(Debug, Clone, Copy)]
enum Op {
    /// `try_acquire`, holding the permit.
    Acquire,
    /// Finishes held permit `i % held` with the verdict.
    Finish(usize, Verdict),
    /// `try_acquire` and finish at once.
    Call(Verdict),
    /// `call_sync` with a body; a panic is caught outside.
    CallSync(Body),
    /// An async call cut by `timeout(0)` after its first poll: cancelled.
    AsyncCancelled,
    Advance(Adv),
    ForceOpen,
    Close,
    Reset,
    Disable,
    MetricsOnly,
    /// `force_open(); close();` this many times, with permits held.
    Burst(u32),
    /// This many calls in a row with the verdict (admission checked for each).
    Fill(u32, Verdict),
    /// Acquires this many permits at once (checking each admission), then finishes them
    /// all with the verdict.
    Flood(u32, Verdict),
}

fn verdict() -> impl Strategy<Value = Verdict> {
    prop_oneof![
        4 => Just(Verdict::Success),
        4 => Just(Verdict::Failure),
        1 => Just(Verdict::Ignore),
        1 => Just(Verdict::Drop),
    ]
}

fn ops(big: bool) -> impl Strategy<Value = Vec<Op>> {
    let adv = prop_oneof![
        2 => Just(Adv::Zero),
        2 => Just(Adv::OneMs),
        2 => Just(Adv::Reset),
        1 => Just(Adv::ResetMinus1),
        1 => Just(Adv::ResetPlus1),
        2 => Just(Adv::HalfOpenTimeout),
        1 => Just(Adv::HalfOpenTimeoutMinus1),
        1 => Just(Adv::HalfOpenTimeoutPlus1),
        1 => (1..=3u8).prop_map(Adv::Hours),
        2 => (2..=30u64).prop_map(Adv::Ms),
        4 => (-1..=1i8).prop_map(Adv::ToDue),
    ];
    let body = prop_oneof![
        3 => Just(Body::Ok),
        3 => Just(Body::Err(FAILED)),
        1 => Just(Body::Err(IGNORED)),
        1 => Just(Body::Err(NOT_A_FAILURE)),
        1 => Just(Body::Panic),
    ];
    let burst = prop_oneof![
        Just(5_000u32),
        Just(8_192),
        Just(12_768),
        Just(16_384),
        Just(20_000),
        Just(32_768)
    ];
    let fill_n = if big {
        prop_oneof![1..=40u32, Just(65_535), Just(65_536), Just(70_000)].boxed()
    } else {
        prop_oneof![1..=12u32, Just(100), Just(101)].boxed()
    };
    let flood_n = if big {
        prop_oneof![1..=6u32, Just(65_535), Just(65_536)].boxed()
    } else {
        (1..=6u32).boxed()
    };
    let op = prop_oneof![
        6 => Just(Op::Acquire),
        6 => (any::<usize>(), verdict()).prop_map(|(i, v)| Op::Finish(i, v)),
        8 => verdict().prop_map(Op::Call),
        2 => body.prop_map(Op::CallSync),
        1 => Just(Op::AsyncCancelled),
        8 => adv.prop_map(Op::Advance),
        1 => Just(Op::ForceOpen),
        2 => Just(Op::Close),
        1 => Just(Op::Reset),
        1 => Just(Op::Disable),
        1 => Just(Op::MetricsOnly),
        1 => burst.prop_map(Op::Burst),
        2 => (fill_n, verdict()).prop_map(|(n, v)| Op::Fill(n, v)),
        1 => (flood_n, verdict()).prop_map(|(n, v)| Op::Flood(n, v)),
    ];
    let len = if big { 1..40usize } else { 1..160usize };
    proptest::collection::vec(op, len)
}

fn backoff() -> impl Strategy<Value = BackoffKind> {
    prop_oneof![
        4 => Just(BackoffKind::Fixed),
        1 => (prop_oneof![Just(1u64), Just(7), Just(100)], prop_oneof![Just(200u64), Just(100_000)])
            .prop_map(|(step_ms, max_ms)| BackoffKind::Linear { step_ms, max_ms }),
        1 => (2..=3u32, prop_oneof![Just(500u64), Just(100_000)])
            .prop_map(|(multiplier, max_ms)| BackoffKind::Exponential { multiplier, max_ms }),
    ]
}

fn rate() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.25),
        Just(0.5),
        Just(0.75),
        Just(1.0),
        Just(0.1),
        Just(0.3),
        Just(0.6),
        Just(0.7)
    ]
}

fn cfg(policy: BoxedStrategy<Policy>, big: bool) -> impl Strategy<Value = Cfg> {
    let reset = prop_oneof![
        1 => Just(0u64),
        2 => Just(1u64),
        3 => Just(10u64),
        3 => Just(100u64),
        2 => Just(30_000u64),
    ];
    let hot = prop_oneof![Just(1u64), Just(5), Just(50), Just(1_000), Just(60_000)];
    let success = if big {
        prop_oneof![1..=3u32, Just(65_535)].boxed()
    } else {
        (1..=4u32).boxed()
    };
    let hmax = if big {
        prop_oneof![Just(None), (1..=3u32).prop_map(Some), Just(Some(65_535))].boxed()
    } else {
        prop_oneof![Just(None), (1..=4u32).prop_map(Some)].boxed()
    };
    (policy, success, hmax, reset, backoff(), hot).prop_map(
        |(
            policy,
            success_threshold,
            half_open_max_calls,
            reset_ms,
            backoff,
            half_open_timeout_ms,
        )| {
            // A backoff's cap is never below the first wait: the documents do not say which
            // wins then.
            let backoff = match backoff {
                BackoffKind::Fixed => BackoffKind::Fixed,
                BackoffKind::Linear { step_ms, max_ms } => BackoffKind::Linear {
                    step_ms,
                    max_ms: max_ms.max(reset_ms),
                },
                BackoffKind::Exponential { multiplier, max_ms } => BackoffKind::Exponential {
                    multiplier,
                    max_ms: max_ms.max(reset_ms),
                },
            };
            Cfg {
                policy,
                success_threshold,
                half_open_max_calls,
                reset_ms,
                backoff,
                half_open_timeout_ms,
            }
        },
    )
}

fn consecutive(big: bool) -> BoxedStrategy<Policy> {
    let threshold = if big {
        prop_oneof![1..=3u32, Just(70_000)].boxed()
    } else {
        (1..=5u32).boxed()
    };
    threshold
        .prop_map(|threshold| Policy::Consecutive { threshold })
        .boxed()
}

fn count_window(big: bool) -> BoxedStrategy<Policy> {
    let size = if big {
        prop_oneof![1..=8u32, Just(65_535)].boxed()
    } else {
        (1..=10u32).boxed()
    };
    let threshold = if big {
        prop_oneof![Just(None), Just(Some(70_000u32)), Just(Some(3))].boxed()
    } else {
        proptest::option::of(1..=6u32).boxed()
    };
    (rate(), size, threshold)
        .prop_flat_map(|(rate, size, threshold)| {
            let minimum = if size > 100 {
                prop_oneof![Just(1u32), Just(10), Just(size)].boxed()
            } else {
                (1..=size).boxed()
            };
            (Just(rate), minimum, Just(size), Just(threshold))
        })
        .prop_map(|(rate, minimum, size, threshold)| Policy::CountWindow {
            rate,
            minimum,
            size,
            threshold,
        })
        .boxed()
}

// ----- driving the real breaker --------------------------------------------------------

struct Held<'a> {
    permit: Permit<'a>,
    ticket: Ticket,
}

fn describe(e: &BreakerError) -> &'static str {
    match e {
        BreakerError::Open { .. } => "Open",
        BreakerError::HalfOpenFull { .. } => "HalfOpenFull",
        BreakerError::ForcedOpen { .. } => "ForcedOpen",
        BreakerError::TimedOut { .. } => "TimedOut",
        _ => "another BreakerError",
    }
}

/// Checks a real rejection against the model's.
fn check_rejection(got: &BreakerError, want: Admission, ctx: &str) -> TestCaseResult {
    match (got, want) {
        (BreakerError::Open { retry_after, .. }, Admission::RejectOpen { left, in_force }) => {
            let left = Duration::from_millis(left);
            let in_force = Duration::from_millis(in_force);
            prop_assert!(
                *retry_after <= left && *retry_after <= in_force,
                "retry_after {:?} exceeds the time left {:?} or the wait in force {:?} {}",
                retry_after,
                left,
                in_force,
                ctx
            );
            prop_assert_eq!(
                *retry_after,
                left,
                "retry_after on the paused clock is the time left {}",
                ctx
            );
        }
        (BreakerError::HalfOpenFull { .. }, Admission::RejectHalfOpenFull)
        | (BreakerError::ForcedOpen { .. }, Admission::RejectForcedOpen) => {}
        _ => prop_assert!(
            false,
            "rejected with {} ({:?}), the model says {:?} {}",
            describe(got),
            got,
            want,
            ctx
        ),
    }
    Ok(())
}

/// `try_acquire` on both; the permit if both admit.
fn acquire<'a>(
    b: &'a CircuitBreaker,
    m: &mut Model,
    ctx: &str,
) -> Result<Option<Held<'a>>, TestCaseError> {
    let want = m.acquire();
    match (b.try_acquire(), want) {
        (Ok(permit), Admission::Admit(ticket)) => Ok(Some(Held { permit, ticket })),
        (Ok(_), want) => Err(TestCaseError::fail(format!(
            "admitted, the model says {want:?} {ctx}"
        ))),
        (Err(e), Admission::Admit(_)) => Err(TestCaseError::fail(format!(
            "rejected with {} ({e:?}), the model admits {ctx}",
            describe(&e)
        ))),
        (Err(e), want) => {
            check_rejection(&e, want, ctx)?;
            Ok(None)
        }
    }
}

fn finish_real(p: Permit<'_>, v: Verdict) {
    match v {
        Verdict::Success => p.success(),
        Verdict::Failure => p.failure(),
        Verdict::Ignore => p.ignore(),
        Verdict::Drop => drop(p),
    }
}

/// Finishes a held permit on both, settling the open question of a Disabled breaker's
/// count from what the breaker did (0 or +1, in the right bucket only).
fn finish(b: &CircuitBreaker, m: &mut Model, h: Held<'_>, v: Verdict, ctx: &str) -> TestCaseResult {
    m.settle();
    let open_question = m.count_is_open_question(&h.ticket);
    let sure = m.counts_for_sure(&h.ticket);
    let before = open_question.then(|| b.metrics());
    finish_real(h.permit, v);
    let counted = if let Some(before) = before {
        let after = b.metrics();
        let delta = after.calls.wrapping_sub(before.calls);
        let bucket = |x: &Metrics| match v {
            Verdict::Success => x.successes,
            Verdict::Failure => x.failures,
            Verdict::Ignore => x.ignored,
            Verdict::Drop => x.cancelled,
        };
        let bucket_delta = bucket(&after).wrapping_sub(bucket(&before));
        prop_assert!(
            (delta, bucket_delta) == (0, 0) || (delta, bucket_delta) == (1, 1),
            "a {:?} at the edge of Disabled moved calls by {} and its bucket by {} {}",
            v,
            delta,
            bucket_delta,
            ctx
        );
        delta == 1
    } else {
        sure
    };
    m.finish(h.ticket, v, counted);
    Ok(())
}

async fn step<'a>(
    b: &'a CircuitBreaker,
    m: &mut Model,
    held: &mut Vec<Held<'a>>,
    op: Op,
    ctx: &str,
) -> TestCaseResult {
    match op {
        Op::Acquire => {
            if held.len() < MAX_HELD {
                if let Some(h) = acquire(b, m, ctx)? {
                    held.push(h);
                }
            }
        }
        Op::Finish(i, v) => {
            if !held.is_empty() {
                let h = held.remove(i % held.len());
                finish(b, m, h, v, ctx)?;
            }
        }
        Op::Call(v) => {
            if let Some(h) = acquire(b, m, ctx)? {
                finish(b, m, h, v, ctx)?;
            }
        }
        Op::CallSync(body) => {
            m.settle();
            let want = m.acquire();
            let mut ran = false;
            let r = std::panic::catch_unwind(AssertUnwindSafe(|| {
                b.call_sync(|| {
                    ran = true;
                    match body {
                        Body::Ok => Ok(()),
                        Body::Err(e) => Err(e),
                        Body::Panic => std::panic::panic_any(PANIC_MESSAGE),
                    }
                })
            }));
            match want {
                Admission::Admit(ticket) => {
                    prop_assert!(ran, "admitted by the model, the body never ran {}", ctx);
                    let v = match body {
                        Body::Ok | Body::Err(NOT_A_FAILURE) => Verdict::Success,
                        Body::Err(IGNORED) => Verdict::Ignore,
                        Body::Err(_) | Body::Panic => Verdict::Failure,
                    };
                    match (&r, body) {
                        (Err(_), Body::Panic) => {}
                        (Ok(Ok(())), Body::Ok) => {}
                        (Ok(Err(CallError::Inner(e))), Body::Err(want_e)) if *e == want_e => {}
                        _ => {
                            prop_assert!(false, "call_sync returned {:?} for {:?} {}", r, body, ctx)
                        }
                    }
                    // Admitted and finished in one state: no Disabled edge.
                    let counted = ticket.mode != Mode::Disabled;
                    m.finish(ticket, v, counted);
                }
                want => {
                    prop_assert!(!ran, "a rejected call ran its body {}", ctx);
                    match r {
                        Ok(Err(CallError::Breaker(e))) => check_rejection(&e, want, ctx)?,
                        other => prop_assert!(
                            false,
                            "call_sync gave {:?}, the model rejects with {:?} {}",
                            other.map_err(|_| "panic"),
                            want,
                            ctx
                        ),
                    }
                }
            }
        }
        Op::AsyncCancelled => {
            m.settle();
            let want = m.acquire();
            let fut = b.call(std::future::pending::<Result<(), u8>>);
            let r = tokio::time::timeout(Duration::ZERO, fut).await;
            match want {
                Admission::Admit(ticket) => {
                    prop_assert!(
                        r.is_err(),
                        "an admitted pending call returned {:?} {}",
                        r,
                        ctx
                    );
                    let counted = ticket.mode != Mode::Disabled;
                    m.finish(ticket, Verdict::Drop, counted);
                }
                want => match r {
                    Ok(Err(CallError::Breaker(e))) => check_rejection(&e, want, ctx)?,
                    other => prop_assert!(
                        false,
                        "got {:?}, the model rejects with {:?} {}",
                        other,
                        want,
                        ctx
                    ),
                },
            }
        }
        Op::Advance(a) => {
            let c = m.cfg;
            let ms = match a {
                Adv::Zero => 0,
                Adv::OneMs => 1,
                Adv::Reset => c.reset_ms,
                Adv::ResetMinus1 => c.reset_ms.saturating_sub(1),
                Adv::ResetPlus1 => c.reset_ms + 1,
                Adv::HalfOpenTimeout => c.half_open_timeout_ms,
                Adv::HalfOpenTimeoutMinus1 => c.half_open_timeout_ms - 1,
                Adv::HalfOpenTimeoutPlus1 => c.half_open_timeout_ms + 1,
                Adv::Hours(h) => u64::from(h) * 3_600_000,
                Adv::Ms(ms) => ms,
                Adv::ToDue(off) => match m.next_due() {
                    Some(due) => (due as i64 + i64::from(off) - m.now as i64).max(0) as u64,
                    None => 1,
                },
            };
            tokio::time::advance(Duration::from_millis(ms)).await;
            m.advance(ms);
        }
        Op::ForceOpen => {
            b.force_open();
            m.force_open();
        }
        Op::Close => {
            b.close();
            m.close();
        }
        Op::Reset => {
            b.reset();
            m.reset();
        }
        Op::Disable => {
            b.disable();
            m.disable();
        }
        Op::MetricsOnly => {
            b.metrics_only();
            m.metrics_only();
        }
        Op::Burst(pairs) => {
            for _ in 0..pairs {
                b.force_open();
                b.close();
            }
            for _ in 0..pairs {
                m.force_open();
                m.close();
            }
        }
        Op::Fill(n, v) => {
            for _ in 0..n {
                if let Some(h) = acquire(b, m, ctx)? {
                    finish(b, m, h, v, ctx)?;
                }
            }
        }
        Op::Flood(n, v) => {
            let mut flood = Vec::new();
            for _ in 0..n {
                if let Some(h) = acquire(b, m, ctx)? {
                    flood.push(h);
                }
            }
            for h in flood {
                finish(b, m, h, v, ctx)?;
            }
        }
    }
    m.settle();
    Ok(())
}

fn check(b: &CircuitBreaker, m: &Model, ctx: &str) -> TestCaseResult {
    let state = b.state();
    prop_assert_eq!(state, m.mode.state(), "state {}", ctx);
    m.check_metrics(&b.metrics(), ctx)?;
    let snap = b.snapshot();
    match m.mode {
        Mode::Open => {
            let left = m.open_until - m.now;
            prop_assert!(
                snap.retry_after_ms
                    .is_some_and(|r| r <= left && r <= m.wait_in_force),
                "snapshot retry_after_ms {:?}: the time left is {} ms, the wait in force {} ms {}",
                snap.retry_after_ms,
                left,
                m.wait_in_force,
                ctx
            );
        }
        // A probe may be let in now, or nothing is waited for: nothing to wait.
        Mode::Closed | Mode::HalfOpen | Mode::Disabled | Mode::MetricsOnly => prop_assert!(
            snap.retry_after_ms.unwrap_or(0) == 0,
            "snapshot retry_after_ms {:?} while {:?} {}",
            snap.retry_after_ms,
            m.mode,
            ctx
        ),
        Mode::ForcedOpen => {}
    }
    Ok(())
}

fn run(name: &'static str, cfg: Cfg, ops: Vec<Op>) -> TestCaseResult {
    quiet_panics(PANIC_MESSAGE);
    let rt = paused_runtime();
    rt.block_on(async move {
        let b = cfg.build(name);
        let mut m = Model::new(cfg);
        let mut held: Vec<Held<'_>> = Vec::new();
        check(&b, &m, "at the start")?;
        for (i, op) in ops.iter().enumerate() {
            let ctx = format!("after step {i} ({op:?}, begun at t = {} ms)", m.now);
            step(&b, &mut m, &mut held, *op, &ctx).await?;
            check(&b, &m, &ctx)?;
        }
        // Every permit still held finishes, late or not; the counts must still agree.
        for (i, h) in held.drain(..).enumerate() {
            let ctx = format!("finishing held permit {i} at the end");
            finish(&b, &mut m, h, Verdict::Success, &ctx)?;
            check(&b, &m, &ctx)?;
        }
        Ok(())
    })
}

fn config(default: u32) -> Config {
    Config {
        cases: cases(default, default * 20),
        max_global_rejects: 100_000,
        // The minimal counterexample is printed; no regression files in the tree.
        failure_persistence: None,
        max_shrink_iters: 20_000,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn contract_consecutive(cfg in cfg(consecutive(false), false), ops in ops(false)) {
        run("contract-consecutive", cfg, ops)?;
    }

    #[test]
    fn contract_count_window(cfg in cfg(count_window(false), false), ops in ops(false)) {
        run("contract-count-window", cfg, ops)?;
    }
}

proptest! {
    #![proptest_config(config(6))]

    /// Windows of 65,535 calls, 65,535 half-open slots and successes, streaks of 70,000,
    /// filled past their limits.
    #[test]
    fn contract_limits(
        cfg in cfg(prop_oneof![consecutive(true), count_window(true)].boxed(), true),
        ops in ops(true),
    ) {
        run("contract-limits", cfg, ops)?;
    }
}

// ----- named scenarios -----------------------------------------------------------------
//
// Fixed sequences run through the same model, one per rule the random cases found broken
// (or that a fix could easily break), so each shows on its own.

fn scenario(name: &'static str, cfg: Cfg, ops: Vec<Op>) {
    if let Err(e) = run(name, cfg, ops.clone()) {
        panic!("{e}\ncfg = {cfg:#?}\nops = {ops:?}");
    }
}

/// Opens on the first failure, waits 10 ms, gives each probe 5 ms, closes on 2 successes.
fn small() -> Cfg {
    Cfg {
        policy: Policy::Consecutive { threshold: 1 },
        success_threshold: 2,
        half_open_max_calls: None,
        reset_ms: 10,
        backoff: BackoffKind::Fixed,
        half_open_timeout_ms: 5,
    }
}

fn ms(n: u64) -> Op {
    Op::Advance(Adv::Ms(n))
}

/// CONTRACT: "A probe with no verdict `half_open_timeout` after it was let in re-opens it":
/// a probe let in at t = 14, after a first probe succeeded at 10, still has its 5 ms at 16.
#[test]
fn half_open_timeout_counts_from_each_probes_admission() {
    let ops = vec![
        Op::Call(Verdict::Failure),
        ms(10),
        Op::Call(Verdict::Success),
        ms(4),
        Op::Acquire,
        ms(2),
    ];
    scenario("contract-hot-admission", small(), ops);
}

/// The same, when an earlier probe of the phase was ignored (it gave its slot back).
#[test]
fn half_open_timeout_ignores_earlier_probes_that_gave_their_slot_back() {
    let ops = vec![
        Op::Call(Verdict::Failure),
        ms(10),
        Op::Call(Verdict::Ignore),
        ms(4),
        Op::Acquire,
        ms(4),
    ];
    scenario("contract-hot-ignored", small(), ops);
}

/// CONTRACT: the probe's timeout re-opens it "at that instant: the new open period counts
/// from then, so a call that comes after that period is a probe, however late the breaker
/// is looked at". Re-opened at 15, open until 25: at 30 a call is a probe.
#[test]
fn half_open_timeout_reopen_counts_from_its_due_instant() {
    let ops = vec![
        Op::Call(Verdict::Failure),
        ms(10),
        Op::Acquire,
        ms(20),
        Op::Acquire,
    ];
    scenario("contract-hot-due", small(), ops);
}

/// At the instant the probe times out the breaker is open: `opened_count` says so (a
/// re-open from half-open), and the snapshot shows the 10 ms left.
#[test]
fn half_open_timeout_reopen_shows_at_once() {
    let ops = vec![Op::Call(Verdict::Failure), ms(10), Op::Acquire, ms(5)];
    scenario("contract-hot-shows", small(), ops);
}

/// With a zero reset timeout the timed-out phase re-opens and half-opens at one instant.
#[test]
fn half_open_timeout_with_zero_reset_timeout_half_opens_at_once() {
    let cfg = Cfg {
        reset_ms: 0,
        ..small()
    };
    let ops = vec![Op::Call(Verdict::Failure), Op::Acquire, ms(5)];
    scenario("contract-hot-zero-reset", cfg, ops);
}

/// "Generations never alias": a permit held across 8,192 `force_open(); close();` pairs
/// is a late result, and its failure must not open the (new) closed breaker.
#[test]
fn late_result_after_8192_force_open_close_pairs_moves_nothing() {
    let ops = vec![
        Op::Acquire,
        Op::Burst(8_192),
        Op::Finish(0, Verdict::Failure),
    ];
    scenario("contract-wrap", small(), ops);
}

/// The same for the rate window: the late failure must not enter the fresh window.
#[test]
fn late_result_after_8192_pairs_stays_out_of_the_window() {
    let cfg = Cfg {
        policy: Policy::CountWindow {
            rate: 0.5,
            minimum: 1,
            size: 10,
            threshold: None,
        },
        ..small()
    };
    let ops = vec![
        Op::Acquire,
        Op::Burst(8_192),
        Op::Finish(0, Verdict::Failure),
    ];
    scenario("contract-wrap-window", cfg, ops);
}

/// `close()` on a closed breaker: "calls admitted before ... still count in the (fresh)
/// streak and window".
#[test]
fn close_on_a_closed_breaker_keeps_held_permits_counting() {
    let cfg = Cfg {
        policy: Policy::Consecutive { threshold: 2 },
        ..small()
    };
    let ops = vec![
        Op::Acquire,
        Op::Close,
        Op::Finish(0, Verdict::Failure),
        Op::Call(Verdict::Failure),
    ];
    scenario("contract-close-closed", cfg, ops);
}

/// `reset()` "closes the breaker as `close` does and zeroes its metrics": on a closed
/// breaker, calls admitted before still count in the fresh streak.
#[test]
fn reset_on_a_closed_breaker_keeps_held_permits_counting() {
    let cfg = Cfg {
        policy: Policy::Consecutive { threshold: 2 },
        ..small()
    };
    let ops = vec![
        Op::Acquire,
        Op::Reset,
        Op::Finish(0, Verdict::Failure),
        Op::Call(Verdict::Failure),
    ];
    scenario("contract-reset-closed", cfg, ops);
}
