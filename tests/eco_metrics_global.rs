//! Feature `metrics` with the global recorder, as a service installs it: breakers made by
//! `#[circuit_breaker]` and by the registry report to it. A test binary of its own, so the
//! recorder is installed before any breaker exists.
#![cfg(feature = "metrics")]

mod common;

use breaker_runtime::{circuit_breaker, registry, BreakerConfig, State};
use common::value;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::io;
use std::sync::OnceLock;
use std::time::Duration;

fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| PrometheusBuilder::new().install_recorder().unwrap())
}

#[circuit_breaker(
    name = "eco-global-lookup",
    failure_threshold = 2,
    reset_timeout = "10s"
)]
async fn lookup(id: u32) -> io::Result<u32> {
    if id == 0 {
        Err(io::Error::other("no such id"))
    } else {
        Ok(id)
    }
}

#[tokio::test(start_paused = true)]
async fn attribute_and_registry_breakers_report_to_the_installed_recorder() {
    let prometheus = prometheus();

    lookup(1).await.unwrap();
    lookup(0).await.unwrap_err();
    lookup(0).await.unwrap_err(); // opens
    let rejected = lookup(2).await.unwrap_err();
    assert!(rejected.to_string().contains("eco-global-lookup"));
    tokio::time::advance(Duration::from_secs(10)).await;
    lookup(3).await.unwrap(); // a probe: half-open

    breaker_runtime::metrics_export::publish(); // as a scrape handler does
    let text = prometheus.render();
    let b = r#"breaker="eco-global-lookup""#;
    let calls = |o: &str| {
        value(
            &text,
            &format!(r#"breaker_calls_total{{{b},outcome="{o}"}}"#),
        )
    };
    assert_eq!(
        (calls("success"), calls("failure"), calls("rejected")),
        (2.0, 2.0, 1.0)
    );
    assert_eq!(
        value(&text, &format!(r#"breaker_state{{{b},state="half_open"}}"#)),
        1.0
    );
    assert_eq!(
        value(&text, &format!(r#"breaker_state{{{b},state="open"}}"#)),
        0.0
    );

    let pool = registry().get_or_create("eco-global-pool", BreakerConfig::default());
    pool.force_open();
    assert_eq!(pool.state(), State::ForcedOpen);
    breaker_runtime::metrics_export::publish(); // as a scrape handler does
    let text = prometheus.render();
    let p = r#"breaker="eco-global-pool""#;
    assert_eq!(
        value(
            &text,
            &format!(r#"breaker_state{{{p},state="forced_open"}}"#)
        ),
        1.0
    );
    assert_eq!(
        value(
            &text,
            &format!(r#"breaker_transitions_total{{{p},to="forced_open",reason="manual"}}"#)
        ),
        1.0
    );
}
