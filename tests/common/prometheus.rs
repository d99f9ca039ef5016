//! A Prometheus recorder set up as the README says, and what a scrape of it sees.

use breaker_runtime::metrics_export::{CALL_DURATION_SECONDS, DURATION_BUCKETS};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

/// A Prometheus recorder with the duration buckets, for breakers that record durations (this
/// turns them on).
pub fn recorder() -> (PrometheusRecorder, PrometheusHandle) {
    breaker_runtime::metrics_export::record_durations(true);
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(CALL_DURATION_SECONDS.into()),
            DURATION_BUCKETS,
        )
        .unwrap()
        .build_recorder();
    let handle = recorder.handle();
    (recorder, handle)
}

/// What a scrape sees: the counts published to the moment, then rendered.
pub fn published(handle: &PrometheusHandle) -> String {
    breaker_runtime::metrics_export::publish();
    handle.render()
}
