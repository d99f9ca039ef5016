//! Half-open slots, opening, the failure streak and racing probes.

use super::*;

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
