//! Feature `metrics`: the series a breaker exports, scraped in Prometheus text format over a
//! real HTTP endpoint on 127.0.0.1, after a known sequence of calls on a paused clock.
#![cfg(feature = "metrics")]

mod common;

use breaker_runtime::{CallError, CircuitBreaker, State};
use common::prometheus::{published, recorder};
use common::value;
use metrics_exporter_prometheus::PrometheusHandle;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The `breaker_calls_total` series of breaker label `b` and `outcome` in Prometheus text.
fn calls(text: &str, b: &str, outcome: &str) -> f64 {
    value(
        text,
        &format!(r#"breaker_calls_total{{{b},outcome="{outcome}"}}"#),
    )
}

/// Serves the published counts at `GET /metrics` on 127.0.0.1, on a runtime of its own.
fn serve_metrics(handle: PrometheusHandle) -> SocketAddr {
    common::serve(axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || std::future::ready(published(&handle))),
    ))
}

async fn scrape(addr: SocketAddr) -> String {
    let response = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

async fn ok(b: &CircuitBreaker, took: Duration) -> Result<(), CallError<&'static str>> {
    b.call(|| async move {
        tokio::time::sleep(took).await;
        Ok(())
    })
    .await
}

async fn fail(b: &CircuitBreaker, took: Duration) -> Result<(), CallError<&'static str>> {
    b.call(|| async move {
        tokio::time::sleep(took).await;
        Err("down")
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn prometheus_scrape_counts_every_call_transition_and_duration() {
    let (recorder, handle) = recorder();
    let breaker = metrics::with_local_recorder(&recorder, || {
        CircuitBreaker::builder("eco-metrics-scrape")
            .failure_threshold(2)
            .success_threshold(1)
            .reset_timeout(Duration::from_secs(10))
            .slow_call(Duration::from_millis(500))
            .build()
    });
    let addr = serve_metrics(handle);
    let ms = Duration::from_millis;

    ok(&breaker, ms(100)).await.unwrap();
    ok(&breaker, ms(700)).await.unwrap(); // slow
    fail(&breaker, ms(200)).await.unwrap_err();
    fail(&breaker, ms(300)).await.unwrap_err(); // opens
    assert!(ok(&breaker, ms(1)).await.unwrap_err().is_circuit_open());
    assert!(ok(&breaker, ms(1)).await.unwrap_err().is_circuit_open());
    tokio::time::advance(Duration::from_secs(10)).await;
    ok(&breaker, ms(50)).await.unwrap(); // the probe closes it
    drop(breaker.try_acquire().unwrap()); // cancelled
    assert_eq!(breaker.state(), State::Closed);

    let text = scrape(addr).await;
    let b = r#"breaker="eco-metrics-scrape""#;
    assert_eq!(calls(&text, b, "success"), 3.0);
    assert_eq!(calls(&text, b, "failure"), 2.0);
    assert_eq!(calls(&text, b, "rejected"), 2.0);
    assert_eq!(calls(&text, b, "cancelled"), 1.0);
    assert_eq!(calls(&text, b, "ignored"), 0.0);
    assert_eq!(
        value(&text, &format!("breaker_slow_calls_total{{{b}}}")),
        1.0
    );
    assert_eq!(value(&text, &format!("breaker_timeouts_total{{{b}}}")), 0.0);

    let transitions = |to: &str, reason: &str| {
        value(
            &text,
            &format!(r#"breaker_transitions_total{{{b},to="{to}",reason="{reason}"}}"#),
        )
    };
    assert_eq!(transitions("open", "failure_threshold"), 1.0);
    assert_eq!(transitions("half_open", "reset_timeout_elapsed"), 1.0);
    assert_eq!(transitions("closed", "probes_succeeded"), 1.0);
    assert_eq!(transitions("open", "failure_rate"), 0.0);
    assert_eq!(transitions("forced_open", "manual"), 0.0);

    let state = |s: &str| value(&text, &format!(r#"breaker_state{{{b},state="{s}"}}"#));
    assert_eq!(state("closed"), 1.0);
    assert_eq!(state("open"), 0.0);
    assert_eq!(state("half_open"), 0.0);

    // Durations on the paused clock are exact: 100 + 700 + 50 ms of successes.
    let h = |suffix: &str, outcome: &str, extra: &str| {
        value(
            &text,
            &format!(r#"breaker_call_duration_seconds_{suffix}{{{b},outcome="{outcome}"{extra}}}"#),
        )
    };
    assert_eq!(h("count", "success", ""), 3.0);
    assert!((h("sum", "success", "") - 0.85).abs() < 1e-9);
    assert_eq!(h("count", "failure", ""), 2.0);
    assert!((h("sum", "failure", "") - 0.5).abs() < 1e-9);
    assert_eq!(h("bucket", "success", r#",le="0.05""#), 1.0);
    assert_eq!(h("bucket", "success", r#",le="0.1""#), 2.0);
    assert_eq!(h("bucket", "success", r#",le="0.5""#), 2.0);
    assert_eq!(h("bucket", "success", r#",le="1""#), 3.0);

    // Described, with the unit.
    assert!(
        text.contains("# HELP breaker_calls_total Calls through a circuit breaker, by outcome.")
    );
    assert!(text.contains("# TYPE breaker_call_duration_seconds histogram"));
}

#[tokio::test(start_paused = true)]
async fn state_gauge_follows_manual_controls_and_a_dropped_breaker_leaves_no_state() {
    let (recorder, handle) = recorder();
    let make = || {
        metrics::with_local_recorder(&recorder, || {
            CircuitBreaker::builder("eco-metrics-gauge").build()
        })
    };
    let breaker = make();
    let b = r#"breaker="eco-metrics-gauge""#;
    let state = |text: &str, s: &str| value(text, &format!(r#"breaker_state{{{b},state="{s}"}}"#));
    let manual = |text: &str, to: &str| {
        value(
            text,
            &format!(r#"breaker_transitions_total{{{b},to="{to}",reason="manual"}}"#),
        )
    };

    breaker.force_open();
    let text = published(&handle);
    assert_eq!(
        (state(&text, "closed"), state(&text, "forced_open")),
        (0.0, 1.0)
    );
    breaker.disable();
    breaker.metrics_only();
    let text = published(&handle);
    assert_eq!(state(&text, "forced_open"), 0.0);
    assert_eq!(state(&text, "disabled"), 0.0);
    assert_eq!(state(&text, "metrics_only"), 1.0);
    assert_eq!(manual(&text, "disabled"), 1.0);
    breaker.reset();
    let text = published(&handle);
    assert_eq!(
        (state(&text, "closed"), state(&text, "metrics_only")),
        (1.0, 0.0)
    );
    assert_eq!(manual(&text, "closed"), 1.0);

    // Disabled breakers record nothing, as their Metrics do.
    breaker.disable();
    let _ = breaker.call_sync(|| Err::<(), _>("down"));
    let text = published(&handle);
    assert_eq!(calls(&text, b, "failure"), 0.0);

    // reset zeroes Metrics, but Prometheus counters only go up.
    breaker.close();
    let _ = breaker.call_sync(|| Ok::<_, ()>(()));
    breaker.reset();
    assert_eq!(breaker.metrics().successes, 0);
    let text = published(&handle);
    assert_eq!(calls(&text, b, "success"), 1.0);

    drop(breaker);
    let text = published(&handle);
    for s in [
        "closed",
        "open",
        "half_open",
        "forced_open",
        "disabled",
        "metrics_only",
    ] {
        assert_eq!(state(&text, s), 0.0, "state {s}");
    }
    let again = make();
    assert_eq!(state(&published(&handle), "closed"), 1.0);
    drop(again);
}

#[tokio::test(start_paused = true)]
async fn timeouts_ignored_errors_and_shared_threads_are_counted() {
    let (recorder, handle) = recorder();
    let breaker: Arc<CircuitBreaker> = metrics::with_local_recorder(&recorder, || {
        CircuitBreaker::builder("eco-metrics-timeouts")
            .failure_threshold(100)
            .call_timeout(Duration::from_secs(1))
            .ignore_if(|e: &&'static str| *e == "not found")
            .build()
    });
    let timed_out = breaker
        .call(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<_, &str>(())
        })
        .await;
    assert!(matches!(timed_out, Err(CallError::Breaker(e)) if e.is_timeout()));
    let _ = breaker.call(|| async { Err::<(), _>("not found") }).await;

    // Handles are shared by every thread: 4 threads x 250 successes.
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let b = breaker.clone();
            std::thread::spawn(move || {
                for _ in 0..250 {
                    b.call_sync(|| Ok::<_, &str>(())).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }

    let text = published(&handle);
    let b = r#"breaker="eco-metrics-timeouts""#;
    assert_eq!(value(&text, &format!("breaker_timeouts_total{{{b}}}")), 1.0);
    assert_eq!(calls(&text, b, "failure"), 1.0);
    assert_eq!(calls(&text, b, "ignored"), 1.0);
    assert_eq!(calls(&text, b, "success"), 1000.0);
    assert_eq!(breaker.metrics().successes, 1000);
    // The timed-out call lasted exactly its call_timeout.
    assert_eq!(
        value(
            &text,
            &format!(r#"breaker_call_duration_seconds_sum{{{b},outcome="failure"}}"#)
        ),
        1.0
    );
}

/// `breaker_state{breaker="eco-metrics-twins", state=…}` for every state, in `State::ALL` order.
fn twin_states(handle: &PrometheusHandle) -> Vec<f64> {
    let text = published(handle);
    [
        "closed",
        "open",
        "half_open",
        "forced_open",
        "disabled",
        "metrics_only",
    ]
    .iter()
    .map(|s| {
        value(
            &text,
            &format!(r#"breaker_state{{breaker="eco-metrics-twins",state="{s}"}}"#),
        )
    })
    .collect()
}

/// Regression: two live breakers of one name each added ±1 to the series they share, so
/// `breaker_state` showed two states at 1. The gauge shows the breaker created last (and,
/// once it is dropped, the newest one left): 1 for its state, 0 for the others.
#[test]
fn two_breakers_of_one_name_show_one_state() {
    let (recorder, handle) = recorder();
    let build = || {
        metrics::with_local_recorder(&recorder, || {
            CircuitBreaker::builder("eco-metrics-twins").build()
        })
    };
    let first = build();
    first.force_open();
    assert_eq!(twin_states(&handle), [0.0, 0.0, 0.0, 1.0, 0.0, 0.0]);

    let second = build();
    assert_eq!(twin_states(&handle), [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    // The older breaker's moves do not show while the newer one lives…
    first.close();
    first.metrics_only();
    assert_eq!(twin_states(&handle), [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    second.disable();
    assert_eq!(twin_states(&handle), [0.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    // …and once it goes, the gauge shows the older one's state.
    drop(second);
    assert_eq!(twin_states(&handle), [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
    first.close();
    assert_eq!(twin_states(&handle), [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    drop(first);
    assert_eq!(twin_states(&handle), [0.0; 6]);

    // Dropping the older one first leaves the newer one's state.
    let older = build();
    let newer = build();
    newer.force_open();
    drop(older);
    assert_eq!(twin_states(&handle), [0.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
}

/// Counts the distinct series registered with it.
#[derive(Default)]
struct SeriesCounter(std::sync::Mutex<std::collections::BTreeSet<String>>);

impl SeriesCounter {
    fn add(&self, kind: &str, key: &metrics::Key) {
        let mut labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        labels.sort();
        self.0
            .lock()
            .unwrap()
            .insert(format!("{kind} {}{{{}}}", key.name(), labels.join(",")));
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

impl metrics::Recorder for SeriesCounter {
    fn describe_counter(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn register_counter(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        self.add("counter", key);
        metrics::Counter::noop()
    }
    fn register_gauge(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        self.add("gauge", key);
        metrics::Gauge::noop()
    }
    fn register_histogram(
        &self,
        key: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        self.add("histogram", key);
        metrics::Histogram::noop()
    }
}

/// The README's count: every distinct name registers 28 series at creation with durations
/// on (5 call outcomes, slow calls, timeouts, 3 duration histograms, 6 state gauges, 12
/// transition counters), and no transition adds one later (`open_for`'s `to="open", reason="manual"`
/// used to be registered on first use, so it did not exist at 0 from the start).
#[test]
fn every_name_registers_28_series_up_front() {
    breaker_runtime::metrics_export::record_durations(true);
    let counter = SeriesCounter::default();
    let breaker = metrics::with_local_recorder(&counter, || {
        CircuitBreaker::builder("eco-metrics-count")
            .failure_threshold(1)
            .build()
    });
    assert_eq!(counter.len(), 28);
    metrics::with_local_recorder(&counter, || {
        breaker.open_for(Duration::from_secs(1));
        breaker.force_open();
        breaker.disable();
        breaker.metrics_only();
        breaker.close();
        let _ = breaker.call_sync(|| Err::<(), _>("down"));
    });
    assert_eq!(counter.len(), 28, "a transition registered a new series");
    let second = metrics::with_local_recorder(&counter, || {
        CircuitBreaker::builder("eco-metrics-count-2").build()
    });
    assert_eq!(counter.len(), 56);
    drop(second);
}
