//! Review of the metrics publisher: counts read from the breakers' own counters by
//! `publish()`, the background thread, transitions and drops must add up exactly, however
//! those race, and a breaker dropped during a publication must not deadlock it.
#![cfg(feature = "metrics")]

use breaker_runtime::metrics_export::{publish, set_publish_interval};
use breaker_runtime::{CallError, CircuitBreaker};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

fn recorder() -> (PrometheusRecorder, PrometheusHandle) {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    (recorder, handle)
}

/// `breaker_calls_total{breaker=name, outcome}` in `text`, 0 if absent.
fn calls(text: &str, name: &str, outcome: &str) -> u64 {
    let series = format!(r#"breaker_calls_total{{breaker="{name}",outcome="{outcome}"}} "#);
    text.lines()
        .find_map(|l| l.strip_prefix(series.as_str()))
        .map_or(0, |v| v.trim().parse().unwrap())
}

#[derive(Default)]
struct Tally {
    successes: AtomicU64,
    failures: AtomicU64,
    rejected: AtomicU64,
}

/// Publishes in a loop until stopped: a publication racing everything else.
fn publisher(stop: Arc<AtomicBool>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        while !stop.load(Relaxed) {
            publish();
            thread::yield_now();
        }
    })
}

/// Breakers of one name, each used by two threads that open, close and reset it and then
/// drop their references (the last one sometimes inside a publication), while `publish()`
/// and the background thread run: every call is published exactly once.
#[test]
fn racing_publications_transitions_resets_and_drops_add_up_exactly() {
    set_publish_interval(Duration::from_millis(10));
    let (recorder, handle) = recorder();
    let name = "review-metrics-race";
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let publishing = publisher(stop.clone());
    for _round in 0..6 {
        let workers: Vec<_> = (0..4)
            .flat_map(|_| {
                let b = metrics::with_local_recorder(&recorder, || {
                    CircuitBreaker::builder(name).failure_threshold(1).build()
                });
                [b.clone(), b]
            })
            .map(|b| {
                let tally = tally.clone();
                thread::spawn(move || {
                    for i in 0..5_000u32 {
                        let r = if i % 50 == 0 {
                            b.call_sync(|| Err::<(), _>("down"))
                        } else {
                            b.call_sync(|| Ok::<_, &str>(()))
                        };
                        match r {
                            Ok(()) => tally.successes.fetch_add(1, Relaxed),
                            Err(CallError::Inner(_)) => tally.failures.fetch_add(1, Relaxed),
                            Err(CallError::Breaker(_)) => tally.rejected.fetch_add(1, Relaxed),
                        };
                        if i % 50 == 25 {
                            b.close();
                        }
                        if i % 500 == 499 {
                            b.reset();
                        }
                    }
                    drop(b);
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
    }
    stop.store(true, Relaxed);
    publishing.join().unwrap();
    // Every breaker is gone: their drops published the rest. One more publication adds
    // nothing.
    for _ in 0..2 {
        let text = handle.render();
        assert_eq!(
            (
                calls(&text, name, "success"),
                calls(&text, name, "failure"),
                calls(&text, name, "rejected"),
                calls(&text, name, "cancelled"),
            ),
            (
                tally.successes.load(Relaxed),
                tally.failures.load(Relaxed),
                tally.rejected.load(Relaxed),
                0
            ),
        );
        publish();
    }
}

/// The last reference to a breaker dropped by `publish()` itself (it held one while reading
/// the counts), over and over, with transitions on other threads: no deadlock, nothing lost.
#[test]
fn breakers_dropped_during_publications_never_deadlock() {
    let (recorder, handle) = recorder();
    let name = "review-metrics-drop-in-publish";
    let (done_tx, done_rx) = mpsc::channel();
    let breakers: Vec<_> = (0..2_000)
        .map(|_| {
            metrics::with_local_recorder(&recorder, || {
                CircuitBreaker::builder(name).failure_threshold(1).build()
            })
        })
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let publishing = publisher(stop.clone());
    let worker = thread::spawn(move || {
        for b in breakers {
            b.call_sync(|| Ok::<_, &str>(())).unwrap();
            let _ = b.call_sync(|| Err::<(), _>("down"));
            // A transition on another thread while this one drops the breaker.
            let other = {
                let b = b.clone();
                thread::spawn(move || {
                    b.close();
                    drop(b);
                })
            };
            drop(b);
            other.join().unwrap();
        }
        done_tx.send(()).unwrap();
    });
    done_rx
        .recv_timeout(Duration::from_secs(120))
        .expect("deadlocked: publications and drops stopped making progress");
    worker.join().unwrap();
    stop.store(true, Relaxed);
    publishing.join().unwrap();
    let text = handle.render();
    assert_eq!(calls(&text, name, "success"), 2_000);
    assert_eq!(calls(&text, name, "failure"), 2_000);
}

/// A transition publishes the counts that led to it, at once: no `publish()` needed to see
/// the failures that opened the breaker next to its `open` state. And the counters never go
/// back, whatever `reset()` does to `metrics()`.
#[test]
fn a_transition_publishes_the_counts_that_led_to_it_and_resets_take_nothing_back() {
    let (recorder, handle) = recorder();
    let name = "review-metrics-transition";
    let b = metrics::with_local_recorder(&recorder, || {
        CircuitBreaker::builder(name).failure_threshold(3).build()
    });
    for _ in 0..3 {
        let _ = b.call_sync(|| Err::<(), _>("down"));
    }
    let text = handle.render();
    assert!(text.contains(&format!(
        r#"breaker_state{{breaker="{name}",state="open"}} 1"#
    )));
    assert_eq!(calls(&text, name, "failure"), 3, "{text}");
    b.reset();
    assert_eq!(b.metrics().failures, 0);
    publish();
    assert_eq!(calls(&handle.render(), name, "failure"), 3);
    let _ = b.call_sync(|| Err::<(), _>("down"));
    publish();
    assert_eq!(calls(&handle.render(), name, "failure"), 4);
}
