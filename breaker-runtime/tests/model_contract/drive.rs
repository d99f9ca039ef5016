//! Driving the real breaker: each operation applied to it and to the model, and the
//! comparison after every step.

use super::*;

pub(crate) struct Held<'a> {
    pub(crate) permit: Permit<'a>,
    pub(crate) ticket: Ticket,
}

pub(crate) fn describe(e: &BreakerError) -> &'static str {
    match e {
        BreakerError::Open { .. } => "Open",
        BreakerError::HalfOpenFull { .. } => "HalfOpenFull",
        BreakerError::ForcedOpen { .. } => "ForcedOpen",
        BreakerError::TimedOut { .. } => "TimedOut",
        _ => "another BreakerError",
    }
}

/// Checks a real rejection against the model's.
pub(crate) fn check_rejection(got: &BreakerError, want: Admission, ctx: &str) -> TestCaseResult {
    match (got, want) {
        (BreakerError::Open { retry_after, .. }, Admission::RejectOpen { left, in_force }) => {
            let left = Duration::from_millis(left);
            let in_force = Duration::from_millis(in_force);
            prop_assert!(
                *retry_after <= left && *retry_after <= in_force,
                "retry_after {:?} exceeds the time left {:?} or the wait in force {:?} {}",
                retry_after,
                left,
                in_force,
                ctx
            );
            prop_assert_eq!(
                *retry_after,
                left,
                "retry_after on the paused clock is the time left {}",
                ctx
            );
        }
        (BreakerError::HalfOpenFull { .. }, Admission::RejectHalfOpenFull)
        | (BreakerError::ForcedOpen { .. }, Admission::RejectForcedOpen) => {}
        _ => prop_assert!(
            false,
            "rejected with {} ({:?}), the model says {:?} {}",
            describe(got),
            got,
            want,
            ctx
        ),
    }
    Ok(())
}

/// `try_acquire` on both; the permit if both admit.
pub(crate) fn acquire<'a>(
    b: &'a CircuitBreaker,
    m: &mut Model,
    ctx: &str,
) -> Result<Option<Held<'a>>, TestCaseError> {
    let want = m.acquire();
    match (b.try_acquire(), want) {
        (Ok(permit), Admission::Admit(ticket)) => Ok(Some(Held { permit, ticket })),
        (Ok(_), want) => Err(TestCaseError::fail(format!(
            "admitted, the model says {want:?} {ctx}"
        ))),
        (Err(e), Admission::Admit(_)) => Err(TestCaseError::fail(format!(
            "rejected with {} ({e:?}), the model admits {ctx}",
            describe(&e)
        ))),
        (Err(e), want) => {
            check_rejection(&e, want, ctx)?;
            Ok(None)
        }
    }
}

pub(crate) fn finish_real(p: Permit<'_>, v: Verdict) {
    match v {
        Verdict::Success => p.success(),
        Verdict::Failure => p.failure(),
        Verdict::Ignore => p.ignore(),
        Verdict::Drop => drop(p),
    }
}

/// Finishes a held permit on both, settling the open question of a Disabled breaker's
/// count from what the breaker did (0 or +1, in the right bucket only).
pub(crate) fn finish(
    b: &CircuitBreaker,
    m: &mut Model,
    h: Held<'_>,
    v: Verdict,
    ctx: &str,
) -> TestCaseResult {
    m.settle();
    let open_question = m.count_is_open_question(&h.ticket);
    let sure = m.counts_for_sure(&h.ticket);
    let before = open_question.then(|| b.metrics());
    finish_real(h.permit, v);
    let counted = if let Some(before) = before {
        let after = b.metrics();
        let delta = after.calls.wrapping_sub(before.calls);
        let bucket = |x: &Metrics| match v {
            Verdict::Success => x.successes,
            Verdict::Failure => x.failures,
            Verdict::Ignore => x.ignored,
            Verdict::Drop => x.cancelled,
        };
        let bucket_delta = bucket(&after).wrapping_sub(bucket(&before));
        prop_assert!(
            (delta, bucket_delta) == (0, 0) || (delta, bucket_delta) == (1, 1),
            "a {:?} at the edge of Disabled moved calls by {} and its bucket by {} {}",
            v,
            delta,
            bucket_delta,
            ctx
        );
        delta == 1
    } else {
        sure
    };
    m.finish(h.ticket, v, counted);
    Ok(())
}

pub(crate) async fn step<'a>(
    b: &'a CircuitBreaker,
    m: &mut Model,
    held: &mut Vec<Held<'a>>,
    op: Op,
    ctx: &str,
) -> TestCaseResult {
    match op {
        Op::Acquire => {
            if held.len() < MAX_HELD {
                if let Some(h) = acquire(b, m, ctx)? {
                    held.push(h);
                }
            }
        }
        Op::Finish(i, v) => {
            if !held.is_empty() {
                let h = held.remove(i % held.len());
                finish(b, m, h, v, ctx)?;
            }
        }
        Op::Call(v) => {
            if let Some(h) = acquire(b, m, ctx)? {
                finish(b, m, h, v, ctx)?;
            }
        }
        Op::CallSync(body) => {
            m.settle();
            let want = m.acquire();
            let mut ran = false;
            let r = std::panic::catch_unwind(AssertUnwindSafe(|| {
                b.call_sync(|| {
                    ran = true;
                    match body {
                        Body::Ok => Ok(()),
                        Body::Err(e) => Err(e),
                        Body::Panic => std::panic::panic_any(PANIC_MESSAGE),
                    }
                })
            }));
            match want {
                Admission::Admit(ticket) => {
                    prop_assert!(ran, "admitted by the model, the body never ran {}", ctx);
                    let v = match body {
                        Body::Ok | Body::Err(NOT_A_FAILURE) => Verdict::Success,
                        Body::Err(IGNORED) => Verdict::Ignore,
                        Body::Err(_) | Body::Panic => Verdict::Failure,
                    };
                    match (&r, body) {
                        (Err(_), Body::Panic) => {}
                        (Ok(Ok(())), Body::Ok) => {}
                        (Ok(Err(CallError::Inner(e))), Body::Err(want_e)) if *e == want_e => {}
                        _ => {
                            prop_assert!(false, "call_sync returned {:?} for {:?} {}", r, body, ctx)
                        }
                    }
                    // Admitted and finished in one state: no Disabled edge.
                    let counted = ticket.mode != Mode::Disabled;
                    m.finish(ticket, v, counted);
                }
                want => {
                    prop_assert!(!ran, "a rejected call ran its body {}", ctx);
                    match r {
                        Ok(Err(CallError::Breaker(e))) => check_rejection(&e, want, ctx)?,
                        other => prop_assert!(
                            false,
                            "call_sync gave {:?}, the model rejects with {:?} {}",
                            other.map_err(|_| "panic"),
                            want,
                            ctx
                        ),
                    }
                }
            }
        }
        Op::AsyncCancelled => {
            m.settle();
            let want = m.acquire();
            let fut = b.call(std::future::pending::<Result<(), u8>>);
            let r = tokio::time::timeout(Duration::ZERO, fut).await;
            match want {
                Admission::Admit(ticket) => {
                    prop_assert!(
                        r.is_err(),
                        "an admitted pending call returned {:?} {}",
                        r,
                        ctx
                    );
                    let counted = ticket.mode != Mode::Disabled;
                    m.finish(ticket, Verdict::Drop, counted);
                }
                want => match r {
                    Ok(Err(CallError::Breaker(e))) => check_rejection(&e, want, ctx)?,
                    other => prop_assert!(
                        false,
                        "got {:?}, the model rejects with {:?} {}",
                        other,
                        want,
                        ctx
                    ),
                },
            }
        }
        Op::Advance(a) => {
            let c = m.cfg;
            let ms = match a {
                Adv::Zero => 0,
                Adv::OneMs => 1,
                Adv::Reset => c.reset_ms,
                Adv::ResetMinus1 => c.reset_ms.saturating_sub(1),
                Adv::ResetPlus1 => c.reset_ms + 1,
                Adv::HalfOpenTimeout => c.half_open_timeout_ms,
                Adv::HalfOpenTimeoutMinus1 => c.half_open_timeout_ms - 1,
                Adv::HalfOpenTimeoutPlus1 => c.half_open_timeout_ms + 1,
                Adv::Hours(h) => u64::from(h) * 3_600_000,
                Adv::Ms(ms) => ms,
                Adv::ToDue(off) => match m.next_due() {
                    Some(due) => (due as i64 + i64::from(off) - m.now as i64).max(0) as u64,
                    None => 1,
                },
            };
            tokio::time::advance(Duration::from_millis(ms)).await;
            m.advance(ms);
        }
        Op::ForceOpen => {
            b.force_open();
            m.force_open();
        }
        Op::Close => {
            b.close();
            m.close();
        }
        Op::Reset => {
            b.reset();
            m.reset();
        }
        Op::Disable => {
            b.disable();
            m.disable();
        }
        Op::MetricsOnly => {
            b.metrics_only();
            m.metrics_only();
        }
        Op::Burst(pairs) => {
            for _ in 0..pairs {
                b.force_open();
                b.close();
            }
            for _ in 0..pairs {
                m.force_open();
                m.close();
            }
        }
        Op::Fill(n, v) => {
            for _ in 0..n {
                if let Some(h) = acquire(b, m, ctx)? {
                    finish(b, m, h, v, ctx)?;
                }
            }
        }
        Op::Flood(n, v) => {
            let mut flood = Vec::new();
            for _ in 0..n {
                if let Some(h) = acquire(b, m, ctx)? {
                    flood.push(h);
                }
            }
            for h in flood {
                finish(b, m, h, v, ctx)?;
            }
        }
    }
    m.settle();
    Ok(())
}

pub(crate) fn check(b: &CircuitBreaker, m: &Model, ctx: &str) -> TestCaseResult {
    let state = b.state();
    prop_assert_eq!(state, m.mode.state(), "state {}", ctx);
    m.check_metrics(&b.metrics(), ctx)?;
    let snap = b.snapshot();
    match m.mode {
        Mode::Open => {
            let left = m.open_until - m.now;
            prop_assert!(
                snap.retry_after_ms
                    .is_some_and(|r| r <= left && r <= m.wait_in_force),
                "snapshot retry_after_ms {:?}: the time left is {} ms, the wait in force {} ms {}",
                snap.retry_after_ms,
                left,
                m.wait_in_force,
                ctx
            );
        }
        // A probe may be let in now, or nothing is waited for: nothing to wait.
        Mode::Closed | Mode::HalfOpen | Mode::Disabled | Mode::MetricsOnly => prop_assert!(
            snap.retry_after_ms.unwrap_or(0) == 0,
            "snapshot retry_after_ms {:?} while {:?} {}",
            snap.retry_after_ms,
            m.mode,
            ctx
        ),
        Mode::ForcedOpen => {}
    }
    Ok(())
}
