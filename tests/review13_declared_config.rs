//! Review 13: a config file loaded before an annotated function's first call, on the global
//! registry. Alone in its binary: no other test builds the declared breakers (a `snapshot`
//! would hide the bug) or loads settings (each load replaces the global layers).
#![cfg(feature = "config")]

use breaker_runtime::{circuit_breaker, registry, BreakerError, State};

#[derive(Debug)]
struct Down;

impl From<BreakerError> for Down {
    fn from(_: BreakerError) -> Self {
        Down
    }
}

use breaker_runtime::config;

#[circuit_breaker(
    name = "rev13-cfg-declared",
    failure_threshold = 5,
    reset_timeout = "1h"
)]
fn configured(up: bool) -> Result<u8, Down> {
    if up {
        Ok(1)
    } else {
        Err(Down)
    }
}

/// The contract: a loaded name "that matches no breaker known to the registry" is
/// reported; a declared breaker is known from the start, before its first call.
#[test]
fn a_table_for_a_declared_breaker_is_not_unmatched_and_applies() {
    config::load_str(
        r#"
        [breakers."rev13-cfg-declared"]
        failure_threshold = 1
        "#,
    )
    .unwrap();
    assert!(
        !config::unmatched().contains(&"rev13-cfg-declared".to_owned()),
        "a declared breaker is known: {:?}",
        config::unmatched()
    );
    let _ = configured(false);
    assert!(configured(true).is_err(), "the file's threshold 1 applies");
    // Loaded after it exists: reconfigures, keeping its state.
    config::load_str(
        r#"
        [breakers."rev13-cfg-declared"]
        failure_threshold = 4
        "#,
    )
    .unwrap();
    let b = registry().get("rev13-cfg-declared").unwrap();
    assert_eq!(b.settings().failure_threshold, Some(4));
    assert_eq!(b.state(), State::Open);
}

#[circuit_breaker(name = "rev13-env-declared", failure_threshold = 5)]
fn env_configured() -> Result<u8, Down> {
    Ok(1)
}

/// A bad variable for a declared breaker that has not been called yet names the breaker as
/// it is (CONTRACT: "a `ConfigError` whose `Display` names the breaker"), as it does once the
/// breaker is built, not as the variable spells it.
#[test]
fn a_bad_variable_for_a_declared_breaker_names_it() {
    let err = config::load_vars_into(
        registry(),
        [("BREAKER_REV13_ENV_DECLARED_FAILURE_THRESHOLD", "zero")],
    )
    .unwrap_err();
    assert!(err.to_string().contains("`rev13-env-declared`"), "{err}");
    assert_eq!(env_configured().unwrap(), 1);
}
