//! The pieces every bench file shares: the protected call and the smallest executor.
// Each bench is its own crate and uses only some of these.
#![allow(dead_code)]

use breaker_runtime::{BreakerConfig, BreakerError, CircuitBreaker};
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::time::Duration;

/// The error type of every protected call: zero-sized, so results are as small as they get.
#[derive(Debug)]
pub struct BenchError;

impl From<BreakerError> for BenchError {
    fn from(_: BreakerError) -> Self {
        BenchError
    }
}

pub type Res = Result<u64, BenchError>;

/// The dependency: an answer, opaque to the optimiser.
#[inline(always)]
pub fn ok() -> Res {
    Ok(black_box(1))
}

#[inline(always)]
pub fn fail() -> Res {
    Err(black_box(BenchError))
}

/// A waker that does nothing (`Waker::noop` is newer than the workspace's MSRV).
pub fn noop_waker() -> Waker {
    const VTABLE: RawWakerVTable = RawWakerVTable::new(|_| RAW, |_| {}, |_| {}, |_| {});
    const RAW: RawWaker = RawWaker::new(std::ptr::null(), &VTABLE);
    // SAFETY: every function of the vtable ignores the (null) data pointer.
    unsafe { Waker::from_raw(RAW) }
}

/// The smallest executor: polls a future that is ready at once, once.
#[inline(always)]
pub fn poll_once<F: Future>(cx: &mut Context<'_>, fut: F) -> F::Output {
    match pin!(fut).poll(cx) {
        Poll::Ready(v) => v,
        Poll::Pending => unreachable!("the benchmarked futures are ready at once"),
    }
}

/// Our policies as every bench measures them, by name: 5 failures in a row, a 50 % failure
/// rate over the last 100 calls or over 60 s, and slow calls over 1 s.
pub fn policies() -> [(&'static str, BreakerConfig); 4] {
    [
        (
            "consecutive",
            BreakerConfig::builder().failure_threshold(5).build(),
        ),
        (
            "count_window",
            BreakerConfig::builder()
                .failure_rate(0.5)
                .window(100u32)
                .build(),
        ),
        (
            "time_window",
            BreakerConfig::builder()
                .failure_rate(0.5)
                .window(Duration::from_secs(60))
                .build(),
        ),
        (
            "slow_call",
            BreakerConfig::builder()
                .slow_call(Duration::from_secs(1))
                .build(),
        ),
    ]
}

/// The policy of [`policies`] named `name`.
pub fn policy(name: &str) -> BreakerConfig {
    let (_, config) = policies()
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no policy `{name}`"));
    config
}

/// Ours, open for `reset_timeout` from now.
pub fn open_breaker(name: impl Into<String>, reset_timeout: Duration) -> Arc<CircuitBreaker> {
    let b = CircuitBreaker::builder(name)
        .failure_threshold(1)
        .reset_timeout(reset_timeout)
        .build();
    let _ = b.call_sync(fail);
    assert!(b.call_sync(ok).is_err(), "must be open");
    b
}

pub type FailsafeConsecutive = failsafe::StateMachine<
    failsafe::failure_policy::ConsecutiveFailures<failsafe::backoff::Constant>,
    (),
>;

/// failsafe with its cheapest policy, the one ours is compared with: 5 failures in a row.
pub fn failsafe_consecutive() -> FailsafeConsecutive {
    let backoff = failsafe::backoff::constant(Duration::from_secs(30));
    failsafe::Config::new()
        .failure_policy(failsafe::failure_policy::consecutive_failures(5, backoff))
        .build()
}

/// Ours, half-open for an hour: one probe at a time can be admitted and given back without a
/// verdict (`ignore`), so it stays half-open however long a bench runs.
pub fn half_open_breaker(name: impl Into<String>) -> Arc<CircuitBreaker> {
    let b = CircuitBreaker::builder(name)
        .failure_threshold(1)
        .reset_timeout(Duration::from_millis(1))
        .half_open_timeout(Duration::from_secs(3600))
        .build();
    let _ = b.call_sync(fail);
    std::thread::sleep(Duration::from_millis(5));
    b.try_acquire().expect("half-open admits a probe").ignore();
    assert_eq!(b.state(), breaker_runtime::State::HalfOpen);
    b
}

/// recloser, half-open for good: it has no "give back", so its half-open successes go to a
/// ring whose threshold is set below any rate, which never closes it.
pub fn half_open_recloser() -> recloser::Recloser {
    let rc = recloser::Recloser::custom()
        .closed_len(1)
        .half_open_len(10)
        .error_rate_closed(0.5)
        .error_rate_half_open(-2.0)
        .open_wait(Duration::from_millis(1))
        .build();
    let _ = rc.call(fail);
    let _ = rc.call(fail);
    std::thread::sleep(Duration::from_millis(5));
    rc
}
