//! The callers: threads and tokio tasks calling with random outcomes.

use super::*;

pub(crate) struct HeldPermit<'a> {
    pub(crate) permit: Permit<'a>,
    pub(crate) result: Result<(), u8>,
    pub(crate) _probe: ProbeGuard<'a>,
}

pub(crate) fn finish_held(s: &Shared, h: HeldPermit<'_>) {
    let HeldPermit {
        permit,
        result,
        _probe,
    } = h;
    drop(_probe); // the "body" ends before its result is recorded
    let result = s.produce(result);
    permit.record(&result);
    s.tally.recorded(&result);
}

pub(crate) fn thread_caller(s: &Shared, seed: u64, calls: u64) {
    let mut rng = Rng::new(seed);
    let mut held: Vec<HeldPermit<'_>> = Vec::new();
    let mut fail_pct = 0;
    for i in 0..calls {
        if i % 200 == 0 {
            fail_pct = rng.health();
        }
        if rng.below(4) == 0 {
            // Real time passes between calls, so open periods end and probes go out.
            std::thread::sleep(Duration::from_micros(100));
        }
        s.tally.made.fetch_add(1, SeqCst);
        match rng.below(16) {
            // A plain call with a random result.
            0..=9 => {
                let result = rng.result(fail_pct);
                let before = s.before();
                // Probes take a while, so half-open phases see several at once.
                let slow = rng.below(8) == 0 || before.0 == State::HalfOpen;
                let r = s.b.call_sync(|| {
                    let _probe = s.probes.enter(&s.b, before, &s.violations);
                    if slow {
                        std::thread::sleep(Duration::from_micros(300));
                    }
                    s.produce(result)
                });
                s.tally.returned(&r, &s.violations);
            }
            // A body that panics, caught outside: a failure, unless rejected before it ran.
            10 => {
                let before = s.before();
                let r = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    s.b.call_sync(|| -> Result<(), u8> {
                        drop(s.probes.enter(&s.b, before, &s.violations));
                        s.panic_now()
                    })
                }));
                match r {
                    Ok(r) => s.tally.returned(&r, &s.violations),
                    Err(_) => {
                        s.tally.failures.fetch_add(1, SeqCst);
                    }
                }
            }
            // A permit dropped unused: cancelled.
            11 => match s.b.try_acquire() {
                Ok(p) => {
                    drop(p);
                    s.tally.cancelled.fetch_add(1, SeqCst);
                }
                Err(_) => {
                    s.tally.rejected.fetch_add(1, SeqCst);
                }
            },
            // A permit held across other calls (often across transitions), recorded later.
            _ => {
                if held.len() >= HELD_MAX {
                    finish_held(s, held.swap_remove(0));
                }
                let before = s.before();
                match s.b.try_acquire() {
                    Ok(permit) => {
                        let probe = s.probes.enter(&s.b, before, &s.violations);
                        held.push(HeldPermit {
                            permit,
                            result: rng.result(fail_pct),
                            _probe: probe,
                        });
                    }
                    Err(_) => {
                        s.tally.rejected.fetch_add(1, SeqCst);
                    }
                }
            }
        }
        if !held.is_empty() && rng.below(3) == 0 {
            let i = rng.below(held.len() as u64) as usize;
            finish_held(s, held.swap_remove(i));
        }
    }
    for h in held {
        finish_held(s, h);
    }
}

pub(crate) async fn task_caller(s: Arc<Shared>, seed: u64, calls: u64) {
    let mut rng = Rng::new(seed);
    let mut fail_pct = 0;
    for i in 0..calls {
        if i % 50 == 0 {
            fail_pct = rng.health();
        }
        if rng.below(8) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        s.tally.made.fetch_add(1, SeqCst);
        match rng.below(10) {
            // A plain async call that yields once.
            0..=5 => {
                let result = rng.result(fail_pct);
                let before = s.before();
                let r =
                    s.b.call(|| async {
                        let _probe = s.probes.enter(&s.b, before, &s.violations);
                        if before.0 == State::HalfOpen {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        } else {
                            tokio::task::yield_now().await;
                        }
                        s.produce(result)
                    })
                    .await;
                s.tally.returned(&r, &s.violations);
            }
            // Cut by `timeout(0)` after its first poll: cancelled if it was let in.
            6 => {
                let fut = s.b.call(std::future::pending::<Result<(), u8>>);
                match tokio::time::timeout(Duration::ZERO, fut).await {
                    Ok(r) => s.tally.returned(&r, &s.violations),
                    Err(_) => {
                        s.tally.cancelled.fetch_add(1, SeqCst);
                    }
                }
            }
            // Dropped by `select!` when the other branch is ready first.
            7 => {
                tokio::select! {
                    biased;
                    r = s.b.call(|| async { tokio::task::yield_now().await; Ok::<(), u8>(()) }) => {
                        s.tally.returned(&r, &s.violations)
                    }
                    _ = std::future::ready(()) => {
                        s.tally.cancelled.fetch_add(1, SeqCst);
                    }
                }
            }
            // The body panics inside a task of its own.
            _ => {
                let ran = Arc::new(AtomicBool::new(false));
                let (task_s, task_ran) = (s.clone(), ran.clone());
                let joined = tokio::spawn(async move {
                    let before = task_s.before();
                    task_s
                        .b
                        .call(|| async {
                            drop(task_s.probes.enter(&task_s.b, before, &task_s.violations));
                            task_ran.store(true, SeqCst);
                            tokio::task::yield_now().await;
                            task_s.panic_now()
                        })
                        .await
                })
                .await;
                match joined {
                    Ok(r) => {
                        let r: Result<(), CallError<u8>> = r;
                        s.tally.returned(&r, &s.violations)
                    }
                    Err(e) => {
                        assert!(e.is_panic() && ran.load(SeqCst), "{e:?}");
                        s.tally.failures.fetch_add(1, SeqCst);
                    }
                }
            }
        }
    }
}
