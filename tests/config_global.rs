//! `config::load_str`, `load_file` and `load_env` on the global registry, driving a breaker
//! made by `#[circuit_breaker]`. One test: each load replaces the global layers, so loads
//! in parallel tests would undo each other.
#![cfg(feature = "config")]

mod common;

use breaker_runtime::{circuit_breaker, config, registry, State};
use common::AppError;

#[circuit_breaker(name = "cfg-global", failure_threshold = 4, reset_timeout = "30s")]
fn fetch(up: bool) -> Result<u32, AppError> {
    if up {
        Ok(1)
    } else {
        Err(AppError::Down)
    }
}

/// Failures until the attribute's breaker rejects, then closes it again.
fn failures_to_open() -> u32 {
    let mut n = 0;
    while fetch(false) == Err(AppError::Down) {
        n += 1;
        assert!(n <= 100, "did not open");
    }
    let breaker = registry().get("cfg-global").unwrap();
    assert_eq!(breaker.state(), State::Open);
    breaker.reset();
    n
}

#[test]
fn loads_drive_an_attribute_made_breaker() {
    // Loaded before the function's first call (its breaker is known from the start): the
    // table beats the attribute's 4.
    config::load_str("[breakers.cfg-global]\nfailure_threshold = 2").unwrap();
    assert!(
        registry().get("cfg-global").is_some(),
        "known before its first call"
    );
    assert_eq!(fetch(true), Ok(1));
    assert_eq!(failures_to_open(), 2);

    // A file without the table: [default] is under the attribute, so its 4 is back.
    let path = std::env::temp_dir().join(format!("cfg-global-{}.toml", std::process::id()));
    std::fs::write(&path, "[default]\nfailure_threshold = 9\n").unwrap();
    config::load_file(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(failures_to_open(), 4);

    // The environment beats the attribute, and the open breaker stays open through the load.
    for _ in 0..4 {
        let _ = fetch(false);
    }
    std::env::set_var("BREAKER_CFG_GLOBAL_FAILURE_THRESHOLD", "1");
    config::load_env().unwrap();
    let breaker = registry().get("cfg-global").unwrap();
    assert_eq!(breaker.state(), State::Open);
    breaker.reset();
    assert_eq!(failures_to_open(), 1);

    // A failed load changes nothing.
    assert!(config::load_str("[breakers.cfg-global]\nfailure_threshold = 0").is_err());
    std::env::remove_var("BREAKER_CFG_GLOBAL_FAILURE_THRESHOLD");
    assert_eq!(
        failures_to_open(),
        1,
        "the environment read before still applies"
    );
}
