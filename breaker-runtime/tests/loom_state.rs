//! Model checking of the packed state word, the permits and the counters with loom: every
//! interleaving of 2–3 threads (up to the preemption bound) is run and checked.
//!
//! Run with (about a minute on two cores):
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 CARGO_TARGET_DIR=target/loom \
//!     cargo test -p breaker-runtime --release --test loom_state
//! ```
//!
//! Loom's clock moves only where a model sets it, outside the threads it races (so every run
//! of an interleaving takes the same path): most scenarios use reset timeouts of an hour (Open
//! stays Open) or zero (the first call after opening moves Open → HalfOpen); the half-open
//! timeout scenarios set the clock to the deadline before their threads start.
#![cfg(loom)]

use breaker_runtime::{
    BreakerError, BreakerEvent, CircuitBreaker, Outcome, State, TransitionReason,
};
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;
use std::sync::Arc;
use std::time::Duration;

/// Runs `f` under loom with a default preemption bound of 3 (`LOOM_MAX_PREEMPTIONS`
/// overrides it).
fn model<F>(f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    model_bounded(3, f)
}

/// As [`model`], with at most `bound` preemptions (`LOOM_MAX_PREEMPTIONS` still overrides
/// it): for three threads that each take the breaker's lock twice, a bound of 3 is hours.
fn model_bounded<F>(bound: usize, f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(bound);
    }
    builder.check(move || {
        // Every run starts at the same instant; models that need time move it themselves,
        // before or after their threads race.
        breaker_runtime::__private::loom_set_clock_ms(0);
        f()
    });
}

/// A breaker that opens on one failure and lets probes through as soon as it is open.
fn probing(name: &str, max_calls: u32, successes: u32) -> Arc<CircuitBreaker> {
    let b = CircuitBreaker::builder(name)
        .failure_threshold(1)
        .reset_timeout(Duration::ZERO)
        .half_open_max_calls(max_calls)
        .success_threshold(successes)
        .build();
    b.try_acquire().expect("closed").failure();
    b
}

/// Every event received so far, as (from, to, reason) transitions.
fn transitions(
    events: &mut breaker_runtime::EventReceiver,
) -> Vec<(State, State, TransitionReason)> {
    let mut out = Vec::new();
    while let Some(e) = events.try_recv() {
        if let BreakerEvent::StateTransition {
            from, to, reason, ..
        } = e
        {
            out.push((from, to, reason));
        }
    }
    out
}

/// Three callers race for two half-open slots: at no moment do more than two hold a permit,
/// each rejection is `HalfOpenFull`, and every slot comes back when its permit is dropped.
#[test]
fn half_open_never_admits_more_than_max_calls_and_dropped_permits_come_back() {
    model_bounded(2, || {
        let b = probing("loom-half-open-max", 2, 100);
        let holding = Arc::new(AtomicUsize::new(0));
        let admitted = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let (b, holding, admitted) = (b.clone(), holding.clone(), admitted.clone());
                thread::spawn(move || match b.try_acquire() {
                    Ok(permit) => {
                        admitted.fetch_add(1, SeqCst);
                        let now = holding.fetch_add(1, SeqCst) + 1;
                        assert!(now <= 2, "{now} permits held at once, max is 2");
                        holding.fetch_sub(1, SeqCst);
                        drop(permit); // cancelled: gives the slot back
                    }
                    Err(e) => assert!(
                        matches!(e, BreakerError::HalfOpenFull { .. }),
                        "unexpected rejection {e:?}"
                    ),
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let admitted = admitted.load(SeqCst) as u64;
        assert!(
            admitted >= 2,
            "two slots were free, only {admitted} admitted"
        );
        let m = b.metrics();
        // One failure opened it; of the three racers each was either admitted (and
        // cancelled) or rejected.
        assert_eq!(m.failures, 1);
        assert_eq!(m.cancelled, admitted);
        assert_eq!(m.rejected, 3 - admitted);
        assert_eq!(m.calls, 4);
        assert_eq!(b.state(), State::HalfOpen);
        // Both slots are free again.
        let p1 = b.try_acquire().expect("slot 1 came back");
        let p2 = b.try_acquire().expect("slot 2 came back");
        assert!(matches!(
            b.try_acquire(),
            Err(BreakerError::HalfOpenFull { .. })
        ));
        p1.ignore();
        p2.record_outcome(Outcome::Cancelled);
    });
}

/// Three failures race against a threshold of two: the breaker opens exactly once, one
/// thread reports it, and the failure that lands after the transition moves nothing.
#[test]
fn concurrent_failures_open_exactly_once_with_one_event() {
    model(|| {
        let b = CircuitBreaker::builder("loom-open-once")
            .failure_threshold(2)
            .reset_timeout(Duration::from_secs(3600))
            .build();
        let mut events = b.subscribe();
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let b = b.clone();
                thread::spawn(move || {
                    // Admission may already see Open; that call is rejected instead.
                    if let Ok(permit) = b.try_acquire() {
                        permit.failure();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let m = b.metrics();
        assert_eq!(b.state(), State::Open);
        assert_eq!(m.opened_count, 1);
        assert_eq!(m.failures + m.rejected, 3);
        assert!(m.failures >= 2);
        assert_eq!(
            transitions(&mut events),
            vec![(
                State::Closed,
                State::Open,
                TransitionReason::FailureThreshold
            )]
        );
    });
}

/// Two failures racing from an empty streak are both counted: the streak is 2 afterwards,
/// so one more failure opens a breaker with threshold 3.
#[test]
fn racing_failures_lose_no_update_of_the_streak() {
    model(|| {
        let b = CircuitBreaker::builder("loom-streak-count")
            .failure_threshold(3)
            .reset_timeout(Duration::from_secs(3600))
            .build();
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let b = b.clone();
                thread::spawn(move || b.try_acquire().expect("closed").failure())
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(b.state(), State::Closed);
        b.try_acquire().expect("closed").failure();
        assert_eq!(b.state(), State::Open, "a racing failure was lost");
        assert_eq!(b.metrics().opened_count, 1);
    });
}

/// A success and a failure race on a streak of one (threshold 2). Either the failure comes
/// first and opens the breaker (the success then lands in an old generation), or the success
/// ends the streak and the failure starts a new one of exactly 1.
#[test]
fn success_and_failure_race_on_the_streak() {
    model(|| {
        let b = CircuitBreaker::builder("loom-streak-race")
            .failure_threshold(2)
            .reset_timeout(Duration::from_secs(3600))
            .build();
        b.try_acquire().expect("closed").failure();
        let ok = {
            let b = b.clone();
            thread::spawn(move || {
                if let Ok(p) = b.try_acquire() {
                    p.success()
                }
            })
        };
        let fail = {
            let b = b.clone();
            thread::spawn(move || b.try_acquire().expect("closed").failure())
        };
        ok.join().unwrap();
        fail.join().unwrap();
        let m = b.metrics();
        assert_eq!(m.failures, 2);
        match b.state() {
            State::Open => assert_eq!(m.opened_count, 1),
            State::Closed => {
                assert_eq!(m.successes, 1);
                b.try_acquire().expect("closed").failure();
                assert_eq!(b.state(), State::Open, "the streak should have been 1");
            }
            s => panic!("unexpected state {s:?}"),
        }
    });
}

/// Two probes succeed at once with success_threshold 2: exactly one of them closes the
/// breaker, and exactly one HalfOpen → Closed event is sent.
#[test]
fn concurrent_probe_successes_close_exactly_once() {
    model(|| {
        let b = probing("loom-close-once", 2, 2);
        let p1 = b.try_acquire().expect("probe 1");
        let p2 = b.try_acquire().expect("probe 2");
        drop((p1, p2)); // cancelled: back to two free slots, no verdict
        let mut events = b.subscribe();
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let b = b.clone();
                thread::spawn(move || b.try_acquire().expect("a free slot").success())
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(b.state(), State::Closed);
        assert_eq!(
            transitions(&mut events),
            vec![(
                State::HalfOpen,
                State::Closed,
                TransitionReason::ProbesSucceeded
            )]
        );
        assert_eq!(b.metrics().successes, 2);
    });
}

/// A probe fails while another succeeds and a third call arrives: the failure re-opens the
/// breaker once, and the success never closes a phase it was not admitted in.
#[test]
fn probe_failure_and_success_race_reopens_once() {
    model(|| {
        let b = probing("loom-probe-race", 2, 1);
        let mut events = b.subscribe();
        let fail = {
            let b = b.clone();
            thread::spawn(move || {
                if let Ok(p) = b.try_acquire() {
                    p.failure()
                }
            })
        };
        let ok = {
            let b = b.clone();
            thread::spawn(move || {
                if let Ok(p) = b.try_acquire() {
                    p.success()
                }
            })
        };
        fail.join().unwrap();
        ok.join().unwrap();
        let seen = transitions(&mut events);
        let m = b.metrics();
        // Every transition the model saw is one the state machine allows, and every open
        // was announced exactly once. (When the success closes the breaker first, the
        // failing call may have been admitted in Closed and open it there.)
        let opens = seen.iter().filter(|t| t.1 == State::Open).count() as u64;
        assert_eq!(m.opened_count, 1 + opens, "{seen:?}");
        for t in &seen {
            assert!(
                matches!(
                    t,
                    (
                        State::Open,
                        State::HalfOpen,
                        TransitionReason::ResetTimeoutElapsed
                    ) | (State::HalfOpen, State::Open, TransitionReason::ProbeFailed)
                        | (
                            State::HalfOpen,
                            State::Closed,
                            TransitionReason::ProbesSucceeded
                        )
                        | (
                            State::Closed,
                            State::Open,
                            TransitionReason::FailureThreshold
                        )
                ),
                "unexpected transition {t:?}"
            );
        }
        // However it went, nothing is held: the breaker takes a call now.
        b.try_acquire().expect("no slot is leaked").ignore();
    });
}

/// Regression: a failing probe whose re-open lost its compare-and-swap to a concurrent
/// probe's success returned without re-opening, so the failure was dropped and its half-open
/// slot leaked (fixed in 4c56a9d). A failure in half-open must always re-open it.
#[test]
fn a_probe_failure_racing_a_probe_success_always_reopens() {
    model(|| {
        let b: &'static CircuitBreaker = Box::leak(Box::new(probing("loom-fail-vs-ok", 2, 2)));
        let ok = b.try_acquire().expect("probe 1");
        let fail = b.try_acquire().expect("probe 2");
        let t1 = thread::spawn(move || ok.success());
        let t2 = thread::spawn(move || fail.failure());
        t1.join().unwrap();
        t2.join().unwrap();
        let m = b.metrics();
        assert_eq!(
            m.opened_count, 2,
            "the probe failure did not re-open: {m:?}"
        );
        // Open with a zero reset timeout: the next call starts a fresh phase with both
        // slots free.
        let p1 = b.try_acquire().expect("fresh phase, slot 1");
        let p2 = b.try_acquire().expect("fresh phase, slot 2");
        drop((p1, p2));
    });
}

/// A success from an older half-open phase lands while the breaker re-opens and starts a
/// new phase: it is counted, but it neither adds to the new phase's successes nor frees one
/// of its slots.
#[test]
fn a_late_probe_result_never_touches_a_newer_phase() {
    model(|| {
        // Permits borrow their breaker and loom threads are 'static: leak this run's breaker.
        let b: &'static CircuitBreaker = Box::leak(Box::new(probing("loom-late-probe", 2, 2)));
        let stale = b.try_acquire().expect("probe 1");
        let failing = b.try_acquire().expect("probe 2");
        let late = thread::spawn(move || stale.success());
        let reopen = thread::spawn(move || {
            failing.failure();
            // Re-opened with a zero reset timeout: the next call starts a new phase.
            let p3 = b.try_acquire().expect("new phase, slot 1");
            let p4 = b.try_acquire().expect("new phase, slot 2");
            assert!(
                matches!(b.try_acquire(), Err(BreakerError::HalfOpenFull { .. })),
                "a stale result freed a slot of the new phase"
            );
            p3.success();
            assert_eq!(
                b.state(),
                State::HalfOpen,
                "a stale success counted towards closing the new phase"
            );
            p4.ignore();
        });
        late.join().unwrap();
        reopen.join().unwrap();
        let m = b.metrics();
        assert_eq!(m.opened_count, 2);
        assert_eq!(m.successes, 2);
        assert_eq!(b.state(), State::HalfOpen);
    });
}

/// Successes, failures, ignored calls and rejections from three threads are all counted.
#[test]
fn no_count_is_lost() {
    model(|| {
        let b = CircuitBreaker::builder("loom-counts")
            .failure_threshold(100)
            .failure_rate(1.0)
            .window(3)
            .minimum_calls(3)
            .build();
        let threads: Vec<_> = [Outcome::Success, Outcome::Failure, Outcome::Ignored]
            .into_iter()
            .map(|outcome| {
                let b = b.clone();
                thread::spawn(move || b.try_acquire().expect("closed").record_outcome(outcome))
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let m = b.metrics();
        assert_eq!((m.calls, m.successes, m.failures, m.ignored), (3, 1, 1, 1));
        assert_eq!(b.state(), State::Closed);
        // The window saw the two verdicts; one more success fills it to its minimum.
        b.try_acquire().expect("closed").success();
        assert_eq!(b.metrics().failure_rate, Some(1.0 / 3.0));
    });
}

/// A close (which empties the rate window) races with a success overwriting a failure in
/// it. The window's totals used to be kept beside its bits, and a clear between a bit's flip
/// and its total's update left the total at `u32::MAX`: the next calls read a 100 % failure
/// rate and opened the breaker on successes. With no clear after the race, two successes
/// must leave it closed at a rate of 0.
#[test]
fn a_window_clear_racing_a_record_keeps_the_totals_true() {
    model(|| {
        let b = CircuitBreaker::builder("loom-window-clear")
            .failure_rate(1.0)
            .minimum_calls(2)
            .window(2)
            .reset_timeout(Duration::from_secs(3600))
            .build();
        b.try_acquire().expect("closed").failure();
        b.try_acquire().expect("closed").success();
        let caller = {
            let b = b.clone();
            // Wraps to the first slot: overwrites the failure.
            thread::spawn(move || b.try_acquire().expect("closed").success())
        };
        let closer = {
            let b = b.clone();
            thread::spawn(move || {
                b.close();
                let rate = b.metrics().failure_rate.unwrap_or(0.0);
                assert!((0.0..=1.0).contains(&rate), "{rate}");
            })
        };
        caller.join().unwrap();
        closer.join().unwrap();
        for _ in 0..2 {
            b.try_acquire().expect("closed").success();
        }
        assert_eq!(b.state(), State::Closed, "opened on successes");
        assert_eq!(b.metrics().failure_rate, Some(0.0));
    });
}

/// A reconfiguration that swaps the window races with a call recording into it: the call is
/// counted once, and the breaker works on with the new window.
#[test]
fn a_reconfigure_racing_a_record_loses_no_count() {
    model(|| {
        let b = CircuitBreaker::builder("loom-reconfigure")
            .failure_rate(1.0)
            .minimum_calls(2)
            .window(2)
            .build();
        let caller = {
            let b = b.clone();
            thread::spawn(move || b.try_acquire().expect("closed").failure())
        };
        let reconfigure = {
            let b = b.clone();
            thread::spawn(move || {
                let config = breaker_runtime::BreakerConfig::builder()
                    .failure_rate(1.0)
                    .minimum_calls(2)
                    .window(3)
                    .build();
                b.reconfigure(config).unwrap();
            })
        };
        caller.join().unwrap();
        reconfigure.join().unwrap();
        let m = b.metrics();
        assert_eq!((m.calls, m.failures), (1, 1));
        assert_eq!(
            b.state(),
            State::Closed,
            "one failure is below minimum_calls"
        );
        // The racing failure landed in the old window or the new one: two more failures at
        // most fill the new one to its minimum.
        b.try_acquire().expect("closed").failure();
        if b.state() == State::Closed {
            b.try_acquire().expect("closed").failure();
        }
        assert_eq!(b.state(), State::Open, "the new window trips");
    });
}

/// A probe's success races with a call that finds the probe's half-open timeout passed: in
/// every order the phase timed out first (at its deadline), so the late success never closes
/// the breaker, and the caller becomes the next phase's probe.
#[test]
fn a_probe_verdict_racing_its_timeout_is_late_in_every_order() {
    model(|| {
        let b: &'static CircuitBreaker = Box::leak(Box::new(
            CircuitBreaker::builder("loom-probe-timeout")
                .failure_threshold(1)
                .reset_timeout(Duration::ZERO)
                .half_open_timeout(Duration::from_secs(1))
                .success_threshold(1)
                .half_open_max_calls(1)
                .build(),
        ));
        b.try_acquire().expect("closed").failure();
        let probe = b.try_acquire().expect("a probe");
        breaker_runtime::__private::loom_set_clock_ms(1_000);
        let verdict = thread::spawn(move || probe.success());
        let caller = thread::spawn(move || {
            let next = b.try_acquire().expect("the next phase's probe");
            drop(next);
        });
        verdict.join().unwrap();
        caller.join().unwrap();
        assert_eq!(
            b.state(),
            State::HalfOpen,
            "a late success closed the breaker"
        );
        assert_eq!(b.metrics().opened_count, 2, "opened, then timed out once");
    });
}

/// The open period ends while two callers and a `state()` race into half-open: one probe is
/// let in (`half_open_max_calls = 1`), the other caller is told `HalfOpenFull`, and the
/// breaker half-opens exactly once.
#[test]
fn half_open_entry_racing_callers_and_state_lets_one_probe_in() {
    model_bounded(2, || {
        let b = CircuitBreaker::builder("loom-half-open-entry")
            .failure_threshold(1)
            .reset_timeout(Duration::from_secs(1))
            .half_open_max_calls(1)
            .success_threshold(1)
            .build();
        let mut events = b.subscribe();
        b.try_acquire().expect("closed").failure();
        breaker_runtime::__private::loom_set_clock_ms(1_000);
        let admitted = Arc::new(AtomicUsize::new(0));
        let callers: Vec<_> = (0..2)
            .map(|_| {
                let (b, admitted) = (b.clone(), admitted.clone());
                thread::spawn(move || match b.try_acquire() {
                    Ok(p) => {
                        admitted.fetch_add(1, SeqCst);
                        std::mem::forget(p); // held for the rest of the run
                    }
                    Err(e) => assert!(matches!(e, BreakerError::HalfOpenFull { .. }), "{e}"),
                })
            })
            .collect();
        let looker = {
            let b = b.clone();
            thread::spawn(move || assert_eq!(b.state(), State::HalfOpen))
        };
        for t in callers {
            t.join().unwrap();
        }
        looker.join().unwrap();
        assert_eq!(admitted.load(SeqCst), 1);
        let half_opened = transitions(&mut events)
            .into_iter()
            .filter(|&(_, to, _)| to == State::HalfOpen)
            .count();
        assert_eq!(half_opened, 1);
    });
}
