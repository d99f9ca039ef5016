//! Review 3: the README says an annotated function's breaker "is built at its first call or
//! first look, not before: its metrics go to the recorder installed by then". The metrics
//! publisher thread (started by the first breaker made) calls `publish()` every second, and
//! `publish()` builds every declared breaker. A binary of its own: it installs the global
//! recorder.
#![cfg(feature = "metrics")]
#![allow(missing_docs)]

use breaker_runtime::{circuit_breaker, BreakerError};
use metrics_exporter_prometheus::PrometheusBuilder;
use std::time::Duration;

#[derive(Debug)]
pub struct Down;

impl From<BreakerError> for Down {
    fn from(_: BreakerError) -> Self {
        Down
    }
}

#[circuit_breaker(name = "rev3-lazy-fn")]
fn lookup() -> Result<u8, Down> {
    Ok(1)
}

#[test]
fn an_annotated_fn_not_called_or_looked_at_reports_to_a_recorder_installed_later() {
    breaker_runtime::metrics_export::set_publish_interval(Duration::from_millis(10));
    // A breaker of the code's own, made before the recorder (a health check, say): it starts
    // the publishing thread.
    let early = breaker_runtime::CircuitBreaker::builder("rev3-code-breaker").build();
    let _ = early.call_sync(|| Ok::<u8, std::io::Error>(1));
    // The service takes a while to start (config fetched over the network, say): the thread
    // publishes many times meanwhile. (A wait with nothing to wait for: when the thread has
    // not run, this passes whether or not the bug is there, never the other way round.)
    std::thread::sleep(Duration::from_millis(200));
    let prometheus = PrometheusBuilder::new().install_recorder().unwrap();
    lookup().unwrap();
    breaker_runtime::metrics_export::publish();
    let text = prometheus.render();
    assert!(
        text.contains(r#"breaker_calls_total{breaker="rev3-lazy-fn",outcome="success"} 1"#),
        "the annotated fn's first call came after the recorder, but its breaker was built before:\n{text}"
    );
}
