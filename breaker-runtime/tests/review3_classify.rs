//! Review 3: the builder's `classify` when it panics, returns `Cancelled`, judges probes,
//! and in shared/registry/family settings.

use breaker_runtime::{registry, BreakerConfig, CircuitBreaker, Outcome, State};
use std::time::Duration;

fn panics_on_ok(r: &Result<u8, String>) -> Outcome {
    match r {
        Ok(_) => panic!("classifier panicked"),
        Err(_) => Outcome::Failure,
    }
}

/// The contract: "A panic in the body is a failure; the panic goes on unwinding." A panic
/// in the verdict happens inside the call too; `call_sync` counts it a failure (its permit
/// is a local, dropped while unwinding).
#[test]
fn a_panicking_classifier_in_call_sync_counts_a_failure() {
    let b = CircuitBreaker::builder("rev3-classify-panic-sync")
        .failure_threshold(1)
        .reset_timeout(Duration::from_secs(3600))
        .classify(panics_on_ok)
        .build();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = b.call_sync(|| Ok::<u8, String>(1));
    }));
    assert!(r.is_err(), "the panic goes on");
    let m = b.metrics();
    assert_eq!((m.failures, m.cancelled), (1, 0), "{m:?}");
    assert_eq!(b.state(), State::Open);
}

/// The same for `call` in a spawned task: tokio catches the panic and drops the future
/// afterwards, no longer unwinding. The body's panic is marked (`MarkOnUnwind`); a panic in
/// the verdict is not, so the call is counted cancelled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_classifier_in_a_spawned_call_counts_a_failure() {
    let b = CircuitBreaker::builder("rev3-classify-panic-async")
        .failure_threshold(1)
        .reset_timeout(Duration::from_secs(3600))
        .classify(panics_on_ok)
        .build();
    let b2 = b.clone();
    let joined = tokio::spawn(async move {
        let _ = b2.call(|| async { Ok::<u8, String>(1) }).await;
    })
    .await;
    assert!(joined.unwrap_err().is_panic());
    let m = b.metrics();
    assert_eq!(
        (m.failures, m.cancelled),
        (1, 0),
        "a panicking verdict counted as a cancellation: {m:?}"
    );
    assert_eq!(b.state(), State::Open);
}

/// In half-open the difference matters: a probe whose verdict panicked gives its slot back
/// (cancelled) and the breaker stays half-open, rather than re-opening.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_classifier_on_a_spawned_probe_reopens() {
    let b = CircuitBreaker::builder("rev3-classify-panic-probe")
        .failure_threshold(1)
        .reset_timeout(Duration::from_millis(50))
        .classify(panics_on_ok)
        .build();
    let _ = b.call_sync(|| Err::<u8, String>("down".into()));
    assert_eq!(b.state(), State::Open);
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(b.state(), State::HalfOpen);
    let b2 = b.clone();
    let joined = tokio::spawn(async move {
        let _ = b2.call(|| async { Ok::<u8, String>(1) }).await;
    })
    .await;
    assert!(joined.unwrap_err().is_panic());
    assert_eq!(
        b.state(),
        State::Open,
        "probe with a panicking verdict: {:?}",
        b.metrics()
    );
}

/// `Permit::record` with a panicking classifier: the permit is moved in, dropped while
/// unwinding: a failure.
#[test]
fn a_panicking_classifier_in_permit_record_counts_a_failure() {
    let b = CircuitBreaker::builder("rev3-classify-panic-permit")
        .failure_threshold(1)
        .classify(panics_on_ok)
        .build();
    let p = b.try_acquire().unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        p.record(&Ok::<u8, String>(1))
    }));
    assert!(r.is_err());
    assert_eq!(b.metrics().failures, 1);
}

fn cancelled(_: &Result<u8, String>) -> Outcome {
    Outcome::Cancelled
}

/// A classifier that answers `Cancelled` (not one of the documented three): in half-open
/// the probe gives its slot back, and nothing wedges.
#[test]
fn a_classifier_answering_cancelled_never_wedges_half_open() {
    let b = CircuitBreaker::builder("rev3-classify-cancelled")
        .failure_threshold(1)
        .half_open_max_calls(1)
        .reset_timeout(Duration::from_millis(20))
        .classify(cancelled)
        .build();
    b.force_open();
    b.close();
    let _ = b.call_sync(|| Err::<u16, String>("other type: failure".into()));
    assert_eq!(b.state(), State::Open);
    std::thread::sleep(Duration::from_millis(60));
    for _ in 0..5 {
        assert!(
            b.call_sync(|| Ok::<u8, String>(1)).is_ok(),
            "{:?}",
            b.state()
        );
    }
    assert_eq!(b.state(), State::HalfOpen);
    assert_eq!(b.metrics().cancelled, 5);
}

fn fail_everything(_: &Result<u8, String>) -> Outcome {
    Outcome::Failure
}

/// A family made with a config that has a `classify`: its members ask it.
#[test]
fn a_familys_members_ask_the_classify_of_its_config() {
    let config = BreakerConfig::builder()
        .failure_threshold(1)
        .reset_timeout(Duration::from_secs(3600))
        .classify(fail_everything)
        .build();
    let fam = registry().family("rev3-fam-classify", config);
    let m = fam.get("a");
    assert!(m.settings().has_classify());
    let _ = m.call_sync(|| Ok::<u8, String>(1));
    assert_eq!(
        m.state(),
        State::Open,
        "an Ok the family's classify calls a failure"
    );
}

/// `get_or_create` twice with two classifiers: the first wins.
#[test]
fn the_first_classify_wins_in_get_or_create() {
    let a = registry().get_or_create(
        "rev3-goc-classify",
        BreakerConfig::builder()
            .failure_threshold(1)
            .classify(fail_everything)
            .build(),
    );
    let b = registry().get_or_create(
        "rev3-goc-classify",
        BreakerConfig::builder()
            .failure_threshold(1)
            .classify(cancelled)
            .build(),
    );
    assert!(std::sync::Arc::ptr_eq(&a, &b));
    let _ = b.call_sync(|| Ok::<u8, String>(1));
    assert_eq!(b.state(), State::Open);
}

/// A config load over a breaker from `get_or_create` with a classify keeps it.
#[cfg(feature = "config")]
#[test]
fn a_config_load_keeps_classify_and_applies_the_file() {
    let b = registry().get_or_create(
        "rev3-load-classify",
        BreakerConfig::builder()
            .failure_threshold(5)
            .classify(fail_everything)
            .build(),
    );
    breaker_runtime::config::load_str_into(
        registry(),
        "[breakers.\"rev3-load-classify\"]\nfailure_threshold = 1\n",
    )
    .unwrap();
    assert!(b.settings().has_classify());
    let _ = b.call_sync(|| Ok::<u8, String>(1));
    assert_eq!(b.state(), State::Open);
}

/// An executor that catches a poll's panic and drops the future afterwards (as the call
/// future's own comments consider: "an executor that catches it would drop a permit that
/// counts a cancellation"). The body's panic is marked; the verdict's is not.
#[test]
fn a_panicking_classifier_under_a_catching_executor_counts_a_failure() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let b = CircuitBreaker::builder("rev3-classify-panic-catching")
        .failure_threshold(1)
        .reset_timeout(Duration::from_secs(3600))
        .classify(panics_on_ok)
        .build();
    let mut fut = Box::pin(b.call(|| async { Ok::<u8, String>(1) }));
    let mut cx = Context::from_waker(Waker::noop());
    let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        matches!(fut.as_mut().poll(&mut cx), Poll::Ready(_))
    }));
    assert!(polled.is_err(), "the verdict panicked");
    drop(fut);
    let m = b.metrics();
    assert_eq!(
        (m.failures, m.cancelled),
        (1, 0),
        "a panicking verdict counted as a cancellation: {m:?}"
    );
}

/// The same with the body panicking: marked, a failure (the control case).
#[test]
fn a_panicking_body_under_a_catching_executor_counts_a_failure() {
    use std::future::Future;
    use std::task::{Context, Waker};
    let b = CircuitBreaker::builder("rev3-body-panic-catching")
        .failure_threshold(1)
        .reset_timeout(Duration::from_secs(3600))
        .build();
    let mut fut = Box::pin(b.call(|| async {
        if true {
            panic!("body");
        }
        Ok::<u8, String>(1)
    }));
    let mut cx = Context::from_waker(Waker::noop());
    let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = fut.as_mut().poll(&mut cx);
    }));
    assert!(polled.is_err());
    drop(fut);
    let m = b.metrics();
    assert_eq!((m.failures, m.cancelled), (1, 0), "{m:?}");
}

fn probe_verdict(r: &Result<u8, String>) -> Outcome {
    match r {
        Ok(0) => Outcome::Ignored,
        Ok(_) => Outcome::Success,
        Err(_) => Outcome::Failure,
    }
}

/// Probes judged by the builder's classify: an ignored probe gives its slot back, a
/// success closes, an `Ok` judged a failure re-opens.
#[test]
fn half_open_probes_are_judged_by_classify() {
    let b = CircuitBreaker::builder("rev3-classify-probes")
        .failure_threshold(1)
        .success_threshold(1)
        .half_open_max_calls(1)
        .reset_timeout(Duration::from_millis(20))
        .classify(probe_verdict)
        .build();
    let _ = b.call_sync(|| Err::<u8, String>("down".into()));
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(b.state(), State::HalfOpen);
    for _ in 0..3 {
        let _ = b.call_sync(|| Ok::<u8, String>(0));
        assert_eq!(
            b.state(),
            State::HalfOpen,
            "an ignored probe decides nothing"
        );
    }
    let _ = b.call_sync(|| Ok::<u8, String>(1));
    assert_eq!(b.state(), State::Closed);
}

/// Reconfigurations adding and dropping a classify while calls run: nothing panics, every
/// call is counted once, and calls made while a classify is in force see it.
#[test]
fn reconfiguring_classify_while_calls_run() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    let b = CircuitBreaker::builder("rev3-classify-reconf")
        .failure_threshold(1_000_000)
        .build();
    let done = AtomicBool::new(false);
    let reconfigs = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let (b1, done, reconfigs) = (b.clone(), &done, &reconfigs);
        s.spawn(move || {
            let mut i = 0;
            while !done.load(SeqCst) {
                let config = if i % 2 == 0 {
                    BreakerConfig::builder()
                        .failure_threshold(1_000_000)
                        .classify(fail_everything)
                        .build()
                } else {
                    BreakerConfig::builder()
                        .failure_threshold(1_000_000)
                        .build()
                };
                b1.reconfigure(config).unwrap();
                i += 1;
                reconfigs.fetch_add(1, SeqCst);
            }
        });
        let callers: Vec<_> = (0..2)
            .map(|_| {
                let b2 = b.clone();
                s.spawn(move || {
                    while reconfigs.load(SeqCst) < 10 {
                        std::thread::yield_now();
                    }
                    for _ in 0..20_000 {
                        let _ = b2.call_sync(|| Ok::<u8, String>(1));
                    }
                })
            })
            .collect();
        for c in callers {
            c.join().unwrap();
        }
        done.store(true, SeqCst);
    });
    let m = b.metrics();
    assert_eq!(m.successes + m.failures, 40_000, "{m:?}");
    // Which calls met which config depends on the threads' timing, so that much is left to
    // the order below: after the races, each reconfiguration is in force at once.
    for (with_classify, failures) in [(true, 1), (false, 0)] {
        let mut config = BreakerConfig::builder().failure_threshold(1_000_000);
        if with_classify {
            config = config.classify(fail_everything);
        }
        b.reconfigure(config.build()).unwrap();
        let before = b.metrics().failures;
        let _ = b.call_sync(|| Ok::<u8, String>(1));
        assert_eq!(
            b.metrics().failures - before,
            failures,
            "classify {with_classify}"
        );
    }
}

/// `reconfigure` with a config that has a classify: calls ask it from then on.
#[test]
fn reconfigure_adds_a_classify() {
    let b = CircuitBreaker::builder("rev3-classify-reconf-seq").build();
    b.reconfigure(
        BreakerConfig::builder()
            .failure_threshold(1)
            .classify(fail_everything)
            .build(),
    )
    .unwrap();
    assert!(b.settings().has_classify());
    let _ = b.call_sync(|| Ok::<u8, String>(1));
    assert_eq!(b.state(), State::Open, "{:?}", b.metrics());
}

/// A protected stream whose verdict panics on an item, under an executor that catches the
/// panic and keeps the stream: the item is a failure, and the next item is a call of its own.
#[test]
fn a_panicking_classifier_in_a_protected_stream_counts_a_failure() {
    use futures_util::StreamExt;
    use std::task::{Context, Waker};
    let b = CircuitBreaker::builder("rev3-classify-panic-stream")
        .failure_threshold(10)
        .classify(panics_on_ok)
        .build();
    let mut s = b.protect_stream(futures_util::stream::iter([
        Ok::<u8, String>(1),
        Err("x".to_owned()),
    ]));
    let mut cx = Context::from_waker(Waker::noop());
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = s.poll_next_unpin(&mut cx);
    }));
    assert!(r.is_err());
    let _ = s.poll_next_unpin(&mut cx);
    drop(s);
    let m = b.metrics();
    assert_eq!((m.failures, m.cancelled), (2, 0), "{m:?}");
}
