//! The reference model, written straight from the contract.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum MState {
    Closed { failures: u32 },
    Open { until: u64, level: u32 },
    HalfOpen { level: u32, successes: u32 },
    ForcedOpen,
    Disabled,
    MetricsOnly,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    Closed,
    HalfOpen,
    MetricsOnly,
    Untracked,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    pub(crate) generation: u64,
    pub(crate) kind: Kind,
    pub(crate) started: u64,
    /// Which probe this is, for a half-open ticket.
    pub(crate) probe: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Outcome {
    Success,
    Failure,
    Ignored,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Rejection {
    Open { retry_after_ms: u64 },
    HalfOpenFull,
    ForcedOpen,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Counts {
    pub(crate) successes: u64,
    pub(crate) failures: u64,
    pub(crate) ignored: u64,
    pub(crate) rejected: u64,
    pub(crate) cancelled: u64,
    pub(crate) timeouts: u64,
    pub(crate) slow_calls: u64,
    pub(crate) opened: u64,
}

/// The contract, written the plain way: one thread, no atomics, every rule spelled out.
#[derive(Debug)]
pub(crate) struct Model {
    pub(crate) cfg: Cfg,
    pub(crate) now: u64,
    pub(crate) state: MState,
    pub(crate) generation: u64,
    pub(crate) counts: Counts,
    /// (failed, slow, bucket) of each call in the window, oldest first.
    pub(crate) window: VecDeque<(bool, bool, u64)>,
    /// HalfOpen: (probe id, admitted at) of each probe in flight.
    pub(crate) probes: Vec<(u64, u64)>,
    pub(crate) next_probe: u64,
}

impl Model {
    pub(crate) fn new(cfg: Cfg) -> Model {
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

    pub(crate) fn threshold(&self) -> Option<u32> {
        match self.cfg.policy {
            Policy::Consecutive { threshold } => Some(threshold),
            Policy::CountWindow { threshold, .. } => threshold,
            Policy::TimeWindow { .. } => Some(1_000),
            Policy::SlowCalls { failure_rate, .. } => failure_rate.is_none().then_some(5),
        }
    }

    pub(crate) fn minimum(&self) -> u32 {
        match self.cfg.policy {
            Policy::Consecutive { .. } => 10,
            Policy::CountWindow { minimum, .. }
            | Policy::TimeWindow { minimum, .. }
            | Policy::SlowCalls { minimum, .. } => minimum,
        }
    }

    pub(crate) fn has_window(&self) -> bool {
        !matches!(self.cfg.policy, Policy::Consecutive { .. })
    }

    /// (calls, failures, slow) in the window now.
    pub(crate) fn window_stats(&self) -> (u32, u32, u32) {
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

    pub(crate) fn window_record(&mut self, failed: bool, slow: bool) {
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

    pub(crate) fn rates(&self) -> (Option<f64>, Option<f64>) {
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
    pub(crate) fn tripped(&self) -> bool {
        let (calls, failures, slow) = self.window_stats();
        if calls == 0 || calls < self.minimum() {
            return false;
        }
        let (fr, sr) = self.rates();
        fr.is_some_and(|r| failures as f64 / calls as f64 >= r)
            || sr.is_some_and(|r| slow as f64 / calls as f64 >= r)
    }

    /// How long the `level`-th re-open in a row waits.
    pub(crate) fn wait_ms(&self, level: u32) -> u64 {
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
    pub(crate) fn open(&mut self, at: u64) {
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
    pub(crate) fn enter(&mut self, next: MState) {
        self.generation += 1;
        self.probes.clear();
        self.state = next;
    }

    /// Applies the time-driven moves due now, each at the instant it fell due: an open period
    /// that ended half-opens; a probe with no verdict `half_open_timeout` after it was let in
    /// re-opens the breaker at that instant.
    pub(crate) fn settle(&mut self) {
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
    pub(crate) fn view(&mut self) -> State {
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

    pub(crate) fn acquire(&mut self) -> Result<Ticket, Rejection> {
        let r = self.admit();
        if r.is_err() {
            self.counts.rejected += 1;
        }
        r
    }

    pub(crate) fn admit(&mut self) -> Result<Ticket, Rejection> {
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

    pub(crate) fn record(&mut self, t: Ticket, outcome: Outcome, timed_out: bool) {
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

    pub(crate) fn set_manual(&mut self, next: MState) {
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
    pub(crate) fn reset(&mut self) {
        self.set_manual(MState::Closed { failures: 0 });
        self.counts = Counts::default();
    }

    pub(crate) fn metrics(&mut self) -> Metrics {
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
pub(crate) fn empty_metrics() -> Metrics {
    CircuitBreaker::builder("model-empty").build().metrics()
}

pub(crate) fn outcome_of(body: Body) -> Outcome {
    match body {
        Body::Ok | Body::Err(NOT_A_FAILURE) => Outcome::Success,
        Body::Err(IGNORED) => Outcome::Ignored,
        Body::Err(_) => Outcome::Failure,
    }
}
