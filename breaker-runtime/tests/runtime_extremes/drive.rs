//! Running the cases: each built with `try_build`, checked against what the README says,
//! then driven open, half-open and closed on a paused clock of its own.

use super::*;

/// `try_build` gives what the README says and never panics; the breakers that build are
/// driven on the paused clock. Returns a line per case that went wrong.
pub(crate) fn run(cases: Vec<Case>) -> Vec<String> {
    let mut wrong = Vec::new();
    for (i, case) in cases.into_iter().enumerate() {
        let name = format!("extreme-{}-{i}", case.key);
        let built = catch_unwind(AssertUnwindSafe(|| {
            (case.set)(CircuitBreaker::builder(&name)).try_build()
        }));
        let breaker = match (built, case.expect) {
            (Err(panic), _) => {
                wrong.push(format!("{case}: try_build panicked: {}", message(&panic)));
                continue;
            }
            (Ok(Ok(b)), Accepted) => b,
            (Ok(Err(e)), Refused) => {
                let text = e.to_string();
                if !text.contains(&format!("`{}`", case.key)) {
                    wrong.push(format!("{case}: the error does not name the key: {text}"));
                }
                continue;
            }
            (Ok(Ok(_)), Refused) => {
                wrong.push(format!("{case}: accepted, but the README rules it out"));
                continue;
            }
            (Ok(Err(e)), Accepted) => {
                wrong.push(format!("{case}: refused, but the README allows it: {e}"));
                continue;
            }
        };
        if let Err(problem) = drive_on_a_paused_clock(&breaker, case.timing, &case.to_string()) {
            wrong.push(problem);
        }
    }
    wrong
}

/// Runs [`drive`] on a paused runtime of its own; a panic becomes the error.
pub(crate) fn drive_on_a_paused_clock(
    breaker: &Arc<CircuitBreaker>,
    timing: Timing,
    case: &str,
) -> Result<(), String> {
    let runtime = paused_runtime();
    catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(drive(breaker, timing, case))
    }))
    .map_err(|panic| format!("{case}: {}", message(&panic)))
}

pub(crate) fn message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic".into())
}

/// The breaker's own millisecond: breakers decide in whole milliseconds (crate docs, "Time"),
/// so the reset timeout in force is the setting rounded up to one: a 1 ns reset timeout
/// waits, and says `retry_after` = 1 ms. The contract's "never exceeds the reset timeout in
/// force" is checked at that granularity.
pub(crate) fn in_whole_ms(d: Duration) -> Duration {
    let ms = d.as_millis() + u128::from(!d.subsec_nanos().is_multiple_of(1_000_000));
    Duration::from_millis(ms as u64)
}

/// What must hold after every step: the counts add up, rates are rates, and an open
/// breaker's `retry_after_ms` is within the reset timeout in force.
pub(crate) fn check(b: &CircuitBreaker, bound: Duration, case: &str) {
    let m = b.metrics();
    assert_eq!(
        m.calls,
        m.successes + m.failures + m.ignored + m.rejected + m.cancelled,
        "{case}: {m:?}"
    );
    for rate in [m.failure_rate, m.slow_call_rate].into_iter().flatten() {
        assert!((0.0..=1.0).contains(&rate), "{case}: a rate of {rate}");
    }
    if let Some(ms) = b.snapshot().retry_after_ms {
        assert!(
            Duration::from_millis(ms) <= in_whole_ms(bound),
            "{case}: retry_after_ms {ms} exceeds the reset timeout in force, {bound:?}"
        );
    }
}

pub(crate) async fn drive(b: &CircuitBreaker, t: Timing, case: &str) {
    check(b, t.first, case);
    for _ in 0..3 {
        b.try_acquire().expect(case).success();
    }
    check(b, t.first, case);
    if let Some(slow) = t.slow_call {
        let r = b
            .call(|| async move {
                tokio::time::sleep(slow).await;
                Ok::<_, ()>(())
            })
            .await;
        assert!(r.is_ok(), "{case}: {r:?}");
        assert_eq!(
            b.metrics().slow_calls,
            1,
            "{case}: a call of {slow:?} is slow"
        );
        check(b, t.first, case);
    }
    if let Some(after) = t.call_timeout {
        let r = b.call(std::future::pending::<Result<(), ()>>).await;
        match r {
            Err(e) => assert!(
                e.breaker_error().is_some_and(BreakerError::is_timeout),
                "{case}: {e:?}"
            ),
            Ok(()) => panic!("{case}: a call that never ends was not cut after {after:?}"),
        }
        assert_eq!(b.metrics().timeouts, 1, "{case}");
        check(b, t.first, case);
    }

    // Open it: failures until it opens, or until it plainly cannot (a threshold of
    // u32::MAX, or more calls than a few hundred before a rate counts).
    for _ in 0..300 {
        if b.metrics().opened_count > 0 {
            break;
        }
        match b.try_acquire() {
            Ok(permit) => permit.failure(),
            Err(e) => panic!("{case}: rejected while closed: {e}"),
        }
        check(b, t.first, case);
    }
    if b.metrics().opened_count == 0 {
        assert_eq!(b.state(), State::Closed, "{case}");
        return;
    }

    // Wait it out and probe; the probe fails and re-opens it.
    let probe = wait_for_probe(b, t.first, case).await;
    probe.failure();
    assert_eq!(
        b.metrics().opened_count,
        2,
        "{case}: a failed probe re-opens"
    );
    check(b, t.reopen, case);

    // Wait out the re-open; this probe succeeds.
    let probe = wait_for_probe(b, t.reopen, case).await;
    probe.success();
    check(b, t.reopen, case);
    match b.state() {
        State::Closed => return,
        State::HalfOpen => {}
        other => panic!("{case}: {other:?} after a successful probe"),
    }

    // A probe that never reports is given up after `half_open_timeout`, and re-opens it.
    // (It reports, cancelled, only once the next probe is in: see `wait_for_probe`.)
    let silent = b.try_acquire().expect(case);
    let opened = b.metrics().opened_count;
    advance(in_whole_ms(t.half_open_timeout)).await;
    // Re-opened at the probe's deadline; the new open period counts from then, so with a
    // wait of zero it is already over (half-open again) at that same instant.
    let state = b.state();
    assert_eq!(
        b.metrics().opened_count,
        opened + 1,
        "{case}: a silent probe re-opens it"
    );
    assert!(
        state == State::Open
            || (state == State::HalfOpen && in_whole_ms(t.reopen).is_zero())
            || state == State::HalfOpen
                && b.try_acquire().is_ok_and(|p| {
                    drop(p);
                    true
                }),
        "{case}: {state:?} after a silent probe's timeout"
    );
    let probe = wait_for_probe(b, t.reopen, case).await;
    drop(silent);
    probe.success();
    check(b, t.reopen, case);
    assert!(
        matches!(b.state(), State::HalfOpen | State::Closed),
        "{case}: {:?}",
        b.state()
    );
}

/// Waits out an open breaker, checking `retry_after` on the way, and takes a probe.
pub(crate) async fn wait_for_probe<'a>(
    b: &'a CircuitBreaker,
    bound: Duration,
    case: &str,
) -> Permit<'a> {
    let err = match b.try_acquire() {
        // No wait at all: a zero reset timeout, a zero cap, or full jitter.
        Ok(probe) => return probe,
        Err(err) => err,
    };
    let retry_after = err
        .retry_after()
        .unwrap_or_else(|| panic!("{case}: an open breaker said {err}"));
    assert!(!err.to_string().is_empty());
    assert!(
        retry_after <= in_whole_ms(bound),
        "{case}: retry_after {retry_after:?} exceeds the reset timeout in force, {bound:?}"
    );
    assert_eq!(
        b.snapshot().retry_after_ms,
        Some(retry_after.as_millis() as u64),
        "{case}"
    );
    // Not a millisecond more than the time left: just before it, still open...
    if retry_after > MS {
        advance(retry_after - MS).await;
        assert_eq!(
            b.state(),
            State::Open,
            "{case}: half-open before the {retry_after:?} it said"
        );
        advance(MS).await;
    } else {
        advance(retry_after).await;
    }
    // ...and not a millisecond less either.
    assert_eq!(
        b.state(),
        State::HalfOpen,
        "{case}: still open {retry_after:?} later"
    );
    b.try_acquire()
        .unwrap_or_else(|e| panic!("{case}: the probe was rejected: {e}"))
}

pub(crate) fn assert_none_wrong(wrong: Vec<String>) {
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}
