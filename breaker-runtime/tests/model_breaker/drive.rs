//! Running both: each operation applied to the real breaker and to the model.

use super::*;

/// What a call returned, reduced to what the model predicts.
#[derive(Debug, PartialEq)]
pub(crate) enum Seen {
    Ran,
    Rejected(Rejection),
    TimedOut,
}

pub(crate) fn seen<T>(r: &Result<T, CallError<u8>>) -> Seen {
    match r {
        Ok(_) | Err(CallError::Inner(_)) => Seen::Ran,
        Err(CallError::Breaker(e)) => match e {
            BreakerError::Open { retry_after, .. } => Seen::Rejected(Rejection::Open {
                retry_after_ms: retry_after.as_millis() as u64,
            }),
            BreakerError::HalfOpenFull { .. } => Seen::Rejected(Rejection::HalfOpenFull),
            BreakerError::ForcedOpen { .. } => Seen::Rejected(Rejection::ForcedOpen),
            BreakerError::TimedOut { .. } => Seen::TimedOut,
            other => panic!("unexpected breaker error {other:?}"),
        },
    }
}

pub(crate) fn expected(r: &Result<Ticket, Rejection>) -> Seen {
    match r {
        Ok(_) => Seen::Ran,
        Err(rej) => Seen::Rejected(*rej),
    }
}

pub(crate) fn result(body: Body) -> Result<(), u8> {
    match body {
        Body::Ok => Ok(()),
        Body::Err(e) => Err(e),
    }
}

pub(crate) const PANIC_MESSAGE: &str = "model test: the body panics";

pub(crate) fn boom() -> Result<(), u8> {
    std::panic::panic_any(PANIC_MESSAGE)
}

pub(crate) async fn step<'b>(
    b: &'b Arc<CircuitBreaker>,
    m: &mut Model,
    held: &mut Vec<(Permit<'b>, Ticket)>,
    op: Op,
) -> TestCaseResult {
    let grain = m.cfg.grain_ms();
    match op {
        Op::Call(body) => {
            let r = b.call(|| async move { result(body) }).await;
            let want = m.acquire();
            prop_assert_eq!(seen(&r), expected(&want));
            if let Ok(t) = want {
                m.record(t, outcome_of(body), false);
            }
        }
        Op::Slow(body, grains) => {
            // A call outlasting `call_timeout` is a timeout: that is `Op::Hang`.
            if m.cfg.call_timeout_ms.is_some_and(|t| grains * grain >= t) {
                return Ok(());
            }
            let took = Duration::from_millis(grains * grain);
            let r = b
                .call(|| async move {
                    advance(took).await;
                    result(body)
                })
                .await;
            let want = m.acquire();
            prop_assert_eq!(seen(&r), expected(&want));
            if let Ok(t) = want {
                m.now += grains * grain;
                m.record(t, outcome_of(body), false);
            }
        }
        Op::Panic { in_task } => {
            let r = if in_task {
                let task_b = b.clone();
                let joined =
                    tokio::spawn(async move { task_b.call(|| async { boom() }).await }).await;
                match joined {
                    Ok(r) => Some(r),
                    Err(e) => {
                        prop_assert!(e.is_panic());
                        None
                    }
                }
            } else {
                std::panic::catch_unwind(AssertUnwindSafe(|| b.call_sync(boom))).ok()
            };
            let want = m.acquire();
            match (&r, &want) {
                (None, Ok(t)) => m.record(*t, Outcome::Failure, false),
                (Some(r), Err(rej)) => prop_assert_eq!(seen(r), Seen::Rejected(*rej)),
                _ => prop_assert!(false, "panic op: got {:?}, model {:?}", r, want),
            }
        }
        Op::Cancel => {
            let fut = b.call(std::future::pending::<Result<(), u8>>);
            let r = tokio::time::timeout(Duration::ZERO, fut).await;
            let want = m.acquire();
            match (&r, &want) {
                (Err(_elapsed), Ok(t)) => m.record(*t, Outcome::Cancelled, false),
                (Ok(r), Err(rej)) => prop_assert_eq!(seen(r), Seen::Rejected(*rej)),
                _ => prop_assert!(false, "cancel op: got {:?}, model {:?}", r, want),
            }
        }
        Op::Hang => {
            let Some(timeout) = m.cfg.call_timeout_ms else {
                return Ok(());
            };
            let r = b.call(std::future::pending::<Result<(), u8>>).await;
            let want = m.acquire();
            match want {
                Ok(t) => {
                    prop_assert_eq!(seen(&r), Seen::TimedOut);
                    m.now += timeout;
                    m.record(t, Outcome::Failure, true);
                }
                Err(rej) => prop_assert_eq!(seen(&r), Seen::Rejected(rej)),
            }
        }
        Op::Hold => {
            let r = b.try_acquire();
            let want = m.acquire();
            match (r, want) {
                (Ok(p), Ok(t)) => held.push((p, t)),
                (Err(e), Err(rej)) => {
                    let r: Result<(), CallError<u8>> = Err(CallError::Breaker(e));
                    prop_assert_eq!(seen(&r), Seen::Rejected(rej));
                }
                (r, want) => prop_assert!(false, "hold: got {:?}, model {:?}", r.is_ok(), want),
            }
        }
        Op::Finish(i, fin) => {
            if held.is_empty() {
                return Ok(());
            }
            let (p, t) = held.remove(i % held.len());
            let outcome = match fin {
                Fin::Success => {
                    p.success();
                    Outcome::Success
                }
                Fin::Failure => {
                    p.failure();
                    Outcome::Failure
                }
                Fin::Ignore => {
                    p.ignore();
                    Outcome::Ignored
                }
                Fin::Drop => {
                    drop(p);
                    Outcome::Cancelled
                }
            };
            m.record(t, outcome, false);
        }
        Op::Advance(ms) => {
            advance(Duration::from_millis(ms)).await;
            m.now += ms;
        }
        Op::ForceOpen => {
            b.force_open();
            m.set_manual(MState::ForcedOpen);
        }
        Op::Disable => {
            b.disable();
            m.set_manual(MState::Disabled);
        }
        Op::MetricsOnly => {
            b.metrics_only();
            m.set_manual(MState::MetricsOnly);
        }
        Op::Close => {
            b.close();
            m.set_manual(MState::Closed { failures: 0 });
        }
        Op::Reset => {
            b.reset();
            m.reset();
        }
    }
    Ok(())
}
