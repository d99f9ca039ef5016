//! The reference model: one breaker as the documents describe it, nothing else.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Closed,
    Open,
    HalfOpen,
    ForcedOpen,
    Disabled,
    MetricsOnly,
}

impl Mode {
    pub(crate) fn state(self) -> State {
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
pub(crate) enum Verdict {
    Success,
    Failure,
    Ignore,
    /// The permit (or the call's future) dropped unrecorded: cancelled.
    Drop,
}

/// What the model says an admission does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
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
pub(crate) struct Ticket {
    pub(crate) id: u64,
    pub(crate) epoch: u64,
    pub(crate) mode: Mode,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) successes: u64,
    pub(crate) failures: u64,
    pub(crate) ignored: u64,
    pub(crate) rejected: u64,
    pub(crate) cancelled: u64,
    pub(crate) opened_count: u64,
}

impl Counts {
    pub(crate) fn bucket(&mut self, v: Verdict) -> &mut u64 {
        match v {
            Verdict::Success => &mut self.successes,
            Verdict::Failure => &mut self.failures,
            Verdict::Ignore => &mut self.ignored,
            Verdict::Drop => &mut self.cancelled,
        }
    }

    pub(crate) fn calls(&self) -> u64 {
        self.successes + self.failures + self.ignored + self.rejected + self.cancelled
    }
}

#[derive(Debug)]
pub(crate) struct Model {
    pub(crate) cfg: Cfg,
    /// Milliseconds since the case started.
    pub(crate) now: u64,
    pub(crate) mode: Mode,
    /// Bumped by every transition; a ticket of another epoch is a late result.
    pub(crate) epoch: u64,
    pub(crate) next_id: u64,
    // Closed:
    pub(crate) streak: u64,
    /// Recorded calls in the count window, oldest first; `true` is a failure.
    pub(crate) window: VecDeque<bool>,
    /// Failures in `window`.
    pub(crate) window_failures: u64,
    // Open:
    pub(crate) open_until: u64,
    pub(crate) wait_in_force: u64,
    /// Opens in a row without a close: 0 for the first open.
    pub(crate) level: u64,
    // HalfOpen: probes in flight by ticket id, with their admission instants.
    pub(crate) probes: BTreeMap<u64, u64>,
    pub(crate) probe_successes: u64,
    pub(crate) counts: Counts,
}

impl Model {
    pub(crate) fn new(cfg: Cfg) -> Model {
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

    pub(crate) fn enter(&mut self, mode: Mode) {
        self.mode = mode;
        self.epoch += 1;
        self.probes.clear();
        self.probe_successes = 0;
    }

    /// Opens at instant `at`, from Closed (level 0) or from HalfOpen (one level up).
    pub(crate) fn open_at(&mut self, at: u64) {
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

    pub(crate) fn clear_closed(&mut self) {
        self.streak = 0;
        self.window.clear();
        self.window_failures = 0;
        self.level = 0;
    }

    pub(crate) fn close_auto(&mut self) {
        self.enter(Mode::Closed);
        self.clear_closed();
    }

    /// Applies every time-driven move that fell due at or before `now`, each at its own
    /// instant.
    pub(crate) fn settle(&mut self) {
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
    pub(crate) fn next_due(&self) -> Option<u64> {
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

    pub(crate) fn advance(&mut self, ms: u64) {
        self.now += ms;
        self.settle();
    }

    pub(crate) fn acquire(&mut self) -> Admission {
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
    pub(crate) fn count_is_open_question(&self, t: &Ticket) -> bool {
        (t.mode == Mode::Disabled) != (self.mode == Mode::Disabled)
    }

    /// Whether the call is counted for sure (false: surely not, or an open question).
    pub(crate) fn counts_for_sure(&self, t: &Ticket) -> bool {
        t.mode != Mode::Disabled && self.mode != Mode::Disabled
    }

    /// Finishes a call admitted with `t`. `counted` says whether it lands in the metrics.
    pub(crate) fn finish(&mut self, t: Ticket, v: Verdict, counted: bool) {
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

    pub(crate) fn push(&mut self, failed: bool) {
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

    pub(crate) fn should_open(&self) -> bool {
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

    pub(crate) fn window_rate(&self) -> Option<f64> {
        let Policy::CountWindow { minimum, .. } = self.cfg.policy else {
            return None;
        };
        let n = self.window.len();
        if n == 0 || (n as u64) < u64::from(minimum) {
            return None;
        }
        Some(self.window_failures as f64 / n as f64)
    }

    pub(crate) fn force_open(&mut self) {
        if self.mode != Mode::ForcedOpen {
            self.enter(Mode::ForcedOpen);
        }
    }

    pub(crate) fn disable(&mut self) {
        if self.mode != Mode::Disabled {
            self.enter(Mode::Disabled);
        }
    }

    pub(crate) fn metrics_only(&mut self) {
        if self.mode != Mode::MetricsOnly {
            self.enter(Mode::MetricsOnly);
        }
    }

    pub(crate) fn close(&mut self) {
        self.settle();
        if self.mode != Mode::Closed {
            self.enter(Mode::Closed);
        }
        self.clear_closed();
    }

    pub(crate) fn reset(&mut self) {
        self.close();
        self.counts = Counts::default();
    }

    /// Checks the real metrics against the model.
    pub(crate) fn check_metrics(&self, m: &Metrics, ctx: &str) -> TestCaseResult {
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
