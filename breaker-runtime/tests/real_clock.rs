//! Breakers on the production clock. Built without the `test-util` feature (as `.ci/run`
//! does for this file) they read the coarse monotonic clock on Linux, which lags the precise
//! one by up to a kernel tick; with it, tokio's clock, unpaused. No fixed sleeps: each wait is
//! a condition polled under a generous bound.

use breaker_runtime::{CircuitBreaker, State};
use std::time::{Duration, Instant};

/// Right after opening with a 5 s reset timeout, every rejection said `retry in 5.007s`: the
/// coarse clock's lag landed on the user.
#[test]
fn retry_after_never_exceeds_the_reset_timeout() {
    let b = CircuitBreaker::builder("real-clock-retry")
        .failure_threshold(1)
        .reset_timeout(Duration::from_secs(5))
        .build();
    b.try_acquire().unwrap().failure();
    for _ in 0..200 {
        let e = b.try_acquire().unwrap_err();
        let retry = e.retry_after().unwrap();
        assert!(retry <= Duration::from_secs(5), "{e}: {retry:?}");
        let shown = b.snapshot().retry_after_ms.unwrap();
        assert!(shown <= 5_000, "snapshot says {shown} ms");
    }
}

/// A short reset timeout on the real clock: the breaker half-opens, lets a probe in, and the
/// probe's success closes it.
#[test]
fn a_breaker_recovers_on_the_real_clock() {
    let b = CircuitBreaker::builder("real-clock-recovery")
        .failure_threshold(1)
        .success_threshold(1)
        .reset_timeout(Duration::from_millis(20))
        .build();
    b.try_acquire().unwrap().failure();
    assert_eq!(b.state(), State::Open);
    let deadline = Instant::now() + Duration::from_secs(10);
    let probe = loop {
        match b.try_acquire() {
            Ok(p) => break p,
            Err(e) => {
                assert!(Instant::now() < deadline, "still open after 10 s: {e}");
                std::thread::yield_now();
            }
        }
    };
    probe.success();
    assert_eq!(b.state(), State::Closed);
}
