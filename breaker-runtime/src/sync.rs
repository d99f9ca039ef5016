//! The atomics and the lock the state machine runs on: std's normally, loom's under `--cfg loom` so the
//! model checker can explore every interleaving (see `tests/loom_*.rs`).
//!
//! Only per-breaker state goes through here. Process-wide statics (the thread index of the
//! counters, the jitter seed, the registry, the clock's epoch) stay on std: loom objects
//! cannot outlive one model run.

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering},
    Mutex,
};
#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering},
    Mutex,
};

/// The pointer in an atomic the caller owns exclusively (std's `get_mut`; loom has no such
/// method, only `with_mut`).
#[cfg(not(loom))]
#[inline]
pub(crate) fn exclusive_ptr<T>(p: &mut AtomicPtr<T>) -> *mut T {
    *p.get_mut()
}

/// The pointer in an atomic the caller owns exclusively (std's `get_mut`; loom has no such
/// method, only `with_mut`).
#[cfg(loom)]
pub(crate) fn exclusive_ptr<T>(p: &mut AtomicPtr<T>) -> *mut T {
    p.with_mut(|v| *v)
}
