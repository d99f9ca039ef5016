//! A service that touches the registry (say, to load its config) before it installs its
//! metrics recorder still gets the series of its annotated functions' breakers: they are
//! listed from the start but built at their first call or first look, with the recorder
//! installed by then. (Built up front, they would have registered with no recorder and stayed
//! silent.) A binary of its own: it installs the global recorder.
#![cfg(feature = "metrics")]

use breaker_runtime::{circuit_breaker, registry, BreakerError};
use metrics_exporter_prometheus::PrometheusBuilder;

#[derive(Debug)]
struct Down;

impl From<BreakerError> for Down {
    fn from(_: BreakerError) -> Self {
        Down
    }
}

#[circuit_breaker(name = "late-recorder-fn")]
fn lookup() -> Result<u8, Down> {
    Ok(1)
}

#[circuit_breaker(name = "late-recorder-never-called")]
fn never_called() -> Result<u8, Down> {
    Ok(2)
}

#[test]
fn breakers_listed_before_the_recorder_still_report_to_it() {
    // First touch of the registry, before any recorder: the breaker is known already.
    assert!(registry().names().iter().any(|n| n == "late-recorder-fn"));

    let prometheus = PrometheusBuilder::new().install_recorder().unwrap();
    lookup().unwrap();
    breaker_runtime::metrics_export::publish();
    let text = prometheus.render();
    assert!(
        text.contains(r#"breaker_calls_total{breaker="late-recorder-fn",outcome="success"} 1"#),
        "{text}"
    );
    // Never called, yet its series exist once published: alerts see it from the start.
    assert!(
        text.contains(r#"breaker_state{breaker="late-recorder-never-called",state="closed"} 1"#),
        "{text}"
    );
    let _ = never_called;
}
