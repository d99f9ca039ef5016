//! `load_file` picks the format by the file's extension (issue 13, item 16): `.toml`, and
//! `.yaml` / `.yml` with the `yaml` feature, read into the same settings by the same rules, so
//! a YAML file has the keys, precedence and errors of its TOML twin.
#![cfg(feature = "config")]

mod common;

use breaker_runtime::config::load_file_into;
use breaker_runtime::{ConfigError, Registry};
use std::path::PathBuf;

/// Writes `text` to a file named `name` in a folder of this test run's own.
fn file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("config-formats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn an_unknown_extension_says_which_are_supported() {
    for name in ["breakers.json", "breakers", "breakers.ini"] {
        let path = file(name, "[default]\nfailure_threshold = 2\n");
        let e = load_file_into(&Registry::new(), &path).unwrap_err();
        let ConfigError::Parse { source_name, .. } = &e else {
            panic!("{e:?}");
        };
        assert_eq!(source_name, &path.display().to_string());
        let shown = e.to_string();
        assert!(shown.contains(".toml"), "{shown}");
        assert!(shown.contains(".yaml") && shown.contains(".yml"), "{shown}");
        assert!(shown.contains("`yaml` feature"), "{shown}");
    }
    // The extension's case does not matter.
    let path = file("upper.TOML", "[default]\nfailure_threshold = 2\n");
    load_file_into(&Registry::new(), &path).unwrap();
}

#[cfg(not(feature = "yaml"))]
#[test]
fn a_yaml_file_without_the_feature_says_which_feature_reads_it() {
    let path = file("breakers.yaml", "default:\n  failure_threshold: 2\n");
    let e = load_file_into(&Registry::new(), &path).unwrap_err();
    assert!(e.to_string().contains("`yaml` feature"), "{e}");
}

#[cfg(feature = "yaml")]
mod yaml {
    use super::common::failures_to_open;
    use super::file;
    use breaker_runtime::config::{load_file_into, load_str_into, load_vars_into};
    use breaker_runtime::{Backoff, BreakerConfig, ConfigError, Registry};
    use std::time::Duration;

    const TOML: &str = r#"
[default]
failure_threshold = 7
reset_timeout = "12s"

[breakers."quotes"]
failure_threshold = 3
backoff = { kind = "exponential", multiplier = 2.0, max = "5m", jitter = 0.1 }

[breakers."quotes-eu"]
base = "quotes"
window = "60s"
failure_rate = 0.5
minimum_calls = 20

[breakers."quotes-eu-west"]
base = "quotes-eu"
failure_threshold = 2
"#;

    const YAML: &str = r#"
# The TOML above, in YAML.
default:
  failure_threshold: 7
  reset_timeout: 12s

breakers:
  quotes:
    failure_threshold: 3
    backoff: { kind: exponential, multiplier: 2.0, max: 5m, jitter: 0.1 }
  quotes-eu:
    base: quotes
    window: 60s
    failure_rate: 0.5
    minimum_calls: 20
  "quotes-eu-west":
    base: "quotes-eu"
    failure_threshold: 2
"#;

    /// Every breaker's settings under a registry loaded from `path`.
    fn settings_of(path: &std::path::Path) -> Vec<breaker_runtime::Settings> {
        let r = Registry::new();
        load_file_into(&r, path).unwrap();
        ["plain", "quotes", "quotes-eu", "quotes-eu-west"]
            .iter()
            .map(|n| r.get_or_create(n, BreakerConfig::default()).settings())
            .collect()
    }

    #[test]
    fn a_yaml_file_sets_what_its_toml_twin_sets() {
        let toml = settings_of(&file("twin.toml", TOML));
        for name in ["twin.yaml", "twin.yml", "twin.YAML"] {
            assert_eq!(settings_of(&file(name, YAML)), toml, "{name}");
        }
        // The base chain: quotes-eu-west has quotes' backoff and quotes-eu's rate.
        let west = &toml[3];
        assert_eq!(west.failure_rate, Some(0.5));
        assert_eq!(
            west.backoff,
            Backoff::exponential(2.0)
                .max(Duration::from_secs(300))
                .jitter(0.1)
        );
        assert_eq!(west.reset_timeout, Duration::from_secs(12));
    }

    #[test]
    fn yaml_has_the_precedence_of_toml() {
        let r = Registry::new();
        let coded = r.get_or_create(
            "coded",
            BreakerConfig::builder().failure_threshold(4).build(),
        );
        load_file_into(
            &r,
            file(
                "precedence.yaml",
                "default:\n  failure_threshold: 7\nbreakers:\n  table:\n    failure_threshold: 2\n",
            ),
        )
        .unwrap();
        load_vars_into(&r, [("BREAKER_TABLE_FAILURE_THRESHOLD", "3")]).unwrap();
        assert_eq!(failures_to_open(&coded), 4, "the code over [default]");
        let plain = r.get_or_create("plain", BreakerConfig::default());
        assert_eq!(failures_to_open(&plain), 7);
        let table = r.get_or_create(
            "table",
            BreakerConfig::builder().failure_threshold(4).build(),
        );
        assert_eq!(failures_to_open(&table), 3, "the variable over the table");
    }

    /// The error a document gives as TOML, then as YAML.
    fn both(toml: &str, yaml: &str) -> (ConfigError, ConfigError) {
        let t = load_str_into(&Registry::new(), toml).unwrap_err();
        let y = load_file_into(&Registry::new(), file("bad.yaml", yaml)).unwrap_err();
        (t, y)
    }

    #[test]
    fn yaml_errors_are_toml_errors() {
        for (toml, yaml) in [
            (
                "[breakers.quotes]\nfailure_rate = 1.5",
                "breakers:\n  quotes:\n    failure_rate: 1.5\n",
            ),
            (
                "[breakers.quotes]\nfailure_treshold = 3",
                "breakers:\n  quotes:\n    failure_treshold: 3\n",
            ),
            (
                "[breakers.quotes]\nreset_timeout = \"30 parsecs\"",
                "breakers:\n  quotes:\n    reset_timeout: 30 parsecs\n",
            ),
            (
                "[breakers.quotes]\nreset_timeout = 30",
                "breakers:\n  quotes:\n    reset_timeout: 30\n",
            ),
            (
                "[breakers.a]\nbase = \"b\"\n[breakers.b]\nbase = \"a\"",
                "breakers:\n  a: { base: b }\n  b: { base: a }\n",
            ),
            (
                "[breakers.quotes-eu]\nbase = \"quote\"",
                "breakers:\n  quotes-eu:\n    base: quote\n",
            ),
            (
                "[breakers.quotes]\nbackoff = { kind = \"cubic\" }",
                "breakers:\n  quotes:\n    backoff: { kind: cubic }\n",
            ),
        ] {
            let (t, y) = both(toml, yaml);
            assert_eq!(t, y, "{toml}");
        }
        let path = file("rate.yml", "breakers:\n  quotes:\n    failure_rate: 1.5\n");
        assert_eq!(
            load_file_into(&Registry::new(), path)
                .unwrap_err()
                .to_string(),
            "breaker `quotes`: `failure_rate` = 1.5 is invalid: must be a fraction in (0, 1]; 1.5 is above 1"
        );
    }

    #[test]
    fn a_missing_value_names_breaker_and_key() {
        let path = file(
            "null.yaml",
            "breakers:\n  quotes:\n    failure_threshold:\n",
        );
        let e = load_file_into(&Registry::new(), &path).unwrap_err();
        let ConfigError::Invalid { breaker, key, .. } = &e else {
            panic!("{e:?}");
        };
        assert_eq!(
            (breaker.as_str(), key.as_str()),
            ("quotes", "failure_threshold")
        );
    }

    #[test]
    fn a_yaml_syntax_error_names_the_file_and_the_line() {
        let path = file(
            "syntax.yaml",
            "default:\n  failure_threshold: 2\n reset_timeout: [10s\n",
        );
        let e = load_file_into(&Registry::new(), &path).unwrap_err();
        let ConfigError::Parse { source_name, .. } = &e else {
            panic!("{e:?}");
        };
        assert_eq!(source_name, &path.display().to_string());
        assert!(e.to_string().contains("line 3"), "{e}");
        // The top level is checked as TOML's is.
        let path = file("top.yaml", "failure_threshold: 2\n");
        let e = load_file_into(&Registry::new(), &path).unwrap_err();
        assert!(e.to_string().contains("settings go below"), "{e}");
        // An empty file sets nothing, as an empty TOML file does.
        load_file_into(&Registry::new(), file("empty.yaml", "")).unwrap();
    }
}
