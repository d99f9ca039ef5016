//! One test per way the README's guarantees were found broken (a breaker that opened on
//! successes, a probe timed out the instant it was let in, a half-open phase that never ended,
//! a late result that counted), each the reproducer that showed it, on tokio's paused clock
//! unless it needs real threads.

use breaker_runtime::{BreakerError, CallError, CircuitBreaker, State};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::advance;

const SEC: Duration = Duration::from_secs(1);
const MS: Duration = Duration::from_millis(1);

/// Clearing the count window raced with recording: its running totals drifted, below zero
/// to `u32::MAX`, and a breaker opened on successes (reason `failure_rate`) or read a 100 %
/// failure rate after 100 successes.
#[test]
fn closing_under_load_never_leaves_failures_behind_in_the_window() {
    // A small window wraps often between two clears (the race needs a failure being
    // overwritten at the moment of a clear). Each caller fails one call in eight, so no eight
    // calls in a row hold more than two failures: a rate of 1.0 is out of reach, and any
    // automatic open (`opened_count`; `force_open` is not counted) is a skewed total.
    let b = CircuitBreaker::builder("guarantee-window-clear")
        .failure_rate(1.0)
        .minimum_calls(8)
        .window(8)
        .build();
    let (stop, calm) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let callers: Vec<_> = (0..2)
        .map(|t| {
            let (b, stop, calm) = (b.clone(), stop.clone(), calm.clone());
            std::thread::spawn(move || {
                let mut i = t;
                let mut calm_calls = 0;
                while !stop.load(Relaxed) || calm_calls < 1_000 {
                    i += 1;
                    let calm = calm.load(Relaxed);
                    calm_calls += calm as u32;
                    if let Ok(p) = b.try_acquire() {
                        if i % 8 == 0 && !calm {
                            p.failure()
                        } else {
                            p.success()
                        }
                    }
                }
            })
        })
        .collect();
    // Half a second of chaos, bounded in count too.
    let until = std::time::Instant::now() + Duration::from_millis(500);
    for _ in 0..5_000_000 {
        b.force_open();
        b.close();
        if std::time::Instant::now() > until {
            break;
        }
    }
    // The callers go on, now succeeding, past the last clear, for a thousand calls each.
    calm.store(true, Relaxed);
    stop.store(true, Relaxed);
    for c in callers {
        c.join().unwrap();
    }
    for i in 1..=100 {
        b.try_acquire()
            .unwrap_or_else(|e| panic!("success #{i} was rejected: {e}"))
            .success();
    }
    let m = b.metrics();
    assert_eq!(m.opened_count, 0, "opened on a skewed total: {m:?}");
    assert_eq!(m.state, State::Closed);
    assert_eq!(
        m.failure_rate,
        Some(0.0),
        "100 successes, no failure: {m:?}"
    );
}

/// A result held across thousands of transitions counted as current once the generation had
/// wrapped (8,192 transitions): here it would open a breaker that never saw a current failure.
#[test]
fn a_result_held_across_thousands_of_transitions_moves_nothing() {
    let b = CircuitBreaker::builder("guarantee-late-wrap")
        .failure_threshold(1)
        .build();
    for pairs in [4_096, 8_192, 12_288] {
        let late = b.try_acquire().unwrap();
        for _ in 0..pairs {
            b.force_open();
            b.close();
        }
        late.failure();
        assert_eq!(
            b.state(),
            State::Closed,
            "after {pairs} pairs of transitions"
        );
    }
    assert_eq!(b.metrics().failures, 3, "late results are still counted");
}

/// The same wrap gave a newer half-open phase's slot back twice, letting more probes in than
/// `half_open_max_calls`.
#[tokio::test(start_paused = true)]
async fn a_probe_held_across_the_wrap_gives_no_slot_to_a_newer_phase() {
    let b = CircuitBreaker::builder("guarantee-probe-wrap")
        .failure_threshold(1)
        .reset_timeout(SEC)
        .half_open_max_calls(1)
        .success_threshold(5)
        .build();
    b.try_acquire().unwrap().failure();
    advance(SEC).await;
    let old_probe = b.try_acquire().expect("a probe");
    for _ in 0..4_095 {
        b.force_open();
        b.close();
    }
    b.try_acquire().unwrap().failure();
    advance(SEC).await;
    let probe = b.try_acquire().expect("the new phase's probe");
    drop(old_probe); // must not free the new phase's only slot
    assert!(matches!(
        b.try_acquire(),
        Err(BreakerError::HalfOpenFull { .. })
    ));
    drop(probe);
}

/// The generation is driven across its whole range: from just below the wrap, held permits
/// stay late, and every rule holds on the far side.
#[tokio::test(start_paused = true)]
async fn every_rule_holds_across_the_generation_wrap() {
    let b = CircuitBreaker::builder("guarantee-gen-wrap")
        .failure_threshold(2)
        .reset_timeout(SEC)
        .half_open_timeout(SEC)
        .success_threshold(1)
        .build();
    breaker_runtime::__private::start_generation_at(&b, (1 << 60) - 3);
    let late = b.try_acquire().unwrap();
    for _ in 0..4 {
        b.force_open();
        b.close();
    }
    late.failure();
    b.try_acquire().unwrap().failure();
    assert_eq!(b.state(), State::Closed, "one current failure of two");
    b.try_acquire().unwrap().failure();
    assert_eq!(b.state(), State::Open);
    advance(SEC).await;
    let hung = b.try_acquire().expect("a probe");
    advance(SEC).await; // its half-open timeout: re-opened at this instant
    advance(SEC).await; // and the new open period is over
    assert_eq!(b.state(), State::HalfOpen);
    hung.success(); // late: its phase timed out
    assert_eq!(b.state(), State::HalfOpen);
    b.try_acquire().expect("a probe").success();
    assert_eq!(b.state(), State::Closed);
}

/// With the generation 4,098–8,191 steps past the last half-open phase (a periodic `reset()`
/// to zero metrics), the phase's start was never stored and the half-open timeout never
/// fired: a leaked probe wedged the breaker, `HalfOpenFull` an hour after a 1 s timeout.
#[tokio::test(start_paused = true)]
async fn a_leaked_probe_never_wedges_the_breaker_however_many_resets_came_before() {
    let b = CircuitBreaker::builder("guarantee-leaked-probe")
        .failure_threshold(1)
        .reset_timeout(SEC)
        .half_open_timeout(SEC)
        .half_open_max_calls(1)
        .build();
    for _ in 0..6_000 {
        b.reset();
    }
    b.try_acquire().unwrap().failure();
    advance(SEC).await;
    std::mem::forget(b.try_acquire().expect("a probe")); // leaked: never recorded
    advance(3_600 * SEC).await;
    assert_eq!(b.state(), State::HalfOpen);
    let probe = b.try_acquire().expect("a new probe, not HalfOpenFull");
    probe.success();
}

/// The half-open timeout counted from the phase's last verdict: probe 1 succeeded, 300 s
/// passed, probe 2 was let in and `state()` already said Open; a concurrent caller re-opened
/// it and probe 2's success was thrown away.
#[tokio::test(start_paused = true)]
async fn each_probe_has_its_whole_half_open_timeout() {
    for how_probe_1_ends in ["success", "cancelled", "ignored"] {
        let b = CircuitBreaker::builder(format!("guarantee-probe-timeout-{how_probe_1_ends}"))
            .failure_threshold(1)
            .reset_timeout(10 * SEC)
            .half_open_timeout(60 * SEC)
            .success_threshold(2)
            .half_open_max_calls(1)
            .build();
        b.try_acquire().unwrap().failure();
        advance(10 * SEC).await;
        let probe_1 = b.try_acquire().expect("probe 1");
        match how_probe_1_ends {
            "success" => probe_1.success(),
            "cancelled" => drop(probe_1),
            _ => probe_1.ignore(),
        }
        advance(300 * SEC).await;
        let probe_2 = b.try_acquire().expect("probe 2");
        assert_eq!(b.state(), State::HalfOpen, "{how_probe_1_ends}");
        assert!(matches!(
            b.try_acquire(),
            Err(BreakerError::HalfOpenFull { .. })
        ));
        advance(59 * SEC).await;
        assert_eq!(b.state(), State::HalfOpen, "{how_probe_1_ends}");
        probe_2.success();
        let expected = if how_probe_1_ends == "success" {
            State::Closed
        } else {
            State::HalfOpen
        };
        assert_eq!(b.state(), expected, "{how_probe_1_ends}");
        assert_eq!(b.metrics().opened_count, 1, "{how_probe_1_ends}");
    }
}

/// Opens on one failure, waits 10 s, gives its one probe 5 s: opened, then half-open 10 s
/// later.
async fn half_open_for_a_quiet_spell(name: &str) -> Arc<CircuitBreaker> {
    let b = CircuitBreaker::builder(name)
        .failure_threshold(1)
        .reset_timeout(10 * SEC)
        .half_open_timeout(5 * SEC)
        .half_open_max_calls(1)
        .build();
    b.try_acquire().unwrap().failure();
    advance(10 * SEC).await;
    b
}

/// A half-open timeout that fell due in a quiet spell re-opened from the moment a call
/// noticed it: `state()` said Open for ever, and the first call after an hour was told
/// "open; retry in 10s".
#[tokio::test(start_paused = true)]
async fn a_timeout_in_a_quiet_spell_is_dated_when_it_fell_due() {
    let b = half_open_for_a_quiet_spell("guarantee-quiet-timeout").await;
    let hung = b.try_acquire().expect("a probe");
    advance(5 * SEC - MS).await;
    assert_eq!(b.state(), State::HalfOpen);
    advance(MS).await;
    assert_eq!(b.state(), State::Open, "the probe timed out now");
    assert_eq!(b.snapshot().retry_after_ms, Some(10_000));
    advance(3_600 * SEC).await;
    assert_eq!(b.state(), State::HalfOpen);
    let probe = b.try_acquire().expect("the next call is a probe");
    probe.success();
    drop(hung);
    assert_eq!(b.metrics().opened_count, 2);
}

/// The same quiet spell, noticed first by a call rather than by `state()`.
#[tokio::test(start_paused = true)]
async fn the_first_call_after_a_timed_out_phase_and_one_reset_period_is_a_probe() {
    let b = half_open_for_a_quiet_spell("guarantee-quiet-call").await;
    std::mem::forget(b.try_acquire().expect("a probe"));
    advance(15 * SEC).await; // timed out at +5 s, open period over at +15 s
    b.try_acquire()
        .expect("a probe, not `retry in 10s`")
        .success();
}

/// A time-window bucket stopped counting at 65,535 calls: 70,000 successes then 70,000
/// failures in one bucket left the breaker Closed with a failure rate of 0.
#[tokio::test(start_paused = true)]
async fn a_burst_in_a_busy_time_bucket_still_opens_the_breaker() {
    let b = CircuitBreaker::builder("guarantee-busy-bucket")
        .failure_rate(0.5)
        .minimum_calls(10)
        .window(60 * SEC)
        .build();
    for _ in 0..70_000 {
        b.try_acquire().unwrap().success();
    }
    for _ in 0..70_000 {
        match b.try_acquire() {
            Ok(p) => p.failure(),
            Err(_) => break,
        }
    }
    assert_eq!(b.state(), State::Open);
}

/// Slow probes closed a breaker that slowness had opened: it cycled Open → HalfOpen → Closed
/// → Open while every call stayed slow.
#[tokio::test(start_paused = true)]
async fn slow_probes_keep_a_breaker_opened_by_slowness_open() {
    let b = CircuitBreaker::builder("guarantee-slow-probe")
        .slow_call(SEC)
        .slow_call_rate(0.5)
        .minimum_calls(2)
        .window(10)
        .reset_timeout(10 * SEC)
        .success_threshold(1)
        .build();
    let slow = || async {
        tokio::time::sleep(2 * SEC).await;
        Ok::<_, std::io::Error>(())
    };
    for _ in 0..2 {
        b.call(slow).await.unwrap();
    }
    assert_eq!(b.state(), State::Open);
    for round in 0..3 {
        advance(Duration::from_millis(
            b.snapshot().retry_after_ms.unwrap_or(0),
        ))
        .await;
        let r = b.call(slow).await;
        assert!(r.is_ok(), "the probe itself answered");
        assert_eq!(
            b.state(),
            State::Open,
            "round {round}: a slow probe re-opens"
        );
    }
    advance(Duration::from_millis(b.snapshot().retry_after_ms.unwrap())).await;
    b.call(|| async { Ok::<_, std::io::Error>(()) })
        .await
        .unwrap();
    assert_eq!(b.state(), State::Closed, "a quick probe closes it");
}

/// `retry_after` never exceeds the reset timeout, nor the time left before a probe.
#[tokio::test(start_paused = true)]
async fn retry_after_never_exceeds_the_time_left() {
    let b = CircuitBreaker::builder("guarantee-retry-after")
        .failure_threshold(1)
        .reset_timeout(5 * SEC)
        .build();
    b.try_acquire().unwrap().failure();
    for elapsed_ms in [0u64, 1, 512, 4_488, 4_999] {
        let left = Duration::from_millis(5_000 - elapsed_ms);
        let Err(e) = b.try_acquire() else {
            panic!("open")
        };
        assert!(e.retry_after().unwrap() <= left, "{elapsed_ms} ms: {e}");
        assert!(b.snapshot().retry_after_ms.unwrap() <= left.as_millis() as u64);
        let next = [1u64, 512, 4_488, 4_999, 5_000]
            .into_iter()
            .find(|&t| t > elapsed_ms)
            .unwrap();
        advance(Duration::from_millis(next - elapsed_ms)).await;
    }
    let r = b
        .call(|| async { Ok::<_, CallError<std::io::Error>>(()) })
        .await;
    assert!(r.is_ok(), "a probe at the deadline");
}

/// `state()` reported a timed-out probe's phase as Open, but the phase stayed half-open
/// underneath until a call came, so the probe's late success still closed the breaker.
#[tokio::test(start_paused = true)]
async fn a_probe_that_answers_after_its_timeout_is_late() {
    let b = CircuitBreaker::builder("guarantee-late-probe")
        .failure_threshold(1)
        .success_threshold(1)
        .reset_timeout(10 * SEC)
        .half_open_timeout(60 * SEC)
        .build();
    b.try_acquire().unwrap().failure();
    advance(10 * SEC).await;
    let slow = b.try_acquire().unwrap();
    advance(60 * SEC).await;
    assert_eq!(b.state(), State::Open);
    advance(5 * SEC).await;
    slow.success();
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.metrics().opened_count, 2);
}

/// `open_for(d)` opens now for exactly `d` (reason `manual`), then half-opens like any open.
#[tokio::test(start_paused = true)]
async fn open_for_opens_for_the_time_given_then_probes() {
    let b = CircuitBreaker::builder("guarantee-open-for")
        .success_threshold(1)
        .build();
    let late = b.try_acquire().unwrap();
    b.open_for(30 * SEC);
    assert_eq!(b.state(), State::Open);
    late.failure(); // admitted before: late
    let Err(e) = b.try_acquire() else {
        panic!("open")
    };
    assert_eq!(e.retry_after(), Some(30 * SEC));
    advance(30 * SEC - MS).await;
    assert_eq!(b.state(), State::Open);
    advance(MS).await;
    assert_eq!(b.state(), State::HalfOpen);
    b.try_acquire().expect("a probe").success();
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.metrics().opened_count, 1);
}

/// `settings()` shows the values in force: defaults filled in, and a reconfigure's new ones.
#[test]
fn settings_show_the_values_in_force() {
    let b = CircuitBreaker::builder("guarantee-settings")
        .failure_threshold(3)
        .build();
    let s = b.settings();
    assert_eq!(s.failure_threshold, Some(3));
    assert_eq!(
        (s.success_threshold, s.half_open_max_calls),
        (2, 2),
        "half_open_max_calls defaults to success_threshold"
    );
    assert_eq!(s.reset_timeout, 30 * SEC);
    assert_eq!(s.half_open_timeout, 60 * SEC);
    assert_eq!(s.window, None, "no rate, no window");
    let config = breaker_runtime::BreakerConfig::builder()
        .failure_rate(0.25)
        .build();
    b.reconfigure(config).unwrap();
    let s = b.settings();
    assert_eq!((s.failure_rate, s.failure_threshold), (Some(0.25), None));
    assert_eq!(s.window, Some(breaker_runtime::Window::Calls(100)));
}
