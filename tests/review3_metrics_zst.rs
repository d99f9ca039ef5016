//! Review 3: the late-recorder warning tells "no recorder" by a zero-sized recorder; a
//! user's recorder may be zero-sized too (one that forwards to statics). A binary of its
//! own: it installs the global recorder.
#![cfg(feature = "metrics")]
#![allow(missing_docs)]

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use std::sync::{Arc, Mutex};

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

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);
impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
#[ignore = "LIMIT (documented in metrics_export): a zero-sized user recorder is taken for the no-op one: a breaker made before it was installed is never named in the warning"]
fn a_zero_sized_recorder_installed_late_still_draws_the_warning() {
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
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
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("rev3-zst-early"), "no warning: {text:?}");
}
