//! The pieces every bench file shares: the protected call and the smallest executor.
// Each bench is its own crate and uses only some of these.
#![allow(dead_code)]

use breaker_runtime::BreakerError;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

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
