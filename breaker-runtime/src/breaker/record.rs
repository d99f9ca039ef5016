//! Recording: a finished call's outcome, counted always, and applied to the state only while
//! the generation it was admitted in is current.

use super::machine::Verdict;
use super::CircuitBreaker;
use crate::clock;
use crate::counters::Hot;
use crate::events::TransitionReason;
use crate::permit::{Outcome, Ticket, TicketKind};
use crate::state::{Generation, State, Word};
use crate::sync::Ordering::*;
use crate::window::WindowStats;
use std::fmt::Display;
use std::time::Duration;

impl CircuitBreaker {
    /// Applies a finished call's outcome. Counts it first: every call is counted, even one
    /// whose generation has passed.
    #[inline]
    pub(crate) fn record(&self, ticket: Ticket, outcome: Outcome, timed_out: bool) {
        // The common case: an untimed success in Closed, with no window to feed and no
        // failure streak to end (all said by the word), is one counter increment and one load.
        if outcome == Outcome::Success
            && ticket.kind() == TicketKind::Closed
            && ticket.started().is_none()
        {
            self.counters.add(Hot::Success);
            if self.word.load(Acquire) == Word::quiet_closed(ticket.generation()).0 {
                return;
            }
            return self.record_closed(ticket.generation(), outcome, false, None);
        }
        self.record_slow(ticket, outcome, timed_out, None);
    }

    /// Applies a finished call's outcome, with the text of its error: if the call is a
    /// failure that opens the breaker, `cause` is formatted, once, and kept as the open's
    /// cause. Other outcomes never format it.
    pub(crate) fn record_because(
        &self,
        ticket: Ticket,
        outcome: Outcome,
        timed_out: bool,
        cause: &dyn Display,
    ) {
        self.record_slow(ticket, outcome, timed_out, Some(cause));
    }

    /// Gives an admitted call's slot back without counting it: a protected stream that ends
    /// had no call to count for the item it was waiting for.
    pub(crate) fn release(&self, ticket: Ticket) {
        if ticket.kind() == TicketKind::HalfOpen {
            self.record_probe(ticket, Verdict::None, clock::now_ms(), None);
        }
    }

    fn record_slow(
        &self,
        ticket: Ticket,
        outcome: Outcome,
        timed_out: bool,
        cause: Option<&dyn Display>,
    ) {
        if ticket.kind() == TicketKind::Untracked {
            return;
        }
        let timed_out_cause = super::cause::TimedOut(self);
        let cause = match (outcome, cause) {
            (Outcome::Failure, Some(cause)) => Some(cause),
            (Outcome::Failure, None) if timed_out => Some(&timed_out_cause as &dyn Display),
            _ => None,
        };
        // One precise reading serves the call's duration and, for a probe, its verdict's time.
        let now_ns = ticket.started().map(|_| clock::now_ns());
        let elapsed = ticket
            .started()
            .zip(now_ns)
            .map(|(started, now)| Duration::from_nanos(now.saturating_sub(started)));
        let slow = match (elapsed, self.in_force().slow_call) {
            (Some(took), Some(threshold)) => outcome.is_verdict() && took >= threshold,
            _ => false,
        };
        if let Some(took) = elapsed {
            self.observer.call_timed(outcome, took);
        }
        let c = &self.counters;
        match outcome {
            Outcome::Success => {
                c.add(Hot::Success);
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
            TicketKind::Closed => self.record_closed(ticket.generation(), outcome, slow, cause),
            TicketKind::HalfOpen => {
                // A slow probe of a breaker that slowness can open counts against the phase:
                // otherwise a breaker opened by slow calls would close on slow calls.
                let verdict = match outcome {
                    Outcome::Failure => Verdict::Failure,
                    Outcome::Success if slow => Verdict::Failure,
                    Outcome::Success => Verdict::Success,
                    Outcome::Ignored | Outcome::Cancelled => Verdict::None,
                };
                let now_ms = now_ns.map_or_else(clock::now_ms, |ns| ns / 1_000_000);
                self.record_probe(ticket, verdict, now_ms, cause);
            }
            TicketKind::MetricsOnly => self.record_metrics_only(ticket.generation(), outcome, slow),
            TicketKind::Untracked => {}
        }
    }

    fn record_closed(
        &self,
        gen: Generation,
        outcome: Outcome,
        slow: bool,
        cause: Option<&dyn Display>,
    ) {
        let w = self.load();
        if w.state() != State::Closed || w.generation() != gen || !outcome.is_verdict() {
            return;
        }
        let failed = outcome == Outcome::Failure;
        if let Some(window) = self.window() {
            // Not only failures can trip a rate: the call that brings the window up to
            // `minimum_calls` may be a success with the rate already reached.
            let minimum_calls = self.in_force().minimum_calls;
            if let Some(stats) = window.record_and_check(failed, slow, minimum_calls) {
                if let Some(reason) = self.rate_tripped(stats) {
                    let now = clock::now_ms();
                    self.locked_because(cause, |m, s, moves| {
                        m.rate_tripped(gen, reason, now, s, moves)
                    });
                    return;
                }
            }
        }
        if failed && self.in_force().failure_threshold.is_some() {
            let now = clock::now_ms();
            self.locked_because(cause, |m, s, moves| m.closed_failure(gen, now, s, moves));
        } else if !failed && w.streak() {
            self.locked(|m, _, _| m.streak_broken(gen));
        }
    }

    /// Counts as Closed would, in the window and the failure streak, without ever opening:
    /// what the snapshot's `computed_state` reads. Like every late result, one from before a
    /// control moved the breaker on stays out of the new state's counts.
    fn record_metrics_only(&self, gen: Generation, outcome: Outcome, slow: bool) {
        let w = self.load();
        if w.state() != State::MetricsOnly || w.generation() != gen || !outcome.is_verdict() {
            return;
        }
        let failed = outcome == Outcome::Failure;
        if let Some(window) = self.window() {
            window.record(failed, slow);
        }
        // The lock only where Closed takes it: a failure that counts toward
        // `failure_threshold`, or a success that ends a run.
        if failed && self.in_force().failure_threshold.is_some() {
            self.locked(|m, _, _| m.metrics_only_failure(gen));
        } else if !failed && w.streak() {
            self.locked(|m, _, _| m.streak_broken(gen));
        }
    }

    /// The rates' half of the Closed → Open rule: a rate reached its threshold over a window
    /// that holds `minimum_calls`; why, if so.
    pub(super) fn rate_tripped(&self, stats: WindowStats) -> Option<TransitionReason> {
        let s = self.in_force();
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

    /// A probe's verdict, applied after any time-driven move due now: a probe whose phase
    /// timed out before it answered is late and moves nothing.
    fn record_probe(
        &self,
        ticket: Ticket,
        verdict: Verdict,
        now: u64,
        cause: Option<&dyn Display>,
    ) {
        let stamp = ticket.started().unwrap_or(0);
        self.locked_because(cause, |m, s, moves| {
            m.advance(now, s, moves);
            m.probe_finished(ticket.generation(), stamp, verdict, now, s, moves);
        });
    }
}
