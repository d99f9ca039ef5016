//! Review 3: the late-recorder warning and local recorders. A binary of its own: it installs
//! the global recorder and the global subscriber.
#![cfg(feature = "metrics")]
#![allow(missing_docs)]

mod common;

use metrics_exporter_prometheus::PrometheusBuilder;

/// A publication made inside `metrics::with_local_recorder` (a test harness's scoped
/// recorder, no global one installed) takes the local recorder for an installed one: it
/// warns then, and forgets the breakers, so when the global recorder is installed later the
/// warning that matters never comes.
#[test]
fn a_local_recorder_does_not_swallow_the_warning_for_the_global_one() {
    let lines = common::logs::capture_globally(tracing::Level::INFO);

    let early = breaker_runtime::CircuitBreaker::builder("rev3-made-before-any-recorder").build();
    let _ = early.call_sync(|| Ok::<u8, std::io::Error>(1));

    // Somewhere (a library's self-check, a test helper) publishes under a scoped recorder.
    let local = PrometheusBuilder::new().build_recorder();
    metrics::with_local_recorder(&local, || {
        breaker_runtime::metrics_export::publish();
    });
    let during_local = lines.take();

    PrometheusBuilder::new().install_recorder().unwrap();
    // The warning comes from the publishing thread, within a few intervals.
    breaker_runtime::metrics_export::set_publish_interval(std::time::Duration::from_millis(10));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut after_global = String::new();
    while !after_global.contains("rev3-made-before-any-recorder") {
        assert!(
            std::time::Instant::now() < deadline,
            "no warning once the global recorder is installed; it was spent under the local one:\n\
             during local: {during_local}\nafter global: {after_global}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
        after_global.push_str(&lines.take());
    }
}
