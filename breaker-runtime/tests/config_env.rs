//! `BREAKER_<NAME>_<KEY>` variables read from the process environment. Tests here run in
//! parallel and share the environment, so each sets only valid variables with names of its
//! own, and loads into a registry of its own.
#![cfg(feature = "config")]

mod common;

use breaker_runtime::config::{load_env_into, load_vars_into};
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

/// Regression (issue 13, item 9): a path-like name such as the attribute's default for a
/// method, `exp::Repo::count`, needed `BREAKER_EXP__REPO__COUNT_…`, and the natural
/// `BREAKER_EXP_REPO_COUNT_…` loaded without error and changed nothing. A run of separators is
/// one `_`, and none is written at either end.
#[test]
fn a_run_of_separators_is_spelt_as_one_underscore() {
    let r = Registry::new();
    let method = r.get_or_create("cfgenv::Repo::count", BreakerConfig::default());
    let edged = r.get_or_create("--cfgenv edged.", BreakerConfig::default());
    let snake = r.get_or_create("cfgenv_my_svc::get", BreakerConfig::default());
    let old = r.get_or_create("cfgenv::Old::style", BreakerConfig::default());
    load_vars_into(
        &r,
        [
            ("BREAKER_CFGENV_REPO_COUNT_FAILURE_THRESHOLD", "1"),
            ("BREAKER_CFGENV_EDGED_FAILURE_THRESHOLD", "2"),
            // A name and a key that both have underscores still split at the key.
            ("BREAKER_CFGENV_MY_SVC_GET_HALF_OPEN_MAX_CALLS", "4"),
            ("BREAKER_CFGENV_MY_SVC_GET_FAILURE_THRESHOLD", "3"),
            // As the rule once spelt it: a variable's name is spelt again by the rule.
            ("BREAKER_CFGENV__OLD__STYLE_FAILURE_THRESHOLD", "4"),
        ],
    )
    .unwrap();
    assert_eq!(failures_to_open(&method), 1);
    assert_eq!(failures_to_open(&edged), 2);
    assert_eq!(failures_to_open(&snake), 3);
    assert_eq!(snake.settings().half_open_max_calls, 4);
    assert_eq!(failures_to_open(&old), 4);
    // Created after the read: the same spelling finds it.
    let later = r.get_or_create("cfgenv::Repo::count::", BreakerConfig::default());
    assert_eq!(failures_to_open(&later), 1);
}
