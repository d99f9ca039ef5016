//! The state machine itself: a plain struct, changed only under its breaker's lock, with every
//! rule of the README's "States" section written once here.
//!
//! Nothing in this file reads a clock or touches an atomic: each operation takes the time it
//! runs at, so the rules can be tested alone, at any instant, and time-driven moves are dated
//! at the instant they fall due rather than when somebody notices them.

use crate::backoff::random_unit;
use crate::clock::ceil_ms;
use crate::events::TransitionReason;
use crate::settings::Settings;
use crate::state::{Generation, State, Word};

/// Where a breaker's state machine stands.
#[derive(Debug)]
pub(crate) struct Machine {
    state: State,
    gen: Generation,
    /// Re-opens without a close in between: drives the backoff.
    level: u8,
    /// Closed and MetricsOnly: the current run of consecutive failures (MetricsOnly keeps it
    /// only to tell what the breaker would do).
    streak: u32,
    /// Open: the clock millisecond from which probes are let in.
    until_ms: u64,
    /// HalfOpen: probes that succeeded in this phase.
    successes: u32,
    /// HalfOpen: the admission stamps (ns) of the probes in flight. Each probe's half-open
    /// timeout runs from its own admission; the oldest decides when the phase times out.
    probes: Vec<u64>,
    /// Set when a close must empty the rate window before calls see the new generation.
    clear_window: bool,
    /// Open and HalfOpen: the text of the failure that opened the breaker, if it was given.
    cause: Option<String>,
    /// Why the last transition happened, for the snapshot; `None` before the first.
    last_reason: Option<TransitionReason>,
    /// When the breaker noticed the last transition (clock ms), stamped by its lock's holder.
    last_at_ms: u64,
}

/// A state change to announce once the lock is released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Move {
    pub(crate) from: State,
    pub(crate) to: State,
    pub(crate) reason: TransitionReason,
}

/// The moves one locked operation made: at most a timed-out phase re-opening, its open
/// period passing, and the operation's own move.
#[derive(Debug, Default)]
pub(crate) struct Moves {
    list: [Option<Move>; 4],
}

impl Moves {
    fn push(&mut self, m: Move) {
        if let Some(slot) = self.list.iter_mut().find(|s| s.is_none()) {
            *slot = Some(m);
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = Move> + '_ {
        self.list.iter().map_while(|m| *m)
    }
}

/// What admission decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    Closed,
    MetricsOnly,
    Untracked,
    /// A half-open probe, stamped at its admission.
    Probe,
    RejectOpen {
        retry_ms: u64,
    },
    RejectHalfOpenFull,
    RejectForcedOpen,
}

/// A finished probe's verdict, as half-open sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Success,
    /// A failure, or a slow probe of a breaker with a `slow_call` threshold.
    Failure,
    /// Ignored or cancelled: the slot comes back and nothing else changes.
    None,
}

impl Machine {
    pub(crate) fn new() -> Machine {
        Machine {
            state: State::Closed,
            gen: Generation::FIRST,
            level: 0,
            streak: 0,
            until_ms: 0,
            successes: 0,
            probes: Vec::new(),
            clear_window: false,
            cause: None,
            last_reason: None,
            last_at_ms: 0,
        }
    }

    /// HalfOpen: probes in flight, and probes that succeeded in this phase.
    pub(crate) fn probes(&self) -> (u32, u32) {
        let in_flight = u32::try_from(self.probes.len()).unwrap_or(u32::MAX);
        (in_flight, self.successes)
    }

    /// The last transition's reason and when it was noticed (clock ms).
    pub(crate) fn last_transition(&self) -> Option<(TransitionReason, u64)> {
        self.last_reason.map(|r| (r, self.last_at_ms))
    }

    /// Remembers `reason` as the last transition's, noticed at `at_ms`.
    pub(crate) fn note_transition(&mut self, reason: TransitionReason, at_ms: u64) {
        self.last_reason = Some(reason);
        self.last_at_ms = at_ms;
    }

    pub(crate) fn state(&self) -> State {
        self.state
    }

    pub(crate) fn generation(&self) -> Generation {
        self.gen
    }

    /// The hot word that publishes this position.
    pub(crate) fn word(&self) -> Word {
        Word::new(self.state, self.gen, self.streak > 0)
    }

    /// Open: when probes are let in.
    pub(crate) fn until_ms(&self) -> u64 {
        self.until_ms
    }

    /// The text of the failure that opened the breaker (kept through half-open).
    pub(crate) fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }

    /// Keeps `text` as the cause of the open that made generation `gen`, if it is still
    /// current (a later move made it stale); whether it was kept.
    pub(crate) fn set_cause(&mut self, gen: Generation, text: &str) -> bool {
        let current = self.state == State::Open && self.gen == gen;
        if current {
            self.cause = Some(text.to_owned());
        }
        current
    }

    /// Whether the window must be emptied before the new position is published; resets it.
    pub(crate) fn take_clear_window(&mut self) -> bool {
        std::mem::take(&mut self.clear_window)
    }

    /// Applies every time-driven move due by `now_ms`, each dated at the instant it fell due:
    /// an open period that ended half-opens at its end; a probe with no verdict
    /// `half_open_timeout` after its admission re-opens the breaker at that instant, and the
    /// new open period counts from then.
    pub(crate) fn advance(&mut self, now_ms: u64, s: &Settings, moves: &mut Moves) {
        loop {
            match self.state {
                State::Open if now_ms >= self.until_ms => {
                    self.enter(
                        State::HalfOpen,
                        TransitionReason::ResetTimeoutElapsed,
                        moves,
                    );
                }
                State::HalfOpen => match self.oldest_probe_deadline(s) {
                    Some(due) if now_ms >= due => {
                        self.open(due, TransitionReason::HalfOpenTimeout, s, moves);
                    }
                    _ => return,
                },
                _ => return,
            }
        }
    }

    /// When time alone moves the machine next (after [`advance`](Self::advance) to now): an
    /// open period's end, or the oldest probe's `half_open_timeout`; `None` in the states
    /// time does not move.
    pub(crate) fn next_timed_move(&self, s: &Settings) -> Option<u64> {
        match self.state {
            State::Open => Some(self.until_ms),
            State::HalfOpen => self.oldest_probe_deadline(s),
            _ => None,
        }
    }

    fn oldest_probe_deadline(&self, s: &Settings) -> Option<u64> {
        let oldest = self.probes.iter().min()?;
        Some((oldest / 1_000_000).saturating_add(ceil_ms(s.half_open_timeout)))
    }

    /// Decides on a call at `now_ms` (after [`advance`](Self::advance)); a probe is recorded
    /// as admitted at `stamp`.
    pub(crate) fn admit(&mut self, now_ms: u64, stamp: u64, s: &Settings) -> Admit {
        match self.state {
            State::Closed => Admit::Closed,
            State::MetricsOnly => Admit::MetricsOnly,
            State::Disabled => Admit::Untracked,
            State::ForcedOpen => Admit::RejectForcedOpen,
            State::Open => Admit::RejectOpen {
                retry_ms: self.until_ms.saturating_sub(now_ms),
            },
            State::HalfOpen if self.probes.len() < s.half_open_max_calls as usize => {
                self.probes.push(stamp);
                Admit::Probe
            }
            State::HalfOpen => Admit::RejectHalfOpenFull,
        }
    }

    /// A failure admitted in Closed at `gen`: extends the streak, and opens at
    /// `failure_threshold`.
    pub(crate) fn closed_failure(
        &mut self,
        gen: Generation,
        now_ms: u64,
        s: &Settings,
        moves: &mut Moves,
    ) {
        if self.state != State::Closed || self.gen != gen {
            return;
        }
        self.streak = self.streak.saturating_add(1);
        if self.streak_reached(s) {
            self.open(now_ms, TransitionReason::FailureThreshold, s, moves);
        }
    }

    /// A failure admitted in MetricsOnly at `gen`: extends the streak, which opens nothing
    /// here.
    pub(crate) fn metrics_only_failure(&mut self, gen: Generation) {
        if self.state == State::MetricsOnly && self.gen == gen {
            self.streak = self.streak.saturating_add(1);
        }
    }

    /// A success admitted in Closed or MetricsOnly at `gen`: ends the failure streak.
    pub(crate) fn streak_broken(&mut self, gen: Generation) {
        if matches!(self.state, State::Closed | State::MetricsOnly) && self.gen == gen {
            self.streak = 0;
        }
    }

    /// The consecutive-failure half of the Closed → Open rule: the run of failures reached
    /// `failure_threshold`.
    pub(crate) fn streak_reached(&self, s: &Settings) -> bool {
        s.failure_threshold.is_some_and(|t| self.streak >= t)
    }

    /// A rate over the window of Closed at `gen` was reached.
    pub(crate) fn rate_tripped(
        &mut self,
        gen: Generation,
        reason: TransitionReason,
        now_ms: u64,
        s: &Settings,
        moves: &mut Moves,
    ) {
        if self.state == State::Closed && self.gen == gen {
            self.open(now_ms, reason, s, moves);
        }
    }

    /// A probe admitted at `gen` with `stamp` finished at `now_ms` (after
    /// [`advance`](Self::advance), so a probe whose phase already timed out is late).
    pub(crate) fn probe_finished(
        &mut self,
        gen: Generation,
        stamp: u64,
        verdict: Verdict,
        now_ms: u64,
        s: &Settings,
        moves: &mut Moves,
    ) {
        if self.state != State::HalfOpen || self.gen != gen {
            return;
        }
        if let Some(i) = self.probes.iter().position(|&p| p == stamp) {
            self.probes.swap_remove(i);
        }
        match verdict {
            Verdict::Failure => self.open(now_ms, TransitionReason::ProbeFailed, s, moves),
            Verdict::Success => {
                self.successes = self.successes.saturating_add(1);
                if self.successes >= s.success_threshold {
                    self.close(TransitionReason::ProbesSucceeded, moves);
                }
            }
            Verdict::None => {}
        }
    }

    /// New settings took effect at `now_ms`: an open period lasts no longer than the new
    /// reset timeout (grown by the backoff at this level) from now, so `retry_after` never
    /// exceeds the reset timeout in force.
    pub(crate) fn reconfigured(&mut self, now_ms: u64, s: &Settings) {
        if self.state == State::Open {
            let wait = s.backoff.wait(s.reset_timeout, self.level, random_unit());
            self.until_ms = self.until_ms.min(now_ms.saturating_add(ceil_ms(wait)));
        }
    }

    /// Opens at `now_ms` for `wait` (reason `manual`), as an automatic open would for its
    /// reset timeout: it half-opens once the time has passed, and its backoff level stays.
    pub(crate) fn open_for(&mut self, now_ms: u64, wait: std::time::Duration, moves: &mut Moves) {
        let level = self.level;
        self.until_ms = now_ms.saturating_add(ceil_ms(wait));
        self.enter(State::Open, TransitionReason::Manual, moves);
        self.level = level;
    }

    /// Told from outside: opens at `now_ms` until `until_ms` (reason `remote`) from Closed or
    /// HalfOpen, as a local open would (the backoff level goes up from HalfOpen); an open
    /// breaker keeps its generation and only takes the new deadline. The manual states stay
    /// as they are. Only while the generation is still `gen`, so a stale word moves nothing;
    /// whether it applied.
    pub(crate) fn remote_open(
        &mut self,
        gen: Generation,
        until_ms: u64,
        moves: &mut Moves,
    ) -> bool {
        if self.gen != gen {
            return false;
        }
        match self.state {
            State::Open => {
                self.until_ms = until_ms;
                true
            }
            State::Closed | State::HalfOpen => {
                let level = match self.state {
                    State::Closed => 0,
                    _ => self.level.saturating_add(1),
                };
                self.until_ms = until_ms;
                self.enter(State::Open, TransitionReason::Remote, moves);
                self.level = level;
                true
            }
            _ => false,
        }
    }

    /// Told from outside: an Open or HalfOpen breaker still at `gen` closes (reason
    /// `remote`), as if its own probes had succeeded; whether it applied.
    pub(crate) fn remote_close(&mut self, gen: Generation, moves: &mut Moves) -> bool {
        let applies = self.gen == gen && matches!(self.state, State::Open | State::HalfOpen);
        if applies {
            self.close(TransitionReason::Remote, moves);
        }
        applies
    }

    /// A manual control. Closing a closed breaker keeps its generation (calls admitted
    /// before still count) but clears the streak and the window.
    pub(crate) fn set_manual(&mut self, target: State, moves: &mut Moves) {
        match (self.state, target) {
            (State::Closed, State::Closed) => {
                self.streak = 0;
                self.clear_window = true;
            }
            (from, to) if from == to => {}
            (_, State::Closed) => self.close(TransitionReason::Manual, moves),
            (_, to) => {
                self.enter(to, TransitionReason::Manual, moves);
                self.level = 0;
            }
        }
    }

    /// Opens at `at_ms` (Closed or HalfOpen): the wait grows with each re-open in a row.
    fn open(&mut self, at_ms: u64, reason: TransitionReason, s: &Settings, moves: &mut Moves) {
        let level = match self.state {
            State::Closed => 0,
            // Saturates at 255 re-opens, far past any cap a backoff reaches.
            _ => self.level.saturating_add(1),
        };
        let wait = s.backoff.wait(s.reset_timeout, level, random_unit());
        self.until_ms = at_ms.saturating_add(ceil_ms(wait));
        self.enter(State::Open, reason, moves);
        self.level = level;
    }

    /// Closes into a new generation: clears the streak, the window and the backoff.
    fn close(&mut self, reason: TransitionReason, moves: &mut Moves) {
        self.enter(State::Closed, reason, moves);
        self.level = 0;
        self.clear_window = true;
    }

    /// Moves to `to` in a new generation, with the phase's counts at zero.
    fn enter(&mut self, to: State, reason: TransitionReason, moves: &mut Moves) {
        moves.push(Move {
            from: self.state,
            to,
            reason,
        });
        self.state = to;
        self.gen = self.gen.next();
        // Half-open keeps the cause of the open it follows; every other move forgets it, and
        // a failure that opens sets its own afterwards.
        if to != State::HalfOpen {
            self.cause = None;
        }
        self.streak = 0;
        self.successes = 0;
        self.probes.clear();
    }

    /// Starts the generation counter at `gen`, so tests can drive it across its whole range.
    #[cfg(feature = "test-util")]
    pub(crate) fn set_generation(&mut self, gen: Generation) {
        self.gen = gen;
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
