//! Calls made from inside a call of the same breaker (an annotated function that recurses,
//! or two that share a `name` and call each other) run under the outer call's permit: they
//! are neither admitted nor recorded again. Without this, a recursive call in half-open
//! finds no slot left (`HalfOpenFull`) and the breaker never recovers, and in Closed one
//! failing call that recursed once counts two failures.
//!
//! Each thread keeps a list, on its own stack, of the breakers running a call on it: a sync
//! call is on it while its body runs, an async call while its future is polled (a nested
//! call's future is polled from inside the outer one's `poll`, so it sees the outer call). A
//! future spawned elsewhere, polled by another task, is a call of its own. The list is put
//! back when the body returns or unwinds. The common case, no call running on this thread,
//! costs one thread-local load and a null check.

use crate::breaker::CircuitBreaker;

/// One call running on this thread: its breaker, and the frame of the call it runs inside.
#[cfg(not(loom))]
pub(crate) struct Frame {
    breaker: *const CircuitBreaker,
    parent: *const Frame,
}

#[cfg(not(loom))]
std::thread_local! {
    static CURRENT: std::cell::Cell<*const Frame> = const { std::cell::Cell::new(std::ptr::null()) };
}

/// The innermost call running on this thread (null for none).
#[cfg(not(loom))]
#[inline]
pub(crate) fn current() -> *const Frame {
    CURRENT.with(std::cell::Cell::get)
}

/// Whether `breaker` runs a call in `frame` or one of the calls around it.
#[cfg(not(loom))]
#[inline]
pub(crate) fn runs(mut frame: *const Frame, breaker: &CircuitBreaker) -> bool {
    while !frame.is_null() {
        // SAFETY: every frame in the list lives on the stack of a call on this thread that
        // has not returned yet: `enter` takes it off the list before its frame goes away,
        // on return and on unwind alike.
        let f = unsafe { &*frame };
        if std::ptr::eq(f.breaker, breaker) {
            return true;
        }
        frame = f.parent;
    }
    false
}

/// Runs `f` with `breaker` on this thread's list of running calls, above `parent` (what
/// [`current`] returned); takes it off again when `f` returns or unwinds.
#[cfg(not(loom))]
#[inline]
pub(crate) fn enter<R>(parent: *const Frame, breaker: &CircuitBreaker, f: impl FnOnce() -> R) -> R {
    struct Restore(*const Frame);
    impl Drop for Restore {
        #[inline]
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let frame = Frame { breaker, parent };
    CURRENT.with(|c| c.set(&frame));
    let _restore = Restore(parent);
    f()
}

// Under loom every modelled thread shares one OS thread, so a thread-local would mix their
// calls up: the models run without the check (they make no nested calls).

#[cfg(loom)]
pub(crate) type Frame = ();

#[cfg(loom)]
#[inline]
pub(crate) fn current() -> *const Frame {
    std::ptr::null()
}

#[cfg(loom)]
#[inline]
pub(crate) fn runs(_: *const Frame, _: &CircuitBreaker) -> bool {
    false
}

#[cfg(loom)]
#[inline]
pub(crate) fn enter<R>(_: *const Frame, _: &CircuitBreaker, f: impl FnOnce() -> R) -> R {
    f()
}
