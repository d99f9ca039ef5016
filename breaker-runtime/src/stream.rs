//! [`ProtectedStream`]: a `Stream` of `Result`s behind a breaker, for gRPC streams, SSE and
//! other feeds where every item is an answer from the dependency.

use crate::breaker::CircuitBreaker;
use crate::error::CallError;
use crate::owned::{FailOnUnwind, OwnedPermit};
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

pin_project! {
    /// A stream of `Result`s whose every item is one call through a breaker.
    ///
    /// Before it waits for an item the stream asks the breaker for a permit. If the breaker
    /// rejects it, the stream yields `Err(CallError::Breaker(..))` and ends, dropping the
    /// inner stream (closing its connection). Otherwise the item, when it arrives, is
    /// recorded: `Ok` as a success, `Err` as a failure unless the breaker's `failure_if` /
    /// `ignore_if` say otherwise, and passed on, errors wrapped in [`CallError::Inner`]. The
    /// time to wait for an item is the call's duration (for `slow_call`).
    ///
    /// Every item taken from the inner stream is exactly one call. A panic while polling the
    /// inner stream, or in a `failure_if` / `ignore_if` predicate classifying an item, records
    /// that call as a failure and keeps unwinding; a caller that catches it and polls on
    /// starts the next item as a new call. Dropping the stream while it waits for an item
    /// counts that call as cancelled.
    ///
    /// The end of the inner stream is not a call. An inner stream that says it has ended
    /// (its `size_hint()` is `(0, Some(0))`, as `stream::iter` and many others say once
    /// their last item is out) is polled for its end without a permit, so the protected
    /// stream ends with `None` whatever the breaker's state, counting nothing and moving no
    /// state. (Should such a stream yield an item after all, the item is passed on only if
    /// the breaker admits it then, and recorded.) Any other stream is polled only with a
    /// permit, since a poll may start the next item's work and a rejected call never runs:
    /// there the permit taken for a `None` is given back uncounted, but while the breaker
    /// rejects, the rejection comes before the end. `call_timeout` is not applied: how long a feed may stay quiet is the
    /// caller's to say. A half-open breaker keeps its probe slot while the stream waits, so
    /// a quiet stream can run into `half_open_timeout`.
    ///
    /// `futures-core`'s `Stream` is always available: the trait crate has no dependencies.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use breaker_runtime::{CallError, CircuitBreaker};
    /// use futures_util::{stream, StreamExt};
    ///
    /// let breaker = CircuitBreaker::builder("docs-stream").failure_threshold(2).build();
    /// let feed = stream::iter([Ok(1), Err("lost"), Err("lost"), Ok(4)]);
    /// let items: Vec<Result<u32, CallError<&str>>> = breaker.protect_stream(feed).collect().await;
    ///
    /// assert_eq!(items[0], Ok(1));
    /// assert_eq!(items[1], Err(CallError::Inner("lost")));
    /// assert_eq!(items[2], Err(CallError::Inner("lost")));
    /// assert!(items[3].as_ref().unwrap_err().is_circuit_open()); // the breaker opened: the end
    /// assert_eq!(items.len(), 4);
    /// assert_eq!(breaker.metrics().rejected, 1);
    /// # }
    /// ```
    pub struct ProtectedStream<S> {
        breaker: Arc<CircuitBreaker>,
        #[pin]
        inner: Option<S>,
        permit: Option<OwnedPermit>,
    }
}

impl<S> fmt::Debug for ProtectedStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtectedStream")
            .field("breaker", &self.breaker.name())
            .field("ended", &self.inner.is_none())
            .finish_non_exhaustive()
    }
}

impl<S> ProtectedStream<S> {
    /// `stream` behind `breaker`. Same as
    /// [`CircuitBreaker::protect_stream`](CircuitBreaker::protect_stream).
    ///
    /// ```
    /// use breaker_runtime::{CircuitBreaker, ProtectedStream};
    /// let breaker = CircuitBreaker::builder("docs-stream-new").build();
    /// let feed = futures_util::stream::iter([Ok::<_, std::io::Error>(1)]);
    /// let protected = ProtectedStream::new(breaker, feed);
    /// # let _ = protected;
    /// ```
    pub fn new(breaker: Arc<CircuitBreaker>, stream: S) -> ProtectedStream<S> {
        ProtectedStream {
            breaker,
            inner: Some(stream),
            permit: None,
        }
    }

    /// The breaker in front of the stream.
    ///
    /// ```
    /// let breaker = breaker_runtime::CircuitBreaker::builder("docs-stream-b").build();
    /// let protected = breaker.protect_stream(futures_util::stream::empty::<Result<(), ()>>());
    /// assert_eq!(protected.breaker().name(), "docs-stream-b");
    /// ```
    pub fn breaker(&self) -> &Arc<CircuitBreaker> {
        &self.breaker
    }
}

impl CircuitBreaker {
    /// Puts a stream of `Result`s behind this breaker: every item is one call, and a
    /// rejection ends the stream with an error. See [`ProtectedStream`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use breaker_runtime::CircuitBreaker;
    /// use futures_util::StreamExt;
    ///
    /// let breaker = CircuitBreaker::builder("docs-protect-stream").build();
    /// breaker.force_open();
    /// let mut feed = breaker.protect_stream(futures_util::stream::iter([Ok::<_, ()>(1)]));
    /// assert!(feed.next().await.unwrap().unwrap_err().is_circuit_open());
    /// assert!(feed.next().await.is_none());
    /// # }
    /// ```
    pub fn protect_stream<S>(self: &Arc<Self>, stream: S) -> ProtectedStream<S> {
        ProtectedStream::new(self.clone(), stream)
    }
}

impl<S, T, E> Stream for ProtectedStream<S>
where
    S: Stream<Item = Result<T, E>>,
    T: 'static,
    E: 'static,
{
    type Item = Result<T, CallError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        let Some(inner) = this.inner.as_mut().as_pin_mut() else {
            return Poll::Ready(None);
        };
        if this.permit.is_none() && inner.size_hint() == (0, Some(0)) {
            // The inner stream says it has ended: its end is not a call, so it is reached
            // without asking the breaker (nothing of the dependency runs to learn it).
            return match inner.poll_next(cx) {
                Poll::Ready(None) => {
                    this.inner.set(None);
                    Poll::Ready(None)
                }
                Poll::Pending => Poll::Pending,
                // Its hint was wrong: the item came without a permit, so it is let through
                // only if the breaker admits it now, and recorded as a call that took no time.
                Poll::Ready(Some(item)) => match OwnedPermit::acquire(this.breaker) {
                    Ok(permit) => {
                        let outcome = this.breaker.judge(&item);
                        permit.finish(outcome, false);
                        Poll::Ready(Some(item.map_err(CallError::Inner)))
                    }
                    Err(e) => {
                        this.inner.set(None);
                        Poll::Ready(Some(Err(CallError::Breaker(e))))
                    }
                },
            };
        }
        if this.permit.is_none() {
            match OwnedPermit::acquire(this.breaker) {
                Ok(permit) => *this.permit = Some(permit),
                Err(e) => {
                    this.inner.set(None);
                    return Poll::Ready(Some(Err(CallError::Breaker(e))));
                }
            }
        }
        let guard = FailOnUnwind(&mut *this.permit);
        let polled = inner.poll_next(cx);
        std::mem::forget(guard);
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                this.inner.set(None);
                if let Some(permit) = this.permit.take() {
                    permit.release();
                }
                Poll::Ready(None)
            }
            Poll::Ready(Some(item)) => {
                // Out of the stream before the predicates run: if one panics, unwinding drops
                // this local and records the item as a failure (as a panicking body is on
                // `call`). Left in the stream, the permit would carry over to the next item,
                // so two items would make one call.
                let permit = this.permit.take();
                let outcome = this.breaker.judge(&item);
                if let Some(permit) = permit {
                    permit.finish(outcome, false);
                }
                Poll::Ready(Some(item.map_err(CallError::Inner)))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            // One more item may come: the rejection.
            Some(inner) => {
                let (low, high) = inner.size_hint();
                (low.min(1), high.and_then(|h| h.checked_add(1)))
            }
            None => (0, Some(0)),
        }
    }
}

impl<S, T, E> FusedStream for ProtectedStream<S>
where
    S: Stream<Item = Result<T, E>>,
    T: 'static,
    E: 'static,
{
    fn is_terminated(&self) -> bool {
        self.inner.is_none()
    }
}
