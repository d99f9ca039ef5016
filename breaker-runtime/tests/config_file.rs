//! Settings from TOML (`breaker_runtime::config`): precedence, `base` inheritance, live
//! reconfiguration that keeps state, settings for breakers created later, and loads that
//! fail changing nothing. Each test loads into a registry of its own.
#![cfg(feature = "config")]

mod common;

use breaker_runtime::config::{load_str_into, load_vars_into};
use breaker_runtime::{BreakerConfig, CircuitBreaker, ConfigError, Registry, State};
use common::failures_to_open;
use std::time::Duration;

/// How long an open breaker waits before probing, in whole milliseconds (the paused
/// clock may round the first wait down by one).
fn wait_ms(b: &CircuitBreaker) -> u64 {
    let ms = b.snapshot().retry_after_ms.expect("the breaker is open");
    if ms % 1000 == 999 {
        ms + 1
    } else {
        ms
    }
}

fn code(threshold: u32) -> BreakerConfig {
    BreakerConfig::builder()
        .failure_threshold(threshold)
        .build()
}

#[test]
fn default_table_sits_under_the_code_and_the_breaker_table_over_it() {
    let r = Registry::new();
    load_str_into(
        &r,
        r#"
        [default]
        failure_threshold = 7
        reset_timeout = "12s"

        [breakers."table"]
        failure_threshold = 2
        "#,
    )
    .unwrap();
    // No setting in code: [default] applies.
    assert_eq!(
        failures_to_open(&r.get_or_create("plain", BreakerConfig::default())),
        7
    );
    // The code's 4 wins over [default]'s 7.
    assert_eq!(failures_to_open(&r.get_or_create("coded", code(4))), 4);
    // The breaker's table wins over the code.
    let table = r.get_or_create("table", code(4));
    assert_eq!(failures_to_open(&table), 2);
    // [default] still fills in what neither the code nor the table sets.
    assert_eq!(wait_ms(&table), 12_000);
}

#[test]
fn variables_sit_over_the_table_and_default_variables_under_the_code() {
    let r = Registry::new();
    load_str_into(
        &r,
        r#"
        [default]
        reset_timeout = "12s"
        [breakers."layered"]
        failure_threshold = 2
        "#,
    )
    .unwrap();
    load_vars_into(
        &r,
        [
            ("BREAKER_LAYERED_FAILURE_THRESHOLD", "3"),
            ("BREAKER_DEFAULT_RESET_TIMEOUT", "20s"),
            ("BREAKER_DEFAULT_FAILURE_THRESHOLD", "9"),
        ],
    )
    .unwrap();
    let layered = r.get_or_create("layered", code(4));
    assert_eq!(failures_to_open(&layered), 3);
    // BREAKER_DEFAULT_RESET_TIMEOUT beats [default]…
    assert_eq!(wait_ms(&layered), 20_000);
    // …and loses to the code.
    let coded = r.get_or_create(
        "coded",
        BreakerConfig::builder()
            .failure_threshold(5)
            .reset_timeout(Duration::from_secs(5))
            .build(),
    );
    assert_eq!(failures_to_open(&coded), 5);
    assert_eq!(wait_ms(&coded), 5_000);
    // A breaker with nothing in code takes BREAKER_DEFAULT_FAILURE_THRESHOLD.
    assert_eq!(
        failures_to_open(&r.get_or_create("bare", BreakerConfig::default())),
        9
    );
}

#[test]
fn a_file_load_keeps_the_variables_and_a_variable_load_keeps_the_file() {
    let r = Registry::new();
    load_vars_into(&r, [("BREAKER_KEEP_RESET_TIMEOUT", "7s")]).unwrap();
    load_str_into(&r, "[breakers.keep]\nfailure_threshold = 2").unwrap();
    load_vars_into(&r, [("BREAKER_KEEP_RESET_TIMEOUT", "8s")]).unwrap();
    let keep = r.get_or_create("keep", BreakerConfig::default());
    assert_eq!(failures_to_open(&keep), 2);
    assert_eq!(wait_ms(&keep), 8_000);
}

#[test]
fn a_new_file_replaces_the_old_one() {
    let r = Registry::new();
    let b = r.get_or_create("replaced", code(6));
    load_str_into(&r, "[breakers.replaced]\nfailure_threshold = 2").unwrap();
    load_str_into(&r, "[breakers.other]\nfailure_threshold = 3").unwrap();
    // The table for `replaced` is gone: its code's 6 applies again.
    assert_eq!(failures_to_open(&b), 6);
}

#[test]
fn base_chains_inherit_nearest_first() {
    let r = Registry::new();
    load_str_into(
        &r,
        r#"
        [breakers.root]
        failure_threshold = 9
        reset_timeout = "40s"
        success_threshold = 3

        [breakers.middle]
        base = "root"
        failure_threshold = 5
        reset_timeout = "20s"

        [breakers.leaf]
        base = "middle"
        failure_threshold = 2
        "#,
    )
    .unwrap();
    let leaf = r.get_or_create("leaf", code(4));
    assert_eq!(failures_to_open(&leaf), 2); // its own
    assert_eq!(wait_ms(&leaf), 20_000); // from middle, over root's 40s
    let middle = r.get_or_create("middle", BreakerConfig::default());
    assert_eq!(failures_to_open(&middle), 5);
    assert_eq!(wait_ms(&middle), 20_000);
    let root = r.get_or_create("root", BreakerConfig::default());
    assert_eq!(failures_to_open(&root), 9);
    assert_eq!(wait_ms(&root), 40_000);
}

#[test]
fn names_with_dots_and_dashes_are_quoted_keys() {
    let r = Registry::new();
    load_str_into(
        &r,
        r#"
        [breakers."api.example.com:443"]
        failure_threshold = 1
        [breakers.quotes-eu]
        base = "api.example.com:443"
        "#,
    )
    .unwrap();
    let api = r.get_or_create("api.example.com:443", BreakerConfig::default());
    assert_eq!(failures_to_open(&api), 1);
    let eu = r.get_or_create("quotes-eu", BreakerConfig::default());
    assert_eq!(failures_to_open(&eu), 1);
}

#[test]
fn every_key_reads_the_attributes_values() {
    let r = Registry::new();
    load_str_into(
        &r,
        r#"
        [breakers.all]
        failure_threshold = 3
        failure_rate = 0.5
        minimum_calls = 4
        window = "60s"
        slow_call = "1m30s"
        slow_call_rate = 1
        success_threshold = 2
        half_open_max_calls = 1
        reset_timeout = "1h"
        backoff = { kind = "exponential", multiplier = 2.0, max = "5h", jitter = 0.0 }
        half_open_timeout = "250ms"
        call_timeout = "5m"

        [breakers.linear]
        window = 10
        backoff = { kind = "linear", step = "10s", max = "2m" }

        [breakers.text]
        backoff = "exponential(multiplier = 3, max = \"5m\")"

        [breakers.fixed]
        backoff = "fixed"
        "#,
    )
    .unwrap();
    let all = r.get_or_create("all", BreakerConfig::default());
    assert_eq!(failures_to_open(&all), 3);
    assert_eq!(wait_ms(&all), 3_600_000);
    for name in ["linear", "text", "fixed"] {
        assert_eq!(
            failures_to_open(&r.get_or_create(name, BreakerConfig::default())),
            5
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_load_reconfigures_a_live_breaker_keeping_its_state() {
    let r = Registry::new();
    let b = r.get_or_create(
        "live",
        BreakerConfig::builder()
            .failure_threshold(3)
            .reset_timeout(Duration::from_secs(30))
            .build(),
    );
    assert_eq!(failures_to_open(&b), 3);
    load_str_into(
        &r,
        r#"
        [breakers.live]
        failure_threshold = 1
        success_threshold = 1
        reset_timeout = "5s"
        "#,
    )
    .unwrap();
    // Still open, with its counts, after the load.
    assert_eq!(b.state(), State::Open);
    let m = b.metrics();
    assert_eq!((m.failures, m.opened_count), (3, 1));
    // The open period it is in ends as scheduled (30s); the next uses the new 5s.
    tokio::time::advance(Duration::from_secs(30) + Duration::from_millis(1)).await;
    assert_eq!(b.state(), State::HalfOpen);
    b.call_sync(|| Ok::<_, &str>(())).unwrap();
    assert_eq!(b.state(), State::Closed, "success_threshold = 1 closes it");
    // One failure now opens it: the new failure_threshold.
    assert_eq!(failures_to_open(&b), 1);
    assert_eq!(b.metrics().opened_count, 2);
    assert_eq!(wait_ms(&b), 5_000);
}

#[test]
fn settings_loaded_before_a_breaker_exists_apply_when_it_is_created() {
    let r = Registry::new();
    load_str_into(&r, "[breakers.later]\nfailure_threshold = 2").unwrap();
    load_vars_into(&r, [("BREAKER_LATER_ENV_RESET_TIMEOUT", "9s")]).unwrap();
    let later = r.get_or_create("later", code(6));
    assert_eq!(failures_to_open(&later), 2);
    let later_env = r.get_or_create("later-env", BreakerConfig::default());
    assert_eq!(failures_to_open(&later_env), 5);
    assert_eq!(wait_ms(&later_env), 9_000);
}

#[test]
fn a_failed_load_changes_no_breaker_and_no_layer() {
    let r = Registry::new();
    let b = r.get_or_create("steady", code(6));
    load_str_into(
        &r,
        "[breakers.steady]\nfailure_threshold = 2\n[breakers.unborn]\nfailure_threshold = 3",
    )
    .unwrap();

    // Syntax, key, value and `base` errors: the document itself is bad.
    let bad = [
        "[breakers.steady]\nfailure_threshold = 1\n[breakers.x]\nfailure_treshold = 3",
        "[breakers.steady]\nfailure_threshold = 1\n[breakers.x]\nreset_timeout = \"soon\"",
        "[breakers.steady]\nfailure_threshold = 1\n[breakers.x]\nbase = \"nobody\"",
        "[breakers.steady]\nfailure_threshold = 1\n[breakers.x\n",
        "[breakers.steady]\nfailure_threshold = 1\n[breakers.x]\nfailure_rate = 1.5",
    ];
    for text in bad {
        load_str_into(&r, text).unwrap_err();
    }
    load_vars_into(&r, [("BREAKER_STEADY_FAILURE_THRESHOLD", "0")]).unwrap_err();

    // The breaker kept the settings of the last good load…
    assert_eq!(failures_to_open(&b), 2);
    // …and so did the layers breakers created later get.
    assert_eq!(failures_to_open(&r.get_or_create("unborn", code(6))), 3);
    assert_eq!(failures_to_open(&r.get_or_create("x", code(6))), 6);
}

#[test]
fn a_breaker_the_load_does_not_fit_keeps_its_code_and_the_others_are_reconfigured() {
    let r = Registry::new();
    let rated = r.get_or_create(
        "rated",
        BreakerConfig::builder()
            .failure_rate(0.5)
            .window(20)
            .minimum_calls(4)
            .build(),
    );
    let other = r.get_or_create("other", code(6));
    // Fine on its own, but `rated` would need 30 calls in a window of 20: as at creation,
    // `rated` runs with its code's settings (the error is logged) and the load succeeds.
    let doc = "[breakers.rated]\nminimum_calls = 30\n[breakers.other]\nfailure_threshold = 1";
    load_str_into(&r, doc).unwrap();
    // Reloading the same file, and reading variables for an unrelated breaker, succeed too.
    load_str_into(&r, doc).unwrap();
    load_vars_into(&r, [("BREAKER_OTHER_RESET_TIMEOUT", "7s")]).unwrap();
    assert_eq!(failures_to_open(&other), 1);
    assert_eq!(wait_ms(&other), 7_000);
    for _ in 0..3 {
        let _ = rated.call_sync(|| Err::<(), _>("down"));
    }
    assert_eq!(rated.state(), State::Closed, "minimum_calls is still 4");
    let _ = rated.call_sync(|| Err::<(), _>("down"));
    assert_eq!(rated.state(), State::Open);
    // A breaker created later under the same layers follows the same rule.
    let later = r.get_or_create("rated", code(9));
    assert!(std::sync::Arc::ptr_eq(&later, &rated));
}

#[test]
fn a_misfit_breaker_gets_the_layers_again_once_they_fit() {
    let r = Registry::new();
    let b = r.get_or_create("plain", code(6));
    // `plain` has no `slow_call`, so `slow_call_rate` cannot apply to it.
    load_str_into(
        &r,
        "[default]\nslow_call_rate = 0.5\n[breakers.plain]\nfailure_threshold = 2",
    )
    .unwrap();
    assert_eq!(failures_to_open(&b), 6, "the code's settings alone");
    b.reset();
    load_str_into(&r, "[breakers.plain]\nfailure_threshold = 2").unwrap();
    assert_eq!(failures_to_open(&b), 2);
}

#[test]
fn an_empty_document_clears_the_file_layers() {
    let r = Registry::new();
    let b = r.get_or_create("cleared", code(4));
    load_str_into(&r, "[breakers.cleared]\nfailure_threshold = 1").unwrap();
    load_str_into(&r, "").unwrap();
    assert_eq!(failures_to_open(&b), 4);
    assert!(matches!(
        load_str_into(&r, "[breakers.cleared]\nfailure_threshold = 0"),
        Err(ConfigError::Invalid { .. })
    ));
}
