//! Review 3: the late-recorder warning tells "no recorder" by a zero-sized recorder; a
//! user's recorder may be zero-sized too (one that forwards to statics). A binary of its
//! own: it installs the global recorder.
#![cfg(feature = "metrics")]
#![allow(missing_docs)]

mod common;

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};

/// Forwards to a static Prometheus recorder: zero-sized, and a real recorder.
struct Forward;

static INNER: std::sync::LazyLock<metrics_exporter_prometheus::PrometheusRecorder> =
    std::sync::LazyLock::new(|| {
        metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder()
    });

impl Recorder for Forward {
    fn describe_counter(&self, k: KeyName, u: Option<Unit>, d: SharedString) {
        INNER.describe_counter(k, u, d)
    }
    fn describe_gauge(&self, k: KeyName, u: Option<Unit>, d: SharedString) {
        INNER.describe_gauge(k, u, d)
    }
    fn describe_histogram(&self, k: KeyName, u: Option<Unit>, d: SharedString) {
        INNER.describe_histogram(k, u, d)
    }
    fn register_counter(&self, k: &Key, m: &Metadata<'_>) -> Counter {
        INNER.register_counter(k, m)
    }
    fn register_gauge(&self, k: &Key, m: &Metadata<'_>) -> Gauge {
        INNER.register_gauge(k, m)
    }
    fn register_histogram(&self, k: &Key, m: &Metadata<'_>) -> Histogram {
        INNER.register_histogram(k, m)
    }
}

#[test]
#[ignore = "LIMIT (documented in metrics_export): a zero-sized user recorder is taken for the no-op one: a breaker made before it was installed is never named in the warning"]
fn a_zero_sized_recorder_installed_late_still_draws_the_warning() {
    let lines = common::logs::capture_globally(tracing::Level::INFO);
    let early = breaker_runtime::CircuitBreaker::builder("rev3-zst-early").build();
    let _ = early.call_sync(|| Ok::<u8, std::io::Error>(1));
    metrics::set_global_recorder(Forward).unwrap();
    let late = breaker_runtime::CircuitBreaker::builder("rev3-zst-late").build();
    let _ = late.call_sync(|| Ok::<u8, std::io::Error>(1));
    breaker_runtime::metrics_export::publish();
    let rendered = INNER.handle().render();
    assert!(
        rendered.contains("rev3-zst-late"),
        "the recorder works: {rendered}"
    );
    assert!(
        !rendered.contains("rev3-zst-early"),
        "the early one reports nothing: {rendered}"
    );
    let text = lines.take();
    assert!(text.contains("rev3-zst-early"), "no warning: {text:?}");
}
