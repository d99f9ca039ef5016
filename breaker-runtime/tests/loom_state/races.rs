//! Late results, counts that must not be lost, and the races of a window clear, a
//! reconfigure, a probe's timeout and the half-open entry against calls.

use super::*;

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
