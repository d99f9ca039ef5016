//! What the test saw: its own tallies, the violations it found, the probes in flight,
//! and the state every caller shares.

use super::*;

/// The test's own count of every call it made, by the bucket it must land in.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) made: AtomicU64,
    pub(crate) successes: AtomicU64,
    pub(crate) failures: AtomicU64,
    pub(crate) ignored: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) cancelled: AtomicU64,
}

impl Tally {
    pub(crate) fn returned<T>(&self, r: &Result<T, CallError<u8>>, violations: &Violations) {
        let cell = match r {
            Ok(_) | Err(CallError::Inner(NOT_A_FAILURE)) => &self.successes,
            Err(CallError::Inner(IGNORED)) => &self.ignored,
            Err(CallError::Inner(_)) => &self.failures,
            Err(CallError::Breaker(e)) => {
                if !e.is_circuit_open() || e.is_timeout() {
                    violations.add(format!("a call ended in {e:?}"));
                }
                if e.retry_after().is_some_and(|r| r > WAIT_MAX) {
                    violations.add(format!(
                        "{e:?}: longer than every wait in force ({WAIT_MAX:?})"
                    ));
                }
                &self.rejected
            }
        };
        cell.fetch_add(1, SeqCst);
    }

    pub(crate) fn recorded(&self, r: &Result<(), u8>) {
        let cell = match r {
            Ok(()) | Err(NOT_A_FAILURE) => &self.successes,
            Err(IGNORED) => &self.ignored,
            Err(_) => &self.failures,
        };
        cell.fetch_add(1, SeqCst);
    }

    pub(crate) fn counts(&self) -> [u64; 5] {
        [
            self.successes.load(SeqCst),
            self.failures.load(SeqCst),
            self.ignored.load(SeqCst),
            self.rejected.load(SeqCst),
            self.cancelled.load(SeqCst),
        ]
    }
}

pub(crate) fn counts(m: &Metrics) -> [u64; 5] {
    [m.successes, m.failures, m.ignored, m.rejected, m.cancelled]
}

#[derive(Debug, Default)]
pub(crate) struct Violations(Mutex<Vec<String>>);

impl Violations {
    pub(crate) fn add(&self, what: String) {
        let mut v = self.0.lock().unwrap();
        if v.len() < 20 {
            v.push(what);
        }
    }

    pub(crate) fn assert_none(&self, when: &str) {
        let v = self.0.lock().unwrap();
        assert!(
            v.is_empty(),
            "{when}: {} violation(s):\n{}",
            v.len(),
            v.join("\n")
        );
    }
}

/// Failures the test has made (counted before the breaker sees them), and the count when
/// whatever `failure_rate` covers was last cleared for sure.
#[derive(Debug, Default)]
pub(crate) struct FailureMarks {
    pub(crate) made: AtomicU64,
    pub(crate) cleared_at: AtomicU64,
}

/// Bodies running that count as probes (see the module docs), by the instant just before
/// their admission.
#[derive(Debug, Default)]
pub(crate) struct Probes {
    pub(crate) running: Mutex<Vec<(u64, Instant)>>,
    pub(crate) next: AtomicU64,
    pub(crate) most_seen: AtomicU64,
}

pub(crate) struct ProbeGuard<'a> {
    pub(crate) probes: &'a Probes,
    pub(crate) id: Option<u64>,
}

impl Drop for ProbeGuard<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.probes
                .running
                .lock()
                .unwrap()
                .retain(|(i, _)| *i != id);
        }
    }
}

impl Probes {
    /// Called as a body begins: `before` is `state()` and the instant read just before the
    /// call was admitted. Registers the body if it is a probe and checks the bound.
    pub(crate) fn enter<'a>(
        &'a self,
        b: &CircuitBreaker,
        before: (State, Instant),
        violations: &Violations,
    ) -> ProbeGuard<'a> {
        let (s1, t1) = before;
        let s2 = b.state();
        let t2 = Instant::now();
        let window = Duration::from_millis(RESET_MIN_MS - 2);
        if s1 != State::HalfOpen || s2 != State::HalfOpen || t2 - t1 >= window {
            return ProbeGuard {
                probes: self,
                id: None,
            };
        }
        let id = self.next.fetch_add(1, SeqCst);
        let mut running = self.running.lock().unwrap();
        running.push((id, t1));
        let young = running
            .iter()
            .filter(|(_, start)| t2.saturating_duration_since(*start) < window)
            .count() as u64;
        self.most_seen.fetch_max(young, SeqCst);
        if young > u64::from(HALF_OPEN_MAX) {
            violations.add(format!(
                "{young} probes in flight at once in one half-open phase (at most {HALF_OPEN_MAX})"
            ));
        }
        ProbeGuard {
            probes: self,
            id: Some(id),
        }
    }
}

/// Everything the threads share.
pub(crate) struct Shared {
    pub(crate) b: Arc<CircuitBreaker>,
    pub(crate) family: Family,
    pub(crate) tally: Tally,
    pub(crate) fails: FailureMarks,
    pub(crate) probes: Probes,
    pub(crate) violations: Violations,
    /// Set while calls are being made; the controller and the checker run while it is.
    pub(crate) running: AtomicBool,
}

impl Shared {
    pub(crate) fn before(&self) -> (State, Instant) {
        let t = Instant::now();
        (self.b.state(), t)
    }

    /// A body's result, counted as a failure made before the breaker sees it.
    pub(crate) fn produce(&self, r: Result<(), u8>) -> Result<(), u8> {
        if r == Err(FAILED) {
            self.fails.made.fetch_add(1, SeqCst);
        }
        r
    }

    /// Counts a failure made, then panics (the body's "result").
    pub(crate) fn panic_now<T>(&self) -> T {
        self.fails.made.fetch_add(1, SeqCst);
        std::panic::panic_any(PANIC_MESSAGE)
    }

    /// Checks one reading of the metrics.
    pub(crate) fn check_metrics(&self) {
        let cleared_at = self.fails.cleared_at.load(SeqCst);
        let m = self.b.metrics();
        let made = self.fails.made.load(SeqCst);
        let sum = m.successes + m.failures + m.ignored + m.rejected + m.cancelled;
        // `retry_after` never exceeds the reset timeout in force (at most WAIT_MAX here).
        if let Some(ms) = self.b.snapshot().retry_after_ms {
            if ms > WAIT_MAX.as_millis() as u64 {
                self.violations.add(format!(
                    "retry_after_ms {ms} exceeds every wait in force ({WAIT_MAX:?})"
                ));
            }
        }
        if m.calls != sum {
            self.violations
                .add(format!("calls {} is not the sum {sum}: {m:?}", m.calls));
        }
        if let Some(rate) = m.failure_rate {
            if !(0.0..=1.0).contains(&rate) {
                self.violations
                    .add(format!("failure_rate {rate} out of [0, 1]: {m:?}"));
            }
            let since = made - cleared_at.min(made);
            let claimed = rate * f64::from(MINIMUM_CALLS_MIN);
            if claimed > (since + IN_FLIGHT_MAX) as f64 + 1e-9 {
                self.violations.add(format!(
                    "failure_rate {rate} claims at least {claimed} failures in the window, but \
                     only {since} were made since it was last cleared (+{IN_FLIGHT_MAX} in \
                     flight): {m:?}"
                ));
            }
        }
    }
}
