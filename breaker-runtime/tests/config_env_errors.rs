//! Bad variables in the process environment. One test only: a bad `BREAKER_` variable makes
//! every `load_env` in the process fail, so it cannot share a binary with other loads.
#![cfg(feature = "config")]

use breaker_runtime::config::load_env;
use breaker_runtime::{registry, BreakerConfig, ConfigError, State};

#[test]
fn a_bad_variable_fails_the_read_and_changes_nothing() {
    let b = registry().get_or_create(
        "cfgenv-errors",
        BreakerConfig::builder().failure_threshold(3).build(),
    );
    std::env::set_var("BREAKER_CFGENV_ERRORS_FAILURE_THRESHOLD", "2");
    load_env().unwrap();

    std::env::set_var("BREAKER_CFGENV_ERRORS_FAILURE_THRESHOLD", "1");
    std::env::set_var("BREAKER_CFGENV_ERRORS_RESET_TIMEOUT", "soon");
    assert_eq!(
        load_env().unwrap_err().to_string(),
        "breaker `cfgenv-errors`: `reset_timeout` = \"soon\" is invalid: `soon` is not a duration: write a \
         number and a unit (ns, us, ms, s, m, h, d), e.g. \"250ms\", \"30s\" or \"1m30s\" \
         (from `BREAKER_CFGENV_ERRORS_RESET_TIMEOUT`)"
    );
    std::env::remove_var("BREAKER_CFGENV_ERRORS_RESET_TIMEOUT");

    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let not_utf8 = std::ffi::OsStr::from_bytes(&[0x66, 0xff]);
        std::env::set_var("BREAKER_CFGENV_ERRORS_WINDOW", not_utf8);
        let e = load_env().unwrap_err();
        assert_eq!(
            e,
            ConfigError::Parse {
                source_name: "BREAKER_CFGENV_ERRORS_WINDOW".into(),
                message: "the value is not valid UTF-8".into(),
            }
        );
        std::env::remove_var("BREAKER_CFGENV_ERRORS_WINDOW");
    }

    // Both failed reads left the first read's threshold of 2 in place.
    for _ in 0..2 {
        let _ = b.call_sync(|| Err::<(), _>("down"));
    }
    assert_eq!(b.state(), State::Open);
}
