//! Feature `metrics` as it is out of the box: counts published from the breaker's own
//! counters by the background thread (no work on the call path), at a drop, and on demand;
//! no duration histograms unless asked for. A binary of its own: `record_durations` is
//! process-wide, and the other metrics tests turn it on.
#![cfg(feature = "metrics")]

use breaker_runtime::metrics_export::{publish, set_publish_interval};
use breaker_runtime::CircuitBreaker;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use std::time::{Duration, Instant};

fn recorder() -> (PrometheusRecorder, PrometheusHandle) {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    (recorder, handle)
}

/// `breaker_calls_total{breaker=name, outcome}` in `text`, 0 if absent.
fn calls(text: &str, name: &str, outcome: &str) -> f64 {
    let series = format!(r#"breaker_calls_total{{breaker="{name}",outcome="{outcome}"}} "#);
    text.lines()
        .find_map(|l| l.strip_prefix(series.as_str()))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

#[test]
fn durations_are_off_unless_asked_for() {
    let (recorder, handle) = recorder();
    let breaker = metrics::with_local_recorder(&recorder, || {
        CircuitBreaker::builder("eco-default-durations").build()
    });
    breaker.call_sync(|| Ok::<_, ()>(())).unwrap();
    publish();
    let text = handle.render();
    assert_eq!(calls(&text, "eco-default-durations", "success"), 1.0);
    assert!(
        !text.contains("breaker_call_duration_seconds"),
        "a histogram without record_durations(true):\n{text}"
    );
}

#[test]
fn the_background_thread_publishes_counts_without_being_asked() {
    set_publish_interval(Duration::from_millis(20));
    let (recorder, handle) = recorder();
    let breaker = metrics::with_local_recorder(&recorder, || {
        CircuitBreaker::builder("eco-default-background").build()
    });
    for _ in 0..7 {
        breaker.call_sync(|| Ok::<_, ()>(())).unwrap();
    }
    let _ = breaker.call_sync(|| Err::<(), _>("down"));
    // Real time: wait for the thread, with a generous bound, never a fixed sleep.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = handle.render();
        let (ok, failed) = (
            calls(&text, "eco-default-background", "success"),
            calls(&text, "eco-default-background", "failure"),
        );
        if (ok, failed) == (7.0, 1.0) {
            break;
        }
        assert!(
            ok <= 7.0 && failed <= 1.0,
            "counted too many: {ok} {failed}"
        );
        assert!(
            Instant::now() < deadline,
            "not published within 30 s:\n{text}"
        );
        std::thread::yield_now();
    }
}

#[test]
fn counts_stay_monotonic_across_resets_drops_and_a_new_breaker_of_the_name() {
    let (recorder, handle) = recorder();
    let make = || {
        metrics::with_local_recorder(&recorder, || {
            CircuitBreaker::builder("eco-default-monotonic").build()
        })
    };
    let name = "eco-default-monotonic";
    let first = make();
    for _ in 0..2 {
        first.call_sync(|| Ok::<_, ()>(())).unwrap();
    }
    publish();
    assert_eq!(calls(&handle.render(), name, "success"), 2.0);

    // A reset zeroes the breaker's Metrics, not the counter.
    first.reset();
    first.call_sync(|| Ok::<_, ()>(())).unwrap();
    assert_eq!(first.metrics().successes, 1);
    publish();
    assert_eq!(calls(&handle.render(), name, "success"), 3.0);

    // A dropped breaker's last counts are published as it goes, without `publish`.
    first.call_sync(|| Ok::<_, ()>(())).unwrap();
    first.force_open();
    let _ = first.call_sync(|| Ok::<_, ()>(()));
    drop(first);
    let text = handle.render();
    assert_eq!(calls(&text, name, "success"), 4.0);
    assert_eq!(calls(&text, name, "rejected"), 1.0);

    // A new breaker of the name adds to the same series.
    let second = make();
    second.call_sync(|| Ok::<_, ()>(())).unwrap();
    publish();
    publish(); // twice: nothing is added twice
    assert_eq!(calls(&handle.render(), name, "success"), 5.0);
}
