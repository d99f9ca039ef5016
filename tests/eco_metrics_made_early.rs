//! A breaker made before the metrics recorder was installed reports nothing to it; that must
//! not pass in silence (issue 13, item 12: "a breaker created before the recorder still
//! reports, or at least warns once"). A binary of its own: it installs the global recorder,
//! and nothing else may install it first.
#![cfg(feature = "metrics")]

mod common;

use metrics_exporter_prometheus::PrometheusBuilder;

/// A breaker made (here, called) before the recorder reports nothing to it: not in silence.
/// The first publication once a recorder is installed warns, naming it (issue 13, item 12).
#[test]
fn a_breaker_made_before_the_recorder_is_named_in_a_warning() {
    // Global: the warning comes from the thread that publishes.
    let lines = common::logs::capture_globally(tracing::Level::INFO);
    breaker_runtime::metrics_export::set_publish_interval(std::time::Duration::from_millis(10));

    // Before any recorder.
    let early = breaker_runtime::CircuitBreaker::builder("late-recorder-made-early").build();
    let _ = early.call_sync(|| Ok::<u8, std::io::Error>(1));
    PrometheusBuilder::new().install_recorder().unwrap();
    let mut text = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !(text.contains("before the metrics recorder was installed")
        && text.contains("late-recorder-made-early"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no warning within 20 s:\n{text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
        text.push_str(&lines.take());
    }
}
