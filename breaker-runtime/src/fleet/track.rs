//! One shared breaker as its instance follows the fleet: what to report from the breaker's
//! position, and how to apply the fleet's answer to it.
//!
//! The breaker is told things only through the generation-fenced calls of `remote.rs`, so an
//! answer decided on a position the breaker has left changes nothing.

use super::script::{Event, FleetState, Reply, Report, Rules};
use crate::backoff::random_unit;
use crate::breaker::CircuitBreaker;
use crate::clock::ceil_ms;
use crate::events::TransitionReason;
use crate::remote::{Outcomes, Position};
use crate::settings::Window;
use crate::state::State;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// A count window is pooled fleet-wide over this much time: Redis keeps time buckets only.
const COUNT_WINDOW_SPAN: Duration = Duration::from_secs(30);
/// Buckets per window span.
const BUCKETS: u64 = 10;

/// What an instance keeps of one shared breaker between syncs.
#[derive(Debug)]
pub(super) struct Track {
    /// Held weakly: the fleet shares the breaker, it does not keep it. A breaker its owner
    /// lets go (a `Family`'s member leaving, `Registry::remove`) goes, and its track with it
    /// at the next sync; the syncer holds it only while it builds a report or applies an
    /// answer.
    pub(super) breaker: Weak<CircuitBreaker>,
    pub(super) keys: [String; 4],
    /// The last fleet generation seen; `None` until the first answer after a (re)connect.
    fleet_gen: Option<u64>,
    /// The newest fleet generation ever seen, kept across reconnects.
    known: Option<u64>,
    /// The breaker's generation while it follows a fleet open (the fleet opened it, or took
    /// over its own open); it stops following once it moves by itself.
    following: Option<u64>,
    /// It holds the probe lease and let its breaker half-open: its verdict is the fleet's.
    probing: bool,
    /// Its last report carried its probe's verdict.
    verdict_sent: bool,
    /// The generation of the breaker's own open already reported.
    reported: Option<u64>,
    /// The breaker's generation while it is forced open by the fleet's force.
    forced: Option<u64>,
    /// Redis lost the fleet's force this breaker still holds: the next report says it again.
    reforce: bool,
    /// The counts at the last report.
    base: Outcomes,
}

impl Track {
    pub(super) fn new(breaker: Arc<CircuitBreaker>, keys: [String; 4]) -> Track {
        let base = breaker.outcomes();
        Track {
            breaker: Arc::downgrade(&breaker),
            keys,
            fleet_gen: None,
            known: None,
            following: None,
            probing: false,
            verdict_sent: false,
            reported: None,
            forced: None,
            reforce: false,
            base,
        }
    }

    /// Forgets what the fleet said: the link was lost, so the next answer is taken whole.
    /// Counts made while away are not sent: they would all land in one bucket at once.
    pub(super) fn resync(&mut self) {
        self.fleet_gen = None;
        self.probing = false;
        self.verdict_sent = false;
        self.reported = None;
        if let Some(b) = self.breaker.upgrade() {
            self.base = b.outcomes();
        }
    }

    /// The rules of `breaker` (this track's) and the fleet's timings for the script.
    pub(super) fn rules(breaker: &CircuitBreaker, min_instances: u32, sync: Duration) -> Rules {
        let s = breaker.in_force();
        let span = match s.window {
            Some(Window::Time(d)) => d,
            Some(Window::Calls(_)) => COUNT_WINDOW_SPAN,
            None => Duration::ZERO,
        };
        let span_ms = ceil_ms(span);
        let open_ms = ceil_ms(s.backoff.wait(s.reset_timeout, 0, random_unit()));
        // Instances' own opens count together while they are as recent as an open period,
        // and never less than a few syncs.
        let open_window_ms = open_ms.max(ceil_ms(sync) * 4);
        Rules {
            minimum_calls: s.minimum_calls,
            failure_rate: s.failure_rate,
            slow_call_rate: s.slow_call.and(s.slow_call_rate),
            span_ms,
            bucket_ms: (span_ms / BUCKETS).max(1),
            min_instances,
            open_window_ms,
            open_ms,
            // Long enough to outlive any open period and window, refreshed on every write.
            ttl_ms: [span_ms, open_ms, ceil_ms(s.half_open_timeout), 60_000]
                .into_iter()
                .max()
                .unwrap_or(60_000)
                .saturating_mul(4),
            lease_ms: ceil_ms(s.half_open_timeout),
        }
    }

    /// What to tell the fleet now; `control` is a fleet-wide control asked for this breaker.
    pub(super) fn report(&mut self, pos: Position, control: Option<Event>) -> Report {
        // A breaker gone meanwhile has nothing more to count.
        let now = self.breaker.upgrade().map_or(self.base, |b| b.outcomes());
        let control = control.or(std::mem::take(&mut self.reforce).then_some(Event::Reforce));
        let report = Report {
            seen: self.fleet_gen.unwrap_or(0),
            event: control.unwrap_or_else(|| self.event(pos)),
            successes: now.successes.saturating_sub(self.base.successes),
            failures: now.failures.saturating_sub(self.base.failures),
            slow: now.slow.saturating_sub(self.base.slow),
            wants_lease: !self.probing
                && pos.state == State::Open
                && self.following == Some(pos.generation),
        };
        self.base = now;
        report
    }

    fn event(&mut self, pos: Position) -> Event {
        // Nothing is reported on a generation the fleet has not answered yet.
        if self.fleet_gen.is_none() {
            return Event::None;
        }
        if self.probing {
            let verdict = match pos.state {
                // A hand's control on this instance (`CircuitBreaker::close`, `reset`,
                // `open_for`) is no probe's verdict: it stays here, as on any other
                // instance, and the lease runs out for another instance to probe.
                State::Closed | State::Open if pos.reason == Some(TransitionReason::Manual) => {
                    Event::None
                }
                State::Closed => Event::Closed,
                State::Open if self.following != Some(pos.generation) => Event::Reopened {
                    left_ms: pos.left_ms,
                },
                _ => return Event::None,
            };
            self.probing = false;
            self.verdict_sent = true;
            self.following = None;
            return verdict;
        }
        if pos.state == State::Open
            && self.following != Some(pos.generation)
            && self.reported != Some(pos.generation)
        {
            self.reported = Some(pos.generation);
            return Event::Opened {
                left_ms: pos.left_ms,
            };
        }
        Event::None
    }

    /// Applies the fleet's answer. `hold` is how much longer than the fleet's deadline the
    /// breaker stays open (at most its reset timeout from now, renewed each sync), so that
    /// the fleet's probe is taken before any instance's own;
    /// `sent` is the control this instance just sent, already applied here.
    pub(super) fn apply(&mut self, reply: &Reply, hold: Duration, sent: Option<Event>) {
        let new = self.fleet_gen != Some(reply.generation);
        self.fleet_gen = Some(reply.generation);
        let Some(b) = self.breaker.upgrade() else {
            return;
        };
        let b = &b;
        let hold_ms = ceil_ms(hold);
        // A control is applied once, when its generation is newer than any this instance
        // saw: not again after a reconnect, and a close or reset made before the instance
        // joined is none of its business (a forced open is a state, and it joins it).
        let fresh = self.known.is_none_or(|k| k < reply.generation);
        if let Some(control) = reply.control.filter(|_| sent.is_none() && fresh) {
            match control {
                Event::Force => b.force_open(),
                Event::Reset if self.known.is_some() => b.reset(),
                Event::Close if self.known.is_some() => b.close(),
                _ => {}
            }
        }
        self.known = Some(
            self.known
                .map_or(reply.generation, |k| k.max(reply.generation)),
        );
        if reply.state == FleetState::Forced {
            let now = b.position();
            if now.state == State::ForcedOpen {
                self.forced = Some(now.generation);
            }
        } else if !reply.fresh {
            // The fleet's force is over. If the control that ended it never reached this
            // instance (a newer move superseded it before this instance's sync, or while it
            // was cut off), the breaker still forced by it would stay forced for ever: it
            // ends here too, and the breaker takes the fleet's state below. A force by hand
            // since (a new generation) stays. (A fresh state is Redis's loss, not a close.)
            if let Some(gen) = self.forced.take() {
                let now = b.position();
                if now.state == State::ForcedOpen && now.generation == gen {
                    b.close();
                }
            }
        }
        let pos = b.position();
        if new
            && reply.fresh
            && pos.state == State::ForcedOpen
            && self.forced == Some(pos.generation)
        {
            // Redis lost the fleet's force (restarted empty): this instance says it again.
            self.reforce = true;
        }
        // A new fleet generation ends this instance's probing round (a verdict from it would
        // be fenced off anyway), and so does a lease that ran out before its verdict: no call
        // came in time, or the probe outlived the lease and its verdict came too late (a
        // verdict the fleet takes always makes a new generation). Another instance's turn:
        // its half-open was the fleet's, so it follows the fleet again, closes with its
        // close or waits open with the others.
        let verdict_sent = std::mem::take(&mut self.verdict_sent);
        let lost = reply.state == FleetState::Open && !reply.holder;
        if (self.probing || verdict_sent) && (new || lost) {
            self.probing = false;
            self.following = Some(pos.generation);
        }
        if new && reply.fresh && self.following.is_some() {
            // Redis lost the fleet's state (restarted empty, or the keys expired): nobody
            // decided to close. The breaker keeps its open as its own and reports it again,
            // so the fleet re-opens (min_instances permitting) instead of every instance
            // closing at once with no probe.
            self.following = None;
            self.reported = None;
            return;
        }
        if new && reply.state != FleetState::Open {
            if reply.state == FleetState::Closed && self.following == Some(pos.generation) {
                // The probe's verdict, taken elsewhere: closes here too.
                b.close_remotely(pos.generation);
            }
            self.following = None;
            return;
        }
        if reply.state != FleetState::Open {
            return;
        }
        let left = if reply.left_ms > 0 {
            reply.left_ms
        } else {
            reply.lease_left_ms
        };
        // Never longer than the reset timeout in force, so `retry_after` keeps its promise;
        // the hold is renewed every sync, so the cap costs nothing while the fleet probes.
        let cap = ceil_ms(b.in_force().reset_timeout);
        let until = left.saturating_add(hold_ms).min(cap.max(left));
        if self.probing {
            // Its turn, still: its probes decide. (A turn that ended, by a lease run out or
            // taken by another instance, was handed back above.)
            return;
        }
        let follows = self.following == Some(pos.generation);
        if !new && !follows {
            // It left the fleet's open by itself (its hold ran out while Redis was away).
            return;
        }
        if reply.holder && follows && pos.state == State::Open {
            // Its turn: the breaker half-opens now and its probes decide for the fleet.
            if b.open_remotely(pos.generation, 0).is_some() {
                self.probing = true;
            }
            return;
        }
        if let Some(gen) = b.open_remotely(pos.generation, until) {
            self.following = Some(gen);
            self.reported = Some(gen);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::script::keys;
    use super::*;

    fn breaker() -> Arc<CircuitBreaker> {
        CircuitBreaker::builder("track")
            .failure_threshold(1)
            .success_threshold(1)
            .reset_timeout(Duration::from_secs(30))
            .build()
    }

    fn reply(generation: u64, state: FleetState, left_ms: u64, holder: bool) -> Reply {
        Reply {
            generation,
            state,
            left_ms,
            holder,
            lease_left_ms: 0,
            control: None,
            fresh: false,
        }
    }

    const HOLD: Duration = Duration::from_millis(200);

    #[test]
    fn a_fleet_open_opens_a_closed_breaker_and_the_fleet_close_closes_it() {
        let b = breaker();
        let mut t = Track::new(b.clone(), keys("ns", "track"));
        t.apply(&reply(10, FleetState::Open, 5_000, false), HOLD, None);
        assert_eq!(b.state(), State::Open);
        let left = b.position().left_ms;
        assert!((5_000..=5_200).contains(&left), "{left} ms left");
        t.apply(&reply(11, FleetState::Closed, 0, false), HOLD, None);
        assert_eq!(b.state(), State::Closed);
    }

    #[test]
    fn a_fleet_close_leaves_a_breaker_that_moved_by_itself() {
        let b = breaker();
        let mut t = Track::new(b.clone(), keys("ns", "track"));
        t.apply(&reply(10, FleetState::Open, 5_000, false), HOLD, None);
        b.force_open();
        t.apply(&reply(11, FleetState::Closed, 0, false), HOLD, None);
        assert_eq!(b.state(), State::ForcedOpen);
    }

    #[test]
    fn a_local_open_is_reported_once_and_only_once_the_fleet_answered() {
        let b = breaker();
        let mut t = Track::new(b.clone(), keys("ns", "track"));
        let _ = b.call_sync(|| Err::<(), _>("down"));
        assert_eq!(
            t.report(b.position(), None).event,
            Event::None,
            "no answer yet"
        );
        t.apply(&reply(10, FleetState::Closed, 0, false), HOLD, None);
        let r = t.report(b.position(), None);
        assert!(
            matches!(r.event, Event::Opened { left_ms } if left_ms > 29_000),
            "{r:?}"
        );
        assert_eq!(t.report(b.position(), None).event, Event::None);
    }

    #[test]
    fn the_lease_holder_probes_and_reports_its_verdict() {
        let b = breaker();
        let mut t = Track::new(b.clone(), keys("ns", "track"));
        t.apply(&reply(10, FleetState::Open, 5_000, false), HOLD, None);
        assert!(t.report(b.position(), None).wants_lease);
        t.apply(&reply(10, FleetState::Open, 0, true), HOLD, None);
        assert_eq!(b.state(), State::HalfOpen, "its turn to probe");
        assert!(b.call_sync(|| Ok::<_, &str>(())).is_ok());
        assert_eq!(b.state(), State::Closed);
        assert_eq!(t.report(b.position(), None).event, Event::Closed);
    }

    #[test]
    fn a_holder_whose_lease_runs_out_before_its_verdict_waits_again() {
        let b = breaker();
        let mut t = Track::new(b.clone(), keys("ns", "track"));
        t.apply(&reply(10, FleetState::Open, 5_000, false), HOLD, None);
        t.apply(&reply(10, FleetState::Open, 0, true), HOLD, None);
        assert_eq!(b.state(), State::HalfOpen, "its turn to probe");
        assert_eq!(t.report(b.position(), None).event, Event::None);
        // No call came; the lease is another instance's now.
        let mut other = reply(10, FleetState::Open, 0, false);
        other.lease_left_ms = 1_000;
        t.apply(&other, HOLD, None);
        assert_eq!(b.state(), State::Open, "its turn is over");
        assert!(b.try_acquire().is_err(), "another instance probes");
        // The other's probe closes the fleet: it closes here too.
        t.apply(&reply(11, FleetState::Closed, 0, false), HOLD, None);
        assert_eq!(b.state(), State::Closed);
    }

    #[test]
    fn a_holder_closes_with_a_fleet_close_made_elsewhere() {
        let b = breaker();
        let mut t = Track::new(b.clone(), keys("ns", "track"));
        t.apply(&reply(10, FleetState::Open, 5_000, false), HOLD, None);
        t.apply(&reply(10, FleetState::Open, 0, true), HOLD, None);
        assert_eq!(b.state(), State::HalfOpen, "its turn to probe");
        // Its lease ran out and the next holder's probe closed the fleet before this
        // instance saw its turn end.
        t.apply(&reply(11, FleetState::Closed, 0, false), HOLD, None);
        assert_eq!(
            b.state(),
            State::Closed,
            "the fleet's verdict applies here too"
        );
    }

    #[test]
    fn a_holder_whose_verdict_comes_after_its_lease_waits_again() {
        let b = breaker();
        let mut t = Track::new(b.clone(), keys("ns", "track"));
        t.apply(&reply(10, FleetState::Open, 5_000, false), HOLD, None);
        t.apply(&reply(10, FleetState::Open, 0, true), HOLD, None);
        // Its probe fails, but only after its lease ran out.
        let _ = b.call_sync(|| Err::<(), _>("down"));
        assert_eq!(b.state(), State::Open);
        let r = t.report(b.position(), None);
        assert!(matches!(r.event, Event::Reopened { .. }), "{r:?}");
        // The fleet did not take it (no new generation): another instance probes now.
        let mut other = reply(10, FleetState::Open, 0, false);
        other.lease_left_ms = 1_000;
        t.apply(&other, HOLD, None);
        // It waits with the others, and closes with the other's verdict.
        t.apply(&reply(11, FleetState::Closed, 0, false), HOLD, None);
        assert_eq!(b.state(), State::Closed);
    }

    #[test]
    fn a_breaker_waiting_for_another_probe_stays_open() {
        let b = breaker();
        let mut t = Track::new(b.clone(), keys("ns", "track"));
        t.apply(&reply(10, FleetState::Open, 5_000, false), HOLD, None);
        let mut waiting = reply(10, FleetState::Open, 0, false);
        waiting.lease_left_ms = 1_000;
        t.apply(&waiting, HOLD, None);
        assert_eq!(b.state(), State::Open);
        assert!(b.try_acquire().is_err(), "another instance probes");
    }

    #[test]
    fn a_hand_close_of_the_lease_holder_is_no_verdict() {
        let b = breaker();
        let mut t = Track::new(b.clone(), keys("ns", "track"));
        t.apply(&reply(10, FleetState::Open, 5_000, false), HOLD, None);
        t.apply(&reply(10, FleetState::Open, 0, true), HOLD, None);
        assert_eq!(b.state(), State::HalfOpen);
        b.close();
        assert_eq!(t.report(b.position(), None).event, Event::None);
    }

    #[test]
    fn a_holder_whose_lease_another_took_stops_probing() {
        let b = breaker();
        let mut t = Track::new(b.clone(), keys("ns", "track"));
        t.apply(&reply(10, FleetState::Open, 5_000, false), HOLD, None);
        t.apply(&reply(10, FleetState::Open, 0, true), HOLD, None);
        assert_eq!(b.state(), State::HalfOpen, "its turn to probe");
        let mut taken = reply(10, FleetState::Open, 0, false);
        taken.lease_left_ms = 1_000;
        t.apply(&taken, HOLD, None);
        assert_eq!(b.state(), State::Open, "another instance probes now");
        assert!(b.try_acquire().is_err());
        assert!(
            t.report(b.position(), None).wants_lease,
            "it waits for its turn again"
        );
    }
}
