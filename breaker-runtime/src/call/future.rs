//! [`CallFuture`]: an async call under a breaker, written out by hand rather than as an
//! `async` block, so that a closed call costs what `try_acquire` and a record cost: the
//! caller's future is made once, in place, and polled there; no timer exists unless the
//! breaker has a `call_timeout`.

use super::Describe;
use crate::breaker::CircuitBreaker;
use crate::error::{BreakerError, CallError};
use crate::permit::{Outcome, Permit};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Sleep;

pin_project! {
    /// A call: admitted on its first poll, so a future that is never polled takes no
    /// permit, and `f` runs only once the call is let in. Dropped before it finishes, its
    /// permit counts the call as cancelled (or failed, after a panic in `poll`).
    pub(crate) struct CallFuture<'a, F, Fut, C, E> {
        breaker: &'a CircuitBreaker,
        classify: C,
        // Writes an error that opens the breaker as the open's cause.
        describe: Describe<E>,
        // Whether the first poll asked for admission.
        started: bool,
        // Whether it runs inside a call of the same breaker, under that call's permit.
        nested: bool,
        // Makes the call's future at admission (unless it was given made).
        f: Option<F>,
        // From admission until the call is recorded.
        permit: Option<Permit<'a>>,
        // With `call_timeout`: the timer, boxed so that calls without one do not carry its
        // bytes, and the timeout it was set for.
        timer: Option<(Pin<Box<Sleep>>, Duration)>,
        #[pin]
        fut: Option<Fut>,
    }
}

impl<'a, F, Fut, C, E> CallFuture<'a, F, Fut, C, E> {
    /// A call whose future `f` makes once the call is let in.
    #[inline]
    pub(crate) fn new(
        breaker: &'a CircuitBreaker,
        classify: C,
        describe: Describe<E>,
        f: F,
    ) -> Self {
        CallFuture {
            breaker,
            classify,
            describe,
            started: false,
            nested: false,
            f: Some(f),
            permit: None,
            timer: None,
            fut: None,
        }
    }
}

impl<'a, Fut, C, E> CallFuture<'a, fn() -> Fut, Fut, C, E> {
    /// A call whose future is made already (an annotated fn's body, which costs nothing to
    /// make): it stays where it is from here, moved no more, and is dropped unpolled if the
    /// call is refused.
    #[inline]
    pub(crate) fn made(
        breaker: &'a CircuitBreaker,
        classify: C,
        describe: Describe<E>,
        fut: Fut,
    ) -> Self {
        CallFuture {
            breaker,
            classify,
            describe,
            started: false,
            nested: false,
            f: None,
            permit: None,
            timer: None,
            fut: Some(fut),
        }
    }
}

impl<F, Fut, T, E, C> Future for CallFuture<'_, F, Fut, C, E>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    C: Fn(&CircuitBreaker, &Result<T, E>) -> Outcome,
{
    type Output = Result<T, CallError<E>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let breaker: &CircuitBreaker = this.breaker;
        let parent = super::reentry::current();
        if !*this.started {
            *this.started = true;
            // Polled from inside a call of this breaker: it runs under that call's permit.
            *this.nested = !parent.is_null() && super::reentry::runs(parent, breaker);
            if !*this.nested {
                let admission = breaker.admission();
                let Some(ticket) = admission.ticket() else {
                    return Poll::Ready(Err(CallError::Breaker(breaker.rejection(admission))));
                };
                let permit = this.permit.insert(Permit::new(breaker, ticket));
                // A panic in `f` (or in making the timer) is the call's too: marked like one
                // in the poll below, or an executor that catches it would drop a permit that
                // counts a cancellation (and gives a probe's slot back rather than failing
                // the phase).
                let mark = MarkOnUnwind(permit);
                if let Some(after) = breaker.in_force().call_timeout {
                    *this.timer = Some((Box::pin(tokio::time::sleep(after)), after));
                }
                if let Some(f) = this.f.take() {
                    this.fut.set(Some(f()));
                }
                std::mem::forget(mark);
            }
        }
        if *this.nested {
            // Judged though not recorded, as in `run_sync`.
            return poll_nested(this.f, this.fut, cx, |r| (this.classify)(breaker, r));
        }
        let (Some(permit), Some(fut)) = (this.permit.as_mut(), this.fut.as_mut().as_pin_mut())
        else {
            panic!("a breaker's call future was polled after it completed");
        };
        // The permit is marked if `poll` unwinds: an executor that catches the panic drops
        // this future only afterwards, no longer unwinding, and the mark makes that drop
        // count a failure rather than a cancellation.
        let mark = MarkOnUnwind(permit);
        // A call of this breaker made while `fut` is polled is nested in this one.
        let polled = super::reentry::enter(parent, breaker, || fut.poll(cx));
        std::mem::forget(mark);
        let result = match polled {
            Poll::Ready(result) => result,
            Poll::Pending => {
                let Some((timer, after)) = this.timer else {
                    return Poll::Pending;
                };
                if timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                let after = *after;
                // The call is cut: dropped now, counted as a failure.
                this.fut.set(None);
                if let Some(permit) = this.permit.take() {
                    permit.finish(Outcome::Failure, true);
                }
                return Poll::Ready(Err(CallError::Breaker(BreakerError::TimedOut {
                    name: breaker.shared_name().clone(),
                    after,
                })));
            }
        };
        // A verdict that panics is the call's panic too: marked, as for the body above.
        let outcome = match this.permit.as_mut() {
            Some(permit) => {
                let mark = MarkOnUnwind(permit);
                let outcome = (this.classify)(breaker, &result);
                std::mem::forget(mark);
                outcome
            }
            None => (this.classify)(breaker, &result),
        };
        if let Some(permit) = this.permit.take() {
            super::cause::finish(permit, outcome, &result, *this.describe);
        }
        Poll::Ready(result.map_err(CallError::Inner))
    }
}

/// A call nested in a running call of the same breaker: its future is made and polled as
/// it is, with no permit, no timer and no record (the outer call has all three).
#[inline(never)]
fn poll_nested<F, Fut, T, E>(
    f: &mut Option<F>,
    mut fut: Pin<&mut Option<Fut>>,
    cx: &mut Context<'_>,
    judge: impl FnOnce(&Result<T, E>) -> Outcome,
) -> Poll<Result<T, CallError<E>>>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    if let Some(f) = f.take() {
        fut.set(Some(f()));
    }
    let Some(inner) = fut.as_mut().as_pin_mut() else {
        panic!("a breaker's call future was polled after it completed");
    };
    let Poll::Ready(result) = inner.poll(cx) else {
        return Poll::Pending;
    };
    fut.set(None);
    judge(&result);
    Poll::Ready(result.map_err(CallError::Inner))
}

/// Marks the permit as panicked if `poll` unwinds; disarmed with `mem::forget` when it
/// returns.
struct MarkOnUnwind<'p, 'a>(&'p mut Permit<'a>);

impl Drop for MarkOnUnwind<'_, '_> {
    fn drop(&mut self) {
        self.0.mark_panicked();
    }
}
