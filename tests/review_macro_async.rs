//! Review of the annotated async fn's path (its body's future made at the call, run in the
//! breaker's hand-written call future): panics, cancellation in half-open, futures never
//! polled, rejections, `call_timeout`, with and without a fallback, and `Send`.

use breaker_runtime::{circuit_breaker, registry, BreakerError, CallError, CircuitBreaker, State};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::advance;

const SEC: Duration = Duration::from_secs(1);
const PANIC: &str = "review: the annotated body panics";

#[derive(Debug, PartialEq, Clone)]
enum Error {
    Down,
    Breaker(BreakerError),
}

impl From<BreakerError> for Error {
    fn from(e: BreakerError) -> Self {
        Error::Breaker(e)
    }
}

/// What the body does this time.
#[derive(Clone, Copy)]
enum Do {
    Answer,
    Fail,
    Panic,
    Hang,
}

static RUNS: AtomicU32 = AtomicU32::new(0);

async fn body(what: Do) -> Result<u32, Error> {
    RUNS.fetch_add(1, SeqCst);
    match what {
        Do::Answer => Ok(1),
        Do::Fail => Err(Error::Down),
        Do::Panic => {
            tokio::task::yield_now().await;
            std::panic::panic_any(PANIC)
        }
        Do::Hang => std::future::pending().await,
    }
}

#[circuit_breaker(
    name = "review-macro-plain",
    failure_threshold = 1,
    reset_timeout = "1s",
    half_open_timeout = "1h",
    half_open_max_calls = 1,
    success_threshold = 1
)]
async fn plain(what: Do) -> Result<u32, Error> {
    body(what).await
}

#[circuit_breaker(
    name = "review-macro-fallback",
    failure_threshold = 1,
    reset_timeout = "1s",
    half_open_timeout = "1h",
    half_open_max_calls = 1,
    success_threshold = 1,
    call_timeout = "2s",
    fallback = instead
)]
async fn with_fallback(tag: String, what: Do) -> Result<u32, Error> {
    let _ = &tag;
    body(what).await
}

static FALLBACKS: AtomicU32 = AtomicU32::new(0);

async fn instead(tag: String, _what: Do, err: CallError<Error>) -> Result<u32, Error> {
    assert_eq!(tag, "tag");
    FALLBACKS.fetch_add(1, SeqCst);
    match err {
        CallError::Inner(e) => Err(e),
        CallError::Breaker(b) => Err(Error::Breaker(b)),
    }
}

struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, ()>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = self.0.as_mut();
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(())),
        }
    }
}

fn breaker(name: &str) -> Arc<CircuitBreaker> {
    registry().get(name).expect("registered at the first call")
}

fn quiet() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() != Some(&PANIC) {
                default(info);
            }
        }));
    });
}

/// One test, in steps: the two fns' breakers are statics shared by every test of the file.
#[tokio::test(start_paused = true)]
async fn the_annotated_async_path_keeps_every_rule() {
    quiet();
    // Without fallback: an answer, then a panic caught at the poll is a failure that opens.
    assert_eq!(plain(Do::Answer).await, Ok(1));
    let b = breaker("review-macro-plain");
    assert!(CatchUnwind(Box::pin(plain(Do::Panic))).await.is_err());
    let m = b.metrics();
    assert_eq!((m.successes, m.failures, m.cancelled), (1, 1, 0), "{m:?}");
    assert_eq!(b.state(), State::Open);
    // Rejected: the body never runs, the error converts.
    let runs = RUNS.load(SeqCst);
    match plain(Do::Answer).await {
        Err(Error::Breaker(BreakerError::Open { retry_after, .. })) => {
            assert_eq!(retry_after, SEC)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(RUNS.load(SeqCst), runs, "a rejected call ran the body");
    advance(SEC).await;
    // Never polled: no permit. Cancelled while pending in half-open: the slot comes back.
    drop(plain(Do::Answer));
    for _ in 0..10 {
        let mut call = pin!(plain(Do::Hang));
        let waker = std::task::Waker::noop();
        assert!(call
            .as_mut()
            .poll(&mut Context::from_waker(waker))
            .is_pending());
        assert!(matches!(
            b.try_acquire(),
            Err(BreakerError::HalfOpenFull { .. })
        ));
    }
    assert_eq!(b.metrics().cancelled, 10);
    assert_eq!(b.state(), State::HalfOpen);
    // A panicking probe in a tokio task fails the phase.
    let task = tokio::spawn(plain(Do::Panic));
    assert!(task.await.unwrap_err().is_panic());
    assert_eq!(b.state(), State::Open);
    advance(SEC).await;
    assert_eq!(plain(Do::Answer).await, Ok(1));
    assert_eq!(b.state(), State::Closed);

    // With fallback and call_timeout: a cut call reaches the fallback as TimedOut, counted
    // once as a failure and a timeout, and opens the breaker.
    let fallbacks = FALLBACKS.load(SeqCst);
    let started = tokio::time::Instant::now();
    match with_fallback("tag".into(), Do::Hang).await {
        Err(Error::Breaker(e)) => assert!(e.is_timeout(), "{e:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(started.elapsed(), 2 * SEC);
    let fb = breaker("review-macro-fallback");
    let m = fb.metrics();
    assert_eq!((m.failures, m.timeouts), (1, 1), "{m:?}");
    assert_eq!(fb.state(), State::Open);
    let runs = RUNS.load(SeqCst);
    assert!(matches!(
        with_fallback("tag".into(), Do::Answer).await,
        Err(Error::Breaker(BreakerError::Open { .. }))
    ));
    assert_eq!(RUNS.load(SeqCst), runs, "a rejected call ran the body");
    assert_eq!(FALLBACKS.load(SeqCst), fallbacks + 2);
    advance(SEC).await;
    // A probe cancelled by an outer timeout gives its slot back; a failing one re-opens.
    assert!(
        tokio::time::timeout(SEC, with_fallback("tag".into(), Do::Hang))
            .await
            .is_err()
    );
    assert_eq!(fb.state(), State::HalfOpen);
    assert_eq!(
        with_fallback("tag".into(), Do::Fail).await,
        Err(Error::Down)
    );
    assert_eq!(fb.state(), State::Open);
    advance(SEC).await;
    // Send: the annotated fn's future runs on a multi-threaded runtime's task.
    fn send<T: Send>(t: T) -> T {
        t
    }
    let answered = tokio::spawn(send(with_fallback("tag".into(), Do::Answer)))
        .await
        .unwrap();
    assert_eq!(answered, Ok(1));
    assert_eq!(fb.state(), State::Closed);
}
