//! `BREAKER_<NAME>_<KEY>` variables read from the process environment. Tests here run in
//! parallel and share the environment, so each sets only valid variables with names of its
//! own, and loads into a registry of its own.
#![cfg(feature = "config")]

mod common;

use breaker_runtime::config::load_env_into;
use breaker_runtime::{BreakerConfig, Registry};
use common::failures_to_open;

#[test]
fn variables_reconfigure_a_breaker_that_exists() {
    std::env::set_var("BREAKER_CFGENV_LIVE_FAILURE_THRESHOLD", "2");
    std::env::set_var("BREAKER_CFGENV_LIVE_RESET_TIMEOUT", "10s");
    let r = Registry::new();
    let b = r.get_or_create(
        "cfgenv-live",
        BreakerConfig::builder().failure_threshold(6).build(),
    );
    load_env_into(&r).unwrap();
    assert_eq!(failures_to_open(&b), 2);
    let wait = b.snapshot().retry_after_ms.unwrap();
    assert!((9_000..=10_000).contains(&wait), "{wait}");
}

#[test]
fn names_are_matched_by_their_upper_case_spelling() {
    std::env::set_var("BREAKER_CFGENV_MIXED_CASE_2_FAILURE_THRESHOLD", "1");
    std::env::set_var(
        "BREAKER_CFGENV_MIXED_CASE_2_BACKOFF",
        "exponential(multiplier=2,max=5m)",
    );
    let r = Registry::new();
    load_env_into(&r).unwrap();
    // Created after the load; `CfgEnv.Mixed-Case 2` is spelt CFGENV_MIXED_CASE_2.
    let b = r.get_or_create("CfgEnv.Mixed-Case 2", BreakerConfig::default());
    assert_eq!(failures_to_open(&b), 1);
}

#[test]
fn a_new_read_replaces_the_variables_read_before() {
    std::env::set_var("BREAKER_CFGENV_GONE_FAILURE_THRESHOLD", "1");
    let r = Registry::new();
    let b = r.get_or_create("cfgenv-gone", BreakerConfig::default());
    load_env_into(&r).unwrap();
    std::env::remove_var("BREAKER_CFGENV_GONE_FAILURE_THRESHOLD");
    load_env_into(&r).unwrap();
    assert_eq!(failures_to_open(&b), 5, "back to the built-in default");
}
