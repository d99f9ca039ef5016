//! Protected streams: every item of a `Stream` of `Result`s is one call through the breaker;
//! a rejection ends the stream. On the paused clock, and over a real chunked HTTP body on
//! 127.0.0.1.

mod common;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use breaker_runtime::{BreakerError, CallError, CircuitBreaker, ProtectedStream, State};
use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// A stream that notes when it is dropped.
struct Watched<S> {
    inner: S,
    dropped: Arc<AtomicBool>,
}

impl<S: Stream + Unpin> Stream for Watched<S> {
    type Item = S::Item;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

impl<S> Drop for Watched<S> {
    fn drop(&mut self) {
        self.dropped.store(true, SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn each_item_is_a_call_and_a_rejection_ends_the_stream_and_drops_the_source() {
    let breaker = CircuitBreaker::builder("eco-stream-items")
        .failure_threshold(2)
        .build();
    let dropped = Arc::new(AtomicBool::new(false));
    let source = Watched {
        inner: stream::iter(vec![
            Ok(1),
            Ok(2),
            Err("reset"),
            Ok(3),
            Err("reset"),
            Err("reset"),
            Ok(4),
        ]),
        dropped: dropped.clone(),
    };
    let mut feed = breaker.protect_stream(source);
    let mut got = Vec::new();
    while let Some(item) = feed.next().await {
        got.push(item);
    }
    assert_eq!(
        got,
        [
            Ok(1),
            Ok(2),
            Err(CallError::Inner("reset")),
            Ok(3),
            Err(CallError::Inner("reset")),
            Err(CallError::Inner("reset")),
            Err(CallError::Breaker(BreakerError::Open {
                name: "eco-stream-items".into(),
                retry_after: Duration::from_secs(30)
            })),
        ]
    );
    assert!(
        dropped.load(SeqCst),
        "the source is dropped once the breaker ends the stream"
    );
    assert!(feed.next().await.is_none());
    assert!(futures_util::stream::FusedStream::is_terminated(&feed));
    let m = breaker.metrics();
    assert_eq!((m.successes, m.failures, m.rejected, m.calls), (3, 3, 1, 7));
}

#[tokio::test(start_paused = true)]
async fn the_end_of_a_stream_is_not_a_call_and_gives_a_half_open_slot_back() {
    let breaker = CircuitBreaker::builder("eco-stream-end")
        .failure_threshold(1)
        .half_open_max_calls(1)
        .success_threshold(2)
        .reset_timeout(Duration::from_secs(5))
        .build();
    breaker.try_acquire().unwrap().failure();
    tokio::time::advance(Duration::from_secs(5)).await;

    let items: Vec<_> = breaker
        .protect_stream(stream::iter([Ok::<_, &str>("probe")]))
        .collect()
        .await;
    assert_eq!(items, [Ok("probe")]);
    assert_eq!(breaker.state(), State::HalfOpen);
    let m = breaker.metrics();
    assert_eq!(
        (m.calls, m.successes, m.cancelled),
        (2, 1, 0),
        "the end took no call"
    );
    // The one probe slot is free again: the next call gets it and closes the breaker.
    breaker
        .try_acquire()
        .expect("the slot was given back")
        .success();
    assert_eq!(breaker.state(), State::Closed);
}

/// Regression: the breaker's predicates ran after the stream's unwind guard was disarmed, so
/// when one panicked and the caller caught it and polled on, the item's permit stayed in the
/// stream and the next item was recorded on it: 4 items taken, 3 calls counted, 0 failures.
/// A panicking predicate, like a panicking body, makes its item one failed call.
#[test]
fn a_panicking_predicate_counts_its_item_as_one_failed_call() {
    /// Panics on "poison"; otherwise says `answer`.
    fn buggy(answer: bool) -> impl Fn(&&str) -> bool + Send + Sync + 'static {
        move |e| {
            assert_ne!(*e, "poison", "predicate bug");
            answer
        }
    }
    let breakers = [
        CircuitBreaker::builder("eco-stream-failure-if-panics")
            .failure_if(buggy(true))
            .build(),
        CircuitBreaker::builder("eco-stream-ignore-if-panics")
            .ignore_if(buggy(false))
            .build(),
    ];
    for breaker in breakers {
        let mut feed = breaker.protect_stream(stream::iter([Ok(1), Err("poison"), Ok(3), Ok(4)]));
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        let (mut items, mut panics) = (Vec::new(), 0);
        loop {
            match catch_unwind(AssertUnwindSafe(|| feed.poll_next_unpin(&mut cx))) {
                Ok(Poll::Ready(Some(item))) => items.push(item),
                Ok(Poll::Ready(None)) => break,
                Ok(Poll::Pending) => unreachable!("the source is always ready"),
                Err(_) => panics += 1,
            }
        }
        assert_eq!(panics, 1, "{}", breaker.name());
        assert_eq!(items, [Ok(1), Ok(3), Ok(4)], "{}", breaker.name());
        let m = breaker.metrics();
        assert_eq!(
            (m.calls, m.successes, m.failures, m.cancelled),
            (4, 3, 1, 0),
            "{}: every item taken from the source is exactly one call",
            breaker.name()
        );
    }
}

#[tokio::test(start_paused = true)]
async fn dropping_a_waiting_stream_counts_one_cancelled_call() {
    let breaker = CircuitBreaker::builder("eco-stream-drop").build();
    // A feed that may still send (its hint leaves room for items) but is quiet.
    let quiet = stream::poll_fn(|_| Poll::<Option<Result<u8, ()>>>::Pending);
    let mut feed = ProtectedStream::new(breaker.clone(), quiet);
    assert!(tokio::time::timeout(Duration::from_secs(1), feed.next())
        .await
        .is_err());
    drop(feed);
    let m = breaker.metrics();
    assert_eq!((m.calls, m.cancelled), (1, 1));

    // `stream::pending()` says it holds no more items (`size_hint` `(0, Some(0))`): waiting
    // on it is waiting for an end, which is not a call.
    let mut feed = ProtectedStream::new(breaker.clone(), stream::pending::<Result<u8, ()>>());
    assert!(tokio::time::timeout(Duration::from_secs(1), feed.next())
        .await
        .is_err());
    drop(feed);
    let m = breaker.metrics();
    assert_eq!((m.calls, m.cancelled), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn the_wait_for_an_item_is_its_duration() {
    let breaker = CircuitBreaker::builder("eco-stream-slow")
        .slow_call(Duration::from_secs(1))
        .failure_threshold(100)
        .build();
    // Items arrive after 200 ms, 1.5 s, 300 ms and 2 s.
    let waits = [200, 1_500, 300, 2_000];
    let source = stream::unfold(0, move |i| async move {
        let wait = *waits.get(i)?;
        tokio::time::sleep(Duration::from_millis(wait)).await;
        Some((Ok::<_, ()>(i), i + 1))
    });
    let items: Vec<_> = breaker.protect_stream(Box::pin(source)).collect().await;
    assert_eq!(items.len(), 4);
    let m = breaker.metrics();
    assert_eq!((m.successes, m.slow_calls), (4, 2));
}

type Chunk = Result<&'static str, std::io::Error>;

/// Serves `GET /feed`: a chunked body whose chunks (or error) the test sends through the
/// returned channel, so it controls exactly when the body breaks off.
fn serve_feed() -> (SocketAddr, tokio::sync::mpsc::UnboundedSender<Chunk>) {
    let (chunks, rx) = tokio::sync::mpsc::unbounded_channel::<Chunk>();
    let rx = Arc::new(std::sync::Mutex::new(Some(rx)));
    let feed = move || {
        let rx = rx.lock().unwrap().take().expect("one request");
        let body = stream::unfold(rx, |mut rx| async move { Some((rx.recv().await?, rx)) });
        std::future::ready(Body::from_stream(body))
    };
    (
        common::serve(Router::new().route("/feed", get(feed))),
        chunks,
    )
}

#[tokio::test]
async fn an_http_body_broken_off_mid_stream_is_a_failure() {
    let (addr, chunks) = serve_feed();
    let breaker = CircuitBreaker::builder("eco-stream-http")
        .failure_threshold(1)
        .build();
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    chunks.send(Ok("event: one\n\n")).unwrap();
    let response = client
        .get(format!("http://{addr}/feed").parse().unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut feed = breaker.protect_stream(response.into_body().into_data_stream());

    assert_eq!(feed.next().await.unwrap().unwrap(), "event: one\n\n");
    chunks.send(Ok("event: two\n\n")).unwrap();
    assert_eq!(feed.next().await.unwrap().unwrap(), "event: two\n\n");
    assert_eq!(breaker.metrics().successes, 2);

    // The server's source fails: hyper breaks the chunked body off.
    chunks
        .send(Err(std::io::Error::other("upstream went away")))
        .unwrap();
    assert!(matches!(feed.next().await, Some(Err(CallError::Inner(_)))));
    // That failure opened the breaker, which ends the stream.
    assert!(feed.next().await.unwrap().unwrap_err().is_circuit_open());
    assert!(feed.next().await.is_none());
    let m = breaker.metrics();
    assert_eq!((m.successes, m.failures, m.rejected), (2, 1, 1));
    assert_eq!(breaker.state(), State::Open);
}

/// Regression: the permit was taken before the inner stream was polled, so reaching the end
/// of a finished stream needed an admission: while the breaker rejected, the end came out as
/// a rejection and was counted as one (and, open past its reset timeout, it half-opened the
/// breaker). A stream that says it has ended (`size_hint` `(0, Some(0))`) ends without one.
#[tokio::test(start_paused = true)]
async fn a_finished_stream_ends_without_an_admission() {
    // Forced open.
    let breaker = CircuitBreaker::builder("eco-stream-end-forced").build();
    let mut s = breaker.protect_stream(stream::iter([Ok::<_, &str>(1)]));
    assert_eq!(s.next().await, Some(Ok(1)));
    breaker.force_open();
    assert_eq!(s.next().await, None);
    assert_eq!(breaker.metrics().rejected, 0);
    assert_eq!(breaker.metrics().calls, 1);

    // Half-open with its one slot taken.
    let breaker = CircuitBreaker::builder("eco-stream-end-full")
        .failure_threshold(1)
        .half_open_max_calls(1)
        .reset_timeout(Duration::from_secs(5))
        .build();
    let mut s = breaker.protect_stream(stream::iter([Ok::<_, &str>(1)]));
    assert_eq!(s.next().await, Some(Ok(1)));
    breaker.try_acquire().unwrap().failure();
    tokio::time::advance(Duration::from_secs(5)).await;
    let probe = breaker.try_acquire().unwrap();
    assert_eq!(s.next().await, None);
    assert_eq!(breaker.metrics().rejected, 0);
    drop(probe);

    // Open past its reset timeout: the end does not half-open it (`state()` would, so the
    // event stream is what tells).
    let breaker = CircuitBreaker::builder("eco-stream-end-open")
        .failure_threshold(1)
        .reset_timeout(Duration::from_secs(5))
        .build();
    let mut s = breaker.protect_stream(stream::iter([Ok::<_, &str>(1)]));
    assert_eq!(s.next().await, Some(Ok(1)));
    breaker.try_acquire().unwrap().failure();
    tokio::time::advance(Duration::from_secs(5)).await;
    let before = breaker.metrics();
    assert_eq!(s.next().await, None);
    let after = breaker.metrics();
    assert_eq!(
        (after.calls, after.rejected, after.cancelled),
        (before.calls, before.rejected, before.cancelled)
    );
    assert!(s.next().await.is_none());
}

/// A stream that cannot tell it has ended is polled only with a permit (a poll may start
/// the next item's work): while the breaker rejects, its end shows as the rejection.
#[tokio::test(start_paused = true)]
async fn a_stream_that_cannot_tell_its_end_is_polled_only_when_admitted() {
    let breaker = CircuitBreaker::builder("eco-stream-end-unknown").build();
    let polled = Arc::new(AtomicBool::new(false));
    let seen = polled.clone();
    let feed = stream::poll_fn(move |_| {
        seen.store(true, SeqCst);
        Poll::Ready(None::<Result<u32, &str>>)
    });
    let mut s = breaker.protect_stream(feed);
    breaker.force_open();
    assert!(s.next().await.unwrap().unwrap_err().is_circuit_open());
    assert!(!polled.load(SeqCst), "a rejected call never runs");
    assert_eq!(breaker.metrics().rejected, 1);
}

/// A stream whose hint says it has ended but that yields an item all the same: the item is
/// passed on only if the breaker admits it.
#[tokio::test(start_paused = true)]
async fn an_item_after_a_wrong_end_hint_needs_an_admission() {
    struct Liar(Option<u32>);
    impl Stream for Liar {
        type Item = Result<u32, &'static str>;
        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready(self.0.take().map(Ok))
        }
        fn size_hint(&self) -> (usize, Option<usize>) {
            (0, Some(0))
        }
    }
    let breaker = CircuitBreaker::builder("eco-stream-liar").build();
    let items: Vec<_> = breaker.protect_stream(Liar(Some(7))).collect().await;
    assert_eq!(items, [Ok(7)]);
    assert_eq!(breaker.metrics().successes, 1);

    breaker.force_open();
    let mut s = breaker.protect_stream(Liar(Some(8)));
    assert!(s.next().await.unwrap().unwrap_err().is_circuit_open());
    assert!(s.next().await.is_none());
    assert_eq!(breaker.metrics().rejected, 1);
}
