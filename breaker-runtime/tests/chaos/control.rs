//! The controller (every manual control and `reconfigure`, in a loop) and the checker.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Controls {
    /// Every manual control and reconfiguration.
    All,
    /// All but `reset()` and `disable()`, which forget calls by design.
    Counting,
}

pub(crate) fn controller(
    s: &Shared,
    registry: &Registry,
    seed: u64,
    controls: Controls,
    shape: &Mutex<Shape>,
) {
    let mut rng = Rng::new(seed);
    while s.running.load(SeqCst) {
        let kinds = if controls == Controls::All { 10 } else { 8 };
        match rng.below(kinds) {
            0 => s.b.force_open(),
            1 => {
                let made = s.fails.made.load(SeqCst);
                s.b.close();
                if s.family.close_clears_rate() {
                    s.fails.cleared_at.store(made, SeqCst);
                }
            }
            2 => s.b.metrics_only(),
            3 => {
                let (config, new_shape) = random_config(s.family, &mut rng);
                match registry.reconfigure(s.b.name(), config) {
                    Ok(true) => *shape.lock().unwrap() = new_shape,
                    other => s.violations.add(format!(
                        "Registry::reconfigure({new_shape:?}) gave {other:?}"
                    )),
                }
            }
            4 => {
                let (config, new_shape) = random_config(s.family, &mut rng);
                match s.b.reconfigure(config) {
                    Ok(()) => *shape.lock().unwrap() = new_shape,
                    Err(e) => s.violations.add(format!(
                        "CircuitBreaker::reconfigure({new_shape:?}) failed: {e}"
                    )),
                }
            }
            5 => std::thread::sleep(Duration::from_micros(rng.range(50, 2_000))),
            6 => {
                // A run of quick pairs, as an operator's script might do.
                for _ in 0..rng.range(1, 200) {
                    s.b.force_open();
                    let made = s.fails.made.load(SeqCst);
                    s.b.close();
                    if s.family.close_clears_rate() {
                        s.fails.cleared_at.store(made, SeqCst);
                    }
                }
            }
            7 => {
                // Now and then enough pairs for a generation counter to come round, while
                // callers hold permits.
                if rng.below(5) == 0 {
                    let pairs = [8_192, 16_384, 20_000, 32_768][rng.below(4) as usize];
                    for _ in 0..pairs {
                        s.b.force_open();
                        s.b.close();
                    }
                    if s.family.close_clears_rate() {
                        // Only calls still in flight can be in the window now.
                        s.fails.cleared_at.store(s.fails.made.load(SeqCst), SeqCst);
                    }
                }
            }
            8 => {
                let made = s.fails.made.load(SeqCst);
                s.b.reset();
                s.fails.cleared_at.store(made, SeqCst);
            }
            _ => s.b.disable(),
        }
        // Mostly long enough for open periods to end and half-open phases to run, now and
        // then a quick succession of controls.
        match rng.below(4) {
            0 => std::thread::yield_now(),
            1 => std::thread::sleep(Duration::from_micros(rng.range(50, 1_000))),
            _ => std::thread::sleep(Duration::from_millis(rng.range(2, 25))),
        }
    }
}

pub(crate) fn checker(s: &Shared) {
    while s.running.load(SeqCst) {
        s.check_metrics();
        std::thread::yield_now();
    }
    s.check_metrics();
}

/// One stretch of chaos: callers, controller and checker until every caller is done.
pub(crate) fn chaos_phase(
    s: &Arc<Shared>,
    registry: &Registry,
    seed: u64,
    controls: Controls,
    shape: &Mutex<Shape>,
) {
    let calls_per_thread = 4_000 * scale();
    let calls_per_task = 300 * scale();
    s.running.store(true, SeqCst);
    std::thread::scope(|scope| {
        let control = scope.spawn(|| controller(s, registry, seed ^ 0xC0, controls, shape));
        let check = scope.spawn(|| checker(s));
        let callers: Vec<_> = (0..THREADS as u64)
            .map(|t| scope.spawn(move || thread_caller(s, seed ^ ((t + 1) << 8), calls_per_thread)))
            .collect();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let tasks: Vec<_> = (0..TASKS as u64)
                .map(|t| {
                    tokio::spawn(task_caller(
                        s.clone(),
                        seed ^ ((t + 100) << 16),
                        calls_per_task,
                    ))
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        for c in callers {
            c.join().unwrap();
        }
        s.running.store(false, SeqCst);
        control.join().unwrap();
        check.join().unwrap();
    });
}

/// The dependency is healthy again and nobody touches the controls: within one wait in
/// force and `success_threshold` calls the breaker is closed, every half-open slot free.
pub(crate) fn assert_recovers(s: &Shared, shape: Shape) {
    let b = &s.b;
    if matches!(b.state(), State::Open | State::HalfOpen) {
        std::thread::sleep(WAIT_MAX + Duration::from_millis(20));
        assert_eq!(
            b.state(),
            State::HalfOpen,
            "one wait later: {:?}",
            b.metrics()
        );
        let slots: Vec<_> = (0..shape.half_open_max_calls)
            .map(|i| {
                b.try_acquire().unwrap_or_else(|e| {
                    panic!(
                        "half-open slot {i} of {shape:?} is taken: {e:?}; {:?}",
                        b.metrics()
                    )
                })
            })
            .collect();
        drop(slots);
        for _ in 0..shape.success_threshold {
            b.call_sync(|| Ok::<_, u8>(())).unwrap_or_else(|e| {
                panic!("a healthy probe was rejected: {e:?}; {:?}", b.metrics())
            });
        }
        assert_eq!(b.state(), State::Closed, "{shape:?}: {:?}", b.metrics());
    }
}

/// After `close()`, only successes: it stays closed, shows no failure rate above 0 and
/// does not open.
pub(crate) fn assert_successes_keep_it_closed(s: &Shared, shape: Shape, n: u32) {
    let b = &s.b;
    if s.family == Family::Consecutive {
        // Without a rate window the rate covers every call since the last reset().
        b.reset();
    }
    let opened = b.metrics().opened_count;
    for i in 1..=n {
        b.call_sync(|| Ok::<_, u8>(()))
            .unwrap_or_else(|e| panic!("success #{i} after close() was rejected: {e:?}"));
        let m = b.metrics();
        assert_eq!(
            m.state,
            State::Closed,
            "after success #{i} of only successes: {m:?}"
        );
        assert!(
            m.failure_rate.unwrap_or(0.0) == 0.0,
            "after close() and {i} successes, failure_rate is {:?}: {m:?}",
            m.failure_rate
        );
        assert_eq!(m.opened_count, opened, "opened with only successes: {m:?}");
    }
    if let Some(span) = shape.time_span {
        // A time window forgets calls older than its span, however long it sat idle.
        std::thread::sleep(span + span / 5 + Duration::from_millis(20));
        let m = b.metrics();
        assert_eq!(
            m.failure_rate, None,
            "{span:?} after the last call the time window still holds calls: {m:?}"
        );
    }
}
