//! Review of the hand-written call future (`CircuitBreaker::call`) and of admission: panics
//! caught at the poll, cancellation in half-open, futures never polled, rejections in every
//! state, `call_timeout` on a paused clock, reconfiguration mid-call, the generation at its
//! limit.

mod common;

use breaker_runtime::{BreakerError, CallError, CircuitBreaker, State};
use common::quiet_panics;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::advance;

const SEC: Duration = Duration::from_secs(1);
const PANIC: &str = "review: the call panics";

type R = Result<(), CallError<&'static str>>;
type Inner = Result<(), &'static str>;

/// `futures::FutureExt::catch_unwind`: polls `fut`, catching a panic in its poll; the future
/// itself is dropped only afterwards, when the caller drops this one.
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

fn caught<F: Future>(fut: F) -> CatchUnwind<F> {
    CatchUnwind(Box::pin(fut))
}

/// Opens `b` (threshold 1) and waits out a 1 s reset timeout: the next call is a probe.
async fn to_half_open(b: &CircuitBreaker) {
    b.try_acquire().unwrap().failure();
    assert_eq!(b.state(), State::Open);
    advance(SEC).await;
    assert_eq!(b.state(), State::HalfOpen);
}

fn probing(name: &str) -> Arc<CircuitBreaker> {
    CircuitBreaker::builder(name)
        .failure_threshold(1)
        .reset_timeout(SEC)
        .half_open_timeout(3_600 * SEC)
        .half_open_max_calls(1)
        .success_threshold(1)
        .build()
}

// ----- panics ---------------------------------------------------------------------------

/// `f` itself panics (it runs in the first poll): a panic in the body, so a failure, like a
/// panic in the future it would have made. The permit sat in the future's fields, not on the
/// unwinding stack, and nothing marked it: the later drop counted a cancellation.
#[tokio::test(start_paused = true)]
async fn a_panic_in_f_caught_at_the_poll_is_a_failure() {
    quiet_panics(PANIC);
    let b = CircuitBreaker::builder("review-calls-panic-in-f").build();
    let r =
        caught(b.call(|| -> std::future::Ready<Result<(), &str>> { std::panic::panic_any(PANIC) }))
            .await;
    assert!(r.is_err(), "the panic was caught");
    let m = b.metrics();
    assert_eq!((m.failures, m.cancelled), (1, 0), "{m:?}");
}

/// The same in half-open: the panicking probe fails the phase (re-opens), rather than
/// handing its slot back as a cancellation would.
#[tokio::test(start_paused = true)]
async fn a_probe_whose_f_panics_fails_the_phase() {
    quiet_panics(PANIC);
    let b = probing("review-calls-probe-f-panics");
    to_half_open(&b).await;
    let r =
        caught(b.call(|| -> std::future::Ready<Result<(), &str>> { std::panic::panic_any(PANIC) }))
            .await;
    assert!(r.is_err());
    assert_eq!(b.state(), State::Open, "{:?}", b.metrics());
}

/// A tokio task whose call's `f` panics: tokio catches the panic at the poll and drops the
/// task's future afterwards.
#[tokio::test(start_paused = true)]
async fn a_task_whose_f_panics_counts_a_failure() {
    quiet_panics(PANIC);
    let b = CircuitBreaker::builder("review-calls-task-f-panics").build();
    let task = tokio::spawn({
        let b = b.clone();
        async move {
            let _ = b
                .call(|| -> std::future::Ready<Result<(), &str>> { std::panic::panic_any(PANIC) })
                .await;
        }
    });
    assert!(task.await.unwrap_err().is_panic());
    let m = b.metrics();
    assert_eq!((m.failures, m.cancelled), (1, 0), "{m:?}");
}

/// A panic in the call's future, after it was pending once: a failure, caught at the poll or
/// by tokio; in half-open it fails the phase.
#[tokio::test(start_paused = true)]
async fn a_panic_in_the_calls_poll_is_a_failure_however_it_is_caught() {
    quiet_panics(PANIC);
    let body = || async {
        tokio::task::yield_now().await;
        std::panic::panic_any(PANIC);
        #[allow(unreachable_code)]
        Ok::<(), &str>(())
    };
    let b = CircuitBreaker::builder("review-calls-panic-in-poll").build();
    assert!(caught(b.call(body)).await.is_err());
    let task = tokio::spawn({
        let b = b.clone();
        async move {
            let _ = b.call(body).await;
        }
    });
    assert!(task.await.unwrap_err().is_panic());
    let m = b.metrics();
    assert_eq!((m.failures, m.cancelled), (2, 0), "{m:?}");

    let b = probing("review-calls-probe-panics-in-poll");
    to_half_open(&b).await;
    assert!(caught(b.call(body)).await.is_err());
    assert_eq!(b.state(), State::Open);
}

// ----- cancellation and futures never polled --------------------------------------------

/// A probe dropped while pending gives its slot back, again and again: half-open never
/// wedges, and the breaker still closes on a real probe.
#[tokio::test(start_paused = true)]
async fn probes_cancelled_while_pending_give_their_slot_back() {
    let b = probing("review-calls-cancelled-probes");
    to_half_open(&b).await;
    for _ in 0..100 {
        let mut call = pin!(b.call(std::future::pending::<Inner>));
        let waker = std::task::Waker::noop();
        assert!(call
            .as_mut()
            .poll(&mut Context::from_waker(waker))
            .is_pending());
        // The slot is taken while it runs.
        assert!(matches!(
            b.try_acquire(),
            Err(BreakerError::HalfOpenFull { .. })
        ));
    }
    let m = b.metrics();
    assert_eq!(m.cancelled, 100);
    assert_eq!(b.state(), State::HalfOpen);
    b.call(|| async { Ok::<_, &str>(()) }).await.unwrap();
    assert_eq!(b.state(), State::Closed);
}

/// A cancelled probe inside `tokio::time::timeout` and inside `select!`-like races.
#[tokio::test(start_paused = true)]
async fn probes_cut_by_an_outer_timeout_or_an_abort_give_their_slot_back() {
    let b = probing("review-calls-outer-timeout");
    to_half_open(&b).await;
    let r = tokio::time::timeout(SEC, b.call(std::future::pending::<Inner>)).await;
    assert!(r.is_err());
    let task = tokio::spawn({
        let b = b.clone();
        async move { b.call(std::future::pending::<Inner>).await }
    });
    tokio::task::yield_now().await;
    assert!(matches!(
        b.try_acquire(),
        Err(BreakerError::HalfOpenFull { .. })
    ));
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(b.metrics().cancelled, 2);
    b.try_acquire().expect("the slot is back").success();
    assert_eq!(b.state(), State::Closed);
}

/// A call future never polled takes no permit, calls nothing, counts nothing.
#[tokio::test(start_paused = true)]
async fn a_call_never_polled_takes_no_permit() {
    let b = probing("review-calls-never-polled");
    let called = AtomicBool::new(false);
    drop(b.call(|| {
        called.store(true, Relaxed);
        async { Ok::<_, &str>(()) }
    }));
    assert_eq!(b.metrics().calls, 0);
    to_half_open(&b).await;
    for _ in 0..10 {
        drop(b.call(|| {
            called.store(true, Relaxed);
            async { Ok::<_, &str>(()) }
        }));
    }
    assert!(!called.load(Relaxed));
    assert_eq!(b.metrics().calls, 1, "only the failure that opened it");
    b.try_acquire().expect("no slot was taken").success();
    assert_eq!(b.state(), State::Closed);
}

// ----- rejections -----------------------------------------------------------------------

/// Every refusing state: `f` is never called, and the error says why, with the time left.
#[tokio::test(start_paused = true)]
async fn rejected_calls_never_call_f_and_carry_the_right_error() {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    async fn call(b: &CircuitBreaker) -> R {
        b.call(|| {
            CALLS.fetch_add(1, Relaxed);
            std::future::pending::<Inner>()
        })
        .await
    }
    let b = CircuitBreaker::builder("review-calls-rejections")
        .failure_threshold(1)
        .reset_timeout(10 * SEC)
        .half_open_timeout(3_600 * SEC)
        .half_open_max_calls(1)
        .build();
    b.try_acquire().unwrap().failure();
    advance(3 * SEC).await;
    match call(&b).await {
        Err(CallError::Breaker(BreakerError::Open { retry_after, name })) => {
            assert_eq!(retry_after, 7 * SEC);
            assert_eq!(&*name, "review-calls-rejections");
        }
        other => panic!("{other:?}"),
    }
    advance(7 * SEC - Duration::from_millis(1)).await;
    match call(&b).await {
        Err(CallError::Breaker(e @ BreakerError::Open { .. })) => {
            assert_eq!(e.retry_after(), Some(Duration::from_millis(1)));
        }
        other => panic!("{other:?}"),
    }
    advance(Duration::from_millis(1)).await;
    let probe = b.try_acquire().expect("the probe");
    assert!(matches!(
        call(&b).await,
        Err(CallError::Breaker(BreakerError::HalfOpenFull { .. }))
    ));
    drop(probe);
    b.force_open();
    match call(&b).await {
        Err(CallError::Breaker(e @ BreakerError::ForcedOpen { .. })) => {
            assert!(e.is_circuit_open());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(CALLS.load(Relaxed), 0, "a rejected call ran its f");
    assert_eq!(b.metrics().rejected, 4);
}

/// Disabled and MetricsOnly let every call in (MetricsOnly counting it, Disabled not); Closed
/// after them as before.
#[tokio::test(start_paused = true)]
async fn the_manual_states_that_admit_admit() {
    let b = CircuitBreaker::builder("review-calls-manual")
        .failure_threshold(1)
        .build();
    b.disable();
    for _ in 0..3 {
        let r: R = b.call(|| async { Err("down") }).await;
        assert!(matches!(r, Err(CallError::Inner("down"))));
    }
    assert_eq!(b.state(), State::Disabled);
    assert_eq!(b.metrics().calls, 0, "Disabled records nothing");
    b.metrics_only();
    for _ in 0..3 {
        let r: R = b.call(|| async { Err("down") }).await;
        assert!(matches!(r, Err(CallError::Inner("down"))));
    }
    assert_eq!(b.state(), State::MetricsOnly);
    assert_eq!(b.metrics().failures, 3);
    b.close();
    let r: R = b.call(|| async { Err("down") }).await;
    assert!(matches!(r, Err(CallError::Inner("down"))));
    assert_eq!(b.state(), State::Open);
}

/// The generation at its 58-bit limit, and across the wrap: every state admits, refuses and
/// records as it should, and a permit from before the wrap stays late after it.
#[tokio::test(start_paused = true)]
async fn every_state_at_the_generation_limit() {
    let limit = (1u64 << 58) - 1;
    for start in [limit, limit - 1, limit - 2, (1u64 << 60) - 1, u64::MAX] {
        let b = CircuitBreaker::builder(format!("review-calls-gen-{start}"))
            .failure_threshold(2)
            .reset_timeout(SEC)
            .half_open_timeout(3_600 * SEC)
            .half_open_max_calls(1)
            .success_threshold(1)
            .build();
        breaker_runtime::__private::start_generation_at(&b, start);
        // Closed at the limit.
        b.call(|| async { Ok::<_, &str>(()) }).await.unwrap();
        let late = b.try_acquire().unwrap();
        let r: R = b.call(|| async { Err("down") }).await;
        assert!(r.is_err());
        let r: R = b.call(|| async { Err("down") }).await;
        assert!(r.is_err());
        assert_eq!(b.state(), State::Open, "start {start}");
        // Open, past the wrap.
        match b.call(|| async { Ok::<_, &str>(()) }).await {
            Err(CallError::Breaker(BreakerError::Open { retry_after, .. })) => {
                assert_eq!(retry_after, SEC)
            }
            other => panic!("start {start}: {other:?}"),
        }
        late.failure(); // from before: changes nothing
        assert_eq!(b.state(), State::Open);
        advance(SEC).await;
        let probe = b.try_acquire().expect("a probe");
        assert!(matches!(
            b.try_acquire(),
            Err(BreakerError::HalfOpenFull { .. })
        ));
        probe.success();
        assert_eq!(b.state(), State::Closed, "start {start}");
        b.force_open();
        assert!(matches!(
            b.try_acquire(),
            Err(BreakerError::ForcedOpen { .. })
        ));
        b.disable();
        b.try_acquire().unwrap().failure();
        b.metrics_only();
        b.try_acquire().unwrap().failure();
        b.close();
        b.try_acquire().unwrap().success();
        assert_eq!(b.state(), State::Closed);
        let m = b.metrics();
        assert_eq!(
            (m.successes, m.failures, m.rejected),
            (3, 4, 3),
            "start {start}: {m:?}"
        );
    }
}

// ----- call_timeout ---------------------------------------------------------------------

struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Relaxed);
    }
}

/// On the paused clock: the call is cut at exactly its timeout, its future dropped then, a
/// failure and a timeout counted; a call that answers in time is not cut.
#[tokio::test(start_paused = true)]
async fn call_timeout_on_the_paused_clock() {
    let b = CircuitBreaker::builder("review-calls-timeout")
        .call_timeout(2 * SEC)
        .failure_threshold(5)
        .build();
    let dropped = Arc::new(AtomicBool::new(false));
    let started = tokio::time::Instant::now();
    let r = b
        .call(|| {
            let flag = DropFlag(dropped.clone());
            async move {
                let _flag = flag;
                std::future::pending::<Result<(), &str>>().await
            }
        })
        .await;
    assert_eq!(started.elapsed(), 2 * SEC);
    assert!(dropped.load(Relaxed), "the cut call's future was dropped");
    match r {
        Err(CallError::Breaker(e @ BreakerError::TimedOut { .. })) => {
            assert!(e.is_timeout());
            assert!(matches!(e, BreakerError::TimedOut { after, .. } if after == 2 * SEC));
        }
        other => panic!("{other:?}"),
    }
    let m = b.metrics();
    assert_eq!((m.failures, m.timeouts, m.cancelled), (1, 1, 0), "{m:?}");
    // In time.
    let r = b
        .call(|| async {
            tokio::time::sleep(2 * SEC - Duration::from_millis(1)).await;
            Ok::<_, &str>(7)
        })
        .await;
    assert_eq!(r.unwrap(), 7);
    assert_eq!(b.metrics().successes, 1);
}

/// A timed-out probe fails the phase; a cancelled timed call gives its slot back.
#[tokio::test(start_paused = true)]
async fn a_probe_cut_by_call_timeout_fails_the_phase() {
    let b = CircuitBreaker::builder("review-calls-timeout-probe")
        .call_timeout(2 * SEC)
        .failure_threshold(1)
        .reset_timeout(SEC)
        .half_open_timeout(3_600 * SEC)
        .half_open_max_calls(1)
        .build();
    to_half_open(&b).await;
    // Cancelled before its timeout: the slot comes back.
    let r = tokio::time::timeout(SEC, b.call(std::future::pending::<Inner>)).await;
    assert!(r.is_err());
    assert_eq!(b.state(), State::HalfOpen);
    let r = b.call(std::future::pending::<Inner>).await;
    assert!(r.unwrap_err().breaker_error().unwrap().is_timeout());
    assert_eq!(b.state(), State::Open);
}

/// Reconfigured between admission and completion: the call keeps the timeout it was admitted
/// with, and its outcome is counted once.
#[tokio::test(start_paused = true)]
async fn a_call_reconfigured_between_admission_and_completion() {
    let b = CircuitBreaker::builder("review-calls-reconfigured")
        .call_timeout(2 * SEC)
        .failure_threshold(1)
        .build();
    let gate = Arc::new(tokio::sync::Notify::new());
    let task = tokio::spawn({
        let (b, gate) = (b.clone(), gate.clone());
        async move {
            b.call(|| async move {
                gate.notified().await;
                Ok::<_, &str>(())
            })
            .await
        }
    });
    tokio::task::yield_now().await;
    b.reconfigure(
        CircuitBreaker::builder("x")
            .failure_threshold(1)
            .slow_call(Duration::from_millis(1))
            .slow_call_rate(1.0)
            .config(),
    )
    .unwrap();
    let r = task.await.unwrap();
    assert!(r.unwrap_err().breaker_error().unwrap().is_timeout());
    let m = b.metrics();
    assert_eq!((m.failures, m.timeouts, m.calls), (1, 1, 1), "{m:?}");
    // And the other way: admitted with no timeout, given one mid-call.
    b.close();
    b.reconfigure(CircuitBreaker::builder("x").failure_threshold(1).config())
        .unwrap();
    let task = tokio::spawn({
        let b = b.clone();
        async move {
            b.call(|| async {
                tokio::time::sleep(10 * SEC).await;
                Ok::<_, &str>(())
            })
            .await
        }
    });
    tokio::task::yield_now().await;
    b.reconfigure(CircuitBreaker::builder("x").call_timeout(SEC).config())
        .unwrap();
    task.await.unwrap().expect("admitted with no timeout");
}

// ----- Send -----------------------------------------------------------------------------

fn assert_send<T: Send>(t: T) -> T {
    t
}

/// With `Send` inputs the call future is `Send`: it runs in a multi-threaded runtime's task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_call_future_is_send() {
    let b = CircuitBreaker::builder("review-calls-send")
        .call_timeout(SEC)
        .build();
    let b2 = b.clone();
    tokio::spawn(async move {
        assert_send(b2.call(|| async { Ok::<_, String>(1) }))
            .await
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(b.metrics().successes, 1);
}
