//! Every bad input to `breaker_runtime::config` is a `ConfigError` whose message names the
//! breaker, the key and the value; none panics. Each test loads into a registry of its own.
#![cfg(feature = "config")]

use breaker_runtime::config::{load_file_into, load_str_into, load_vars_into};
use breaker_runtime::{BreakerConfig, ConfigError, Registry};

fn file_err(toml: &str) -> ConfigError {
    load_str_into(&Registry::new(), toml).expect_err(toml)
}

fn var_err(registry: &Registry, name: &str, value: &str) -> ConfigError {
    load_vars_into(registry, [(name, value)]).expect_err(name)
}

#[test]
fn unknown_keys_suggest_the_right_one() {
    let e = file_err("[breakers.quotes]\nfailure_treshold = 3");
    assert_eq!(
        e,
        ConfigError::UnknownKey {
            breaker: "quotes".into(),
            key: "failure_treshold".into(),
            suggestion: Some("failure_threshold".into()),
        }
    );
    assert_eq!(
        e.to_string(),
        "breaker `quotes`: unknown key `failure_treshold`; did you mean `failure_threshold`?"
    );
    let timeout = file_err("[breakers.quotes]\ntimeout = \"5s\"").to_string();
    assert!(
        timeout.ends_with("did you mean `call_timeout`?")
            || timeout.ends_with("did you mean `reset_timeout`?"),
        "{timeout}"
    );
    assert_eq!(
        file_err("[default]\nwindw = 3").to_string(),
        "breaker `default`: unknown key `windw`; did you mean `window`?"
    );
    assert_eq!(
        file_err("[breakers.quotes]\ncolour = \"red\"").to_string(),
        "breaker `quotes`: unknown key `colour`"
    );
}

#[test]
fn wrong_types_name_what_was_expected() {
    let cases = [
        (
            "failure_threshold = \"3\"",
            "breaker `q`: `failure_threshold` = \"3\" is invalid: expected a whole number, found a string",
        ),
        (
            "failure_threshold = 1.5",
            "breaker `q`: `failure_threshold` = 1.5 is invalid: expected a whole number, found a float",
        ),
        (
            "failure_rate = \"half\"",
            "breaker `q`: `failure_rate` = \"half\" is invalid: expected a number, found a string",
        ),
        (
            "window = true",
            "breaker `q`: `window` = true is invalid: expected a number of calls or a duration string, found a boolean",
        ),
        (
            "backoff = 3",
            "breaker `q`: `backoff` = 3 is invalid: expected a string or a table, found an integer",
        ),
        (
            "base = 3",
            "breaker `q`: `base` = 3 is invalid: expected the name of another breaker's table as a string, found an integer",
        ),
    ];
    for (line, expected) in cases {
        let e = file_err(&format!("[breakers.q]\n{line}"));
        assert!(matches!(e, ConfigError::Invalid { .. }), "{e:?}");
        assert!(
            e.to_string().starts_with(expected),
            "{e}\nshould start with\n{expected}"
        );
    }
}

#[test]
fn values_out_of_range_are_rejected_with_the_value_as_written() {
    let cases = [
        ("failure_threshold = 0", "`failure_threshold` = 0 is invalid: must be at least 1"),
        ("failure_threshold = -2", "`failure_threshold` = -2 is invalid: must be at least 1"),
        ("minimum_calls = 0", "`minimum_calls` = 0 is invalid: must be at least 1"),
        ("success_threshold = 70000", "`success_threshold` = 70000 is invalid: must be at most 65535"),
        ("failure_rate = 1.5", "`failure_rate` = 1.5 is invalid: must be a fraction in (0, 1]; 1.5 is above 1"),
        ("failure_rate = nan", "`failure_rate` = nan is invalid: must be a fraction in (0, 1], e.g. 0.5"),
        ("slow_call_rate = 0.0", "`slow_call_rate` = 0.0 is invalid: must be a fraction in (0, 1]; 0 would open on no failures at all"),
        ("window = 0", "`window` = 0 is invalid: must hold at least 1 call"),
        ("window = 70000", "`window` = 70000 is invalid: must be at most 65535 calls"),
        ("window = \"1ms\"", "`window` = \"1ms\" is invalid: must be at least \"10ms\" as a time window: it keeps ten buckets of at least a millisecond each"),
        ("reset_timeout = \"400d\"", "`reset_timeout` = \"400d\" is invalid: must be at most a year (\"365d\")"),
        ("half_open_timeout = \"0s\"", "`half_open_timeout` = \"0s\" is invalid: must be longer than zero"),
        (
            "backoff = { kind = \"exponential\", multiplier = 0.5 }",
            "`backoff` = { kind = \"exponential\", multiplier = 0.5 } is invalid: `multiplier` = 0.5: must be a finite number of at least 1, e.g. 2.0",
        ),
        ("backoff = \"fixed(jitter = 2)\"", "`backoff` = \"fixed(jitter = 2)\" is invalid: `jitter` = 2: must be a fraction in [0, 1], e.g. 0.1"),
    ];
    for (line, expected) in cases {
        let e = file_err(&format!("[breakers.q]\n{line}"));
        assert_eq!(e.to_string(), format!("breaker `q`: {expected}"));
    }
}

#[test]
fn bad_durations_say_how_to_write_one() {
    let hint =
        "write a number and a unit (ns, us, ms, s, m, h, d), e.g. \"250ms\", \"30s\" or \"1m30s\"";
    let cases = [
        ("reset_timeout = \"30 parsecs\"", "`reset_timeout` = \"30 parsecs\" is invalid: unknown unit `parsecs` in \"30 parsecs\": "),
        ("call_timeout = \"30\"", "`call_timeout` = \"30\" is invalid: `30` needs a unit: \"30s\" or \"30ms\"; "),
        ("slow_call = \"\"", "`slow_call` = \"\" is invalid: empty duration: "),
        ("reset_timeout = 30", "`reset_timeout` = 30 is invalid: a duration needs a unit and quotes: "),
        ("window = \"soon\"", "`window` = \"soon\" is invalid: `soon` is not a duration: "),
        (
            "backoff = { kind = \"linear\", step = \"10 parsecs\" }",
            "`backoff` = { kind = \"linear\", step = \"10 parsecs\" } is invalid: `step` = \"10 parsecs\": unknown unit `parsecs` in \"10 parsecs\": ",
        ),
    ];
    for (line, expected) in cases {
        let e = file_err(&format!("[breakers.q]\n{line}"));
        assert_eq!(e.to_string(), format!("breaker `q`: {expected}{hint}"));
    }
}

#[test]
fn bad_backoffs_say_what_each_kind_takes() {
    let cases = [
        (
            "{ kind = \"exponential\" }",
            "`exponential` backoff needs a `multiplier`",
        ),
        (
            "{ kind = \"linear\", max = \"1m\" }",
            "`linear` backoff needs a `step`",
        ),
        ("{ multiplier = 2.0 }", "the table needs a `kind`"),
        (
            "{ kind = \"linear\", step = \"1s\", multiplier = 2.0 }",
            "`linear` backoff has no `multiplier`; it takes `step`, `max` or `jitter`",
        ),
        ("\"cubic\"", "unknown backoff kind `cubic`"),
        ("\"exponential(multiplier = 2\"", "missing `)`"),
        (
            "\"exponential(multiplier 2)\"",
            "expected `name = value`, found `multiplier 2`",
        ),
    ];
    for (value, expected) in cases {
        let e = file_err(&format!("[breakers.q]\nbackoff = {value}")).to_string();
        assert!(e.starts_with("breaker `q`: `backoff` = "), "{e}");
        assert!(e.contains(expected), "{e}\nshould contain {expected}");
    }
}

#[test]
fn code_only_arguments_say_so() {
    for key in ["failure_if", "ignore_if", "fallback", "name", "crate"] {
        let e = file_err(&format!("[breakers.q]\n{key} = \"x\"")).to_string();
        assert!(
            e.starts_with(&format!("breaker `q`: `{key}` = \"x\" is invalid: ")),
            "{e}"
        );
        assert!(
            e.contains("code only") || e.contains("attribute only"),
            "{e}"
        );
    }
}

#[test]
fn base_cycles_and_missing_bases_are_errors() {
    assert_eq!(
        file_err("[breakers.q]\nbase = \"q\""),
        ConfigError::BaseCycle {
            breaker: "q".into(),
            chain: vec!["q".into(), "q".into()],
        }
    );
    let e = file_err(
        "[breakers.a]\nbase = \"b\"\n[breakers.b]\nbase = \"c\"\n[breakers.c]\nbase = \"a\"",
    );
    assert_eq!(
        e.to_string(),
        "breaker `a`: `base` chain loops: a -> b -> c -> a"
    );
    // A chain that runs into a loop further on names the loop.
    let e = file_err(
        "[breakers.a]\nbase = \"b\"\n[breakers.b]\nbase = \"c\"\n[breakers.c]\nbase = \"b\"",
    );
    assert_eq!(
        e.to_string(),
        "breaker `b`: `base` chain loops: b -> c -> b"
    );

    let e = file_err("[breakers.q]\nbase = \"nobody\"");
    assert_eq!(
        e,
        ConfigError::UnknownBase {
            breaker: "q".into(),
            base: "nobody".into(),
        }
    );
    assert_eq!(
        e.to_string(),
        "breaker `q`: `base` = \"nobody\" names no `[breakers.\"nobody\"]` table"
    );
    let e = file_err("[breakers.a]\nbase = \"b\"\n[breakers.b]\nbase = \"gone\"");
    assert_eq!(
        e.to_string(),
        "breaker `b`: `base` = \"gone\" names no `[breakers.\"gone\"]` table"
    );
    assert_eq!(
        file_err("[default]\nbase = \"q\"").to_string(),
        "breaker `default`: `base` = \"q\" is invalid: `[default]` applies to every breaker and cannot have a `base`"
    );
}

#[test]
fn syntax_errors_give_the_line() {
    let e = file_err("[default]\nreset_timeout = \"30s\"\nfailure_threshold = \n");
    let ConfigError::Parse {
        source_name,
        message,
    } = &e
    else {
        panic!("{e:?}");
    };
    assert_eq!(source_name, "<string>");
    assert!(message.contains("line 3"), "{message}");
    let dup = file_err("[breakers.q]\nfailure_threshold = 3\nfailure_threshold = 4").to_string();
    assert!(
        dup.contains("line 3") && dup.contains("duplicate key"),
        "{dup}"
    );
}

#[test]
fn the_document_shape_is_checked() {
    let cases = [
        ("failure_threshold = 3", "<string>: unknown top-level key `failure_threshold`; settings go below `[default]` or `[breakers.\"name\"]`"),
        ("[breaker.q]\nfailure_threshold = 3", "<string>: unknown top-level key `breaker`; did you mean `[breakers]`?"),
        ("default = 3", "<string>: `default` must be a table, found an integer: write `[default]` and the settings below it"),
        ("[breakers]\nq = 3", "<string>: `breakers.\"q\"` must be a table: write `[breakers.\"q\"]` and the settings below it"),
        ("[breakers.\"\"]\nfailure_threshold = 3", "<string>: `[breakers.\"\"]`: a breaker's name cannot be empty"),
    ];
    for (doc, expected) in cases {
        let e = file_err(doc);
        assert!(matches!(e, ConfigError::Parse { .. }), "{e:?}");
        assert_eq!(e.to_string(), expected);
    }
}

#[test]
fn settings_that_do_not_fit_an_existing_breaker_are_set_aside_for_it_alone() {
    let r = Registry::new();
    let plain = r.get_or_create("plain", BreakerConfig::default());
    // `slow_call_rate` is fine on its own, but `plain` has no `slow_call`: like a breaker
    // created after the load, `plain` keeps its code's settings and the error is logged.
    load_str_into(&r, "[default]\nslow_call_rate = 0.5").unwrap();
    assert_eq!(plain.settings().slow_call_rate, None);
    load_str_into(&r, "[default]\nslow_call_rate = 0.5").unwrap();
}

#[test]
fn unreadable_files_are_io_errors() {
    let e = load_file_into(&Registry::new(), "/no/such/dir/breakers.toml").unwrap_err();
    let ConfigError::Io { path, .. } = &e else {
        panic!("{e:?}");
    };
    assert_eq!(path, "/no/such/dir/breakers.toml");
    assert!(
        e.to_string()
            .starts_with("cannot read config file /no/such/dir/breakers.toml: "),
        "{e}"
    );

    let dir = std::env::temp_dir().join(format!("config-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let binary = dir.join("binary.toml");
    std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
    assert!(matches!(
        load_file_into(&Registry::new(), &binary),
        Err(ConfigError::Io { .. })
    ));
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[default]\nfailure_threshold = = 3\n").unwrap();
    let e = load_file_into(&Registry::new(), &bad).unwrap_err();
    let shown = e.to_string();
    assert!(
        shown.starts_with(&format!("{}: ", bad.display())),
        "{shown}"
    );
    assert!(shown.contains("line 2"), "{shown}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_variables_name_breaker_key_value_and_variable() {
    let r = Registry::new();
    r.get_or_create("quotes-api", BreakerConfig::default());
    let cases = [
        (
            "BREAKER_QUOTES_API_FAILURE_THRESHOLD",
            "abc",
            "breaker `quotes-api`: `failure_threshold` = \"abc\" is invalid: expected a whole number (from `BREAKER_QUOTES_API_FAILURE_THRESHOLD`)",
        ),
        (
            "BREAKER_QUOTES_API_FAILURE_THRESHOLD",
            "0",
            "breaker `quotes-api`: `failure_threshold` = \"0\" is invalid: must be at least 1 (from `BREAKER_QUOTES_API_FAILURE_THRESHOLD`)",
        ),
        (
            "BREAKER_QUOTES_API_FAILURE_RATE",
            "2",
            "breaker `quotes-api`: `failure_rate` = \"2\" is invalid: must be a fraction in (0, 1], not a percentage: for 2% write 0.02 (from `BREAKER_QUOTES_API_FAILURE_RATE`)",
        ),
        (
            "BREAKER_QUOTES_API_BACKOFF",
            "exponential(max=5m)",
            "breaker `quotes-api`: `backoff` = \"exponential(max=5m)\" is invalid: `exponential` backoff needs a `multiplier`, e.g. `exponential(multiplier = 2.0, max = \"5m\")` (from `BREAKER_QUOTES_API_BACKOFF`)",
        ),
        (
            "BREAKER_QUOTES_API_TIMEOUT",
            "5s",
            "breaker `quotes-api`: unknown key `timeout`; did you mean `call_timeout`?",
        ),
        (
            "BREAKER_NOT_YET_FAILURE_TRESHOLD",
            "5",
            "breaker `not_yet`: unknown key `failure_treshold`; did you mean `failure_threshold`?",
        ),
        (
            "BREAKER_QUOTES_API_BASE",
            "other",
            "breaker `quotes-api`: `base` = \"other\" is invalid: is set in a config file only (from `BREAKER_QUOTES_API_BASE`)",
        ),
        (
            "BREAKER_DEFAULT_WINDOW",
            "0",
            "breaker `default`: `window` = \"0\" is invalid: must hold at least 1 call (from `BREAKER_DEFAULT_WINDOW`)",
        ),
        (
            "BREAKER_FAILURE_THRESHOLD",
            "5",
            "BREAKER_FAILURE_THRESHOLD: names no breaker: write `BREAKER_<NAME>_FAILURE_THRESHOLD` for one breaker, or `BREAKER_DEFAULT_FAILURE_THRESHOLD` for every breaker",
        ),
    ];
    for (name, value, expected) in cases {
        assert_eq!(var_err(&r, name, value).to_string(), expected);
    }
    let code_only = var_err(&r, "BREAKER_QUOTES_API_FAILURE_IF", "is_5xx").to_string();
    assert!(
        code_only.starts_with("breaker `quotes-api`: `failure_if` = \"is_5xx\" is invalid: is a function, so it is set in code only"),
        "{code_only}"
    );
    let nothing = var_err(&r, "BREAKER_FOO", "1").to_string();
    assert!(
        nothing.starts_with("BREAKER_FOO: ends in no setting: write `BREAKER_<NAME>_<KEY>`"),
        "{nothing}"
    );
    // Fine on its own, but `quotes-api` has no `slow_call`: not an error of the variables,
    // so the read succeeds and `quotes-api` keeps its code's settings (the error is logged).
    load_vars_into(&r, [("BREAKER_DEFAULT_SLOW_CALL_RATE", "0.5")]).unwrap();
    assert_eq!(r.get("quotes-api").unwrap().settings().slow_call_rate, None);
}

/// A valid document, mutated byte by byte, and odd values in every key: loads succeed or
/// fail with an error, and never panic.
#[test]
fn no_input_panics() {
    let valid = r#"[default]
failure_threshold = 3
[breakers."a-b"]
base = "c"
window = "60s"
backoff = { kind = "exponential", multiplier = 2.0, max = "5m", jitter = 0.1 }
[breakers.c]
failure_rate = 0.5
reset_timeout = "1m30s"
"#;
    load_str_into(&Registry::new(), valid).unwrap();
    let replacements = [
        "", "\"", "=", "[", "]", "{", "0", "-", ".", "é", "\n", "\u{0}",
    ];
    let r = Registry::new();
    r.get_or_create("a-b", BreakerConfig::default());
    for (i, _) in valid.char_indices() {
        for rep in replacements {
            let mut doc = valid.to_owned();
            let end = doc[i..].chars().next().map_or(i, |c| i + c.len_utf8());
            doc.replace_range(i..end, rep);
            let _ = load_str_into(&r, &doc);
        }
    }
    let odd = [
        "",
        " ",
        "-1",
        "0",
        "4294967296",
        "99999999999999999999999",
        "1e999",
        "NaN",
        "inf",
        "-0.0",
        "0.0000001",
        "18446744073709551615ns",
        "584y",
        "9999999999999h",
        "1.5.5s",
        "µs",
        "1µs",
        "٣s",
        "é",
        "\"",
        "\"\"",
        "'5s'",
        "fixed(",
        "linear(step=)",
        "linear(step=,)",
        "exponential(multiplier=inf)",
        "exponential(multiplier=nan,jitter=nan)",
        "((((",
        ")",
        "exponential(multiplier=2,multiplier=3)",
        "fixed(jitter=-1)",
        "{}",
        "[]",
    ];
    for key in [
        "FAILURE_THRESHOLD",
        "FAILURE_RATE",
        "MINIMUM_CALLS",
        "WINDOW",
        "SLOW_CALL",
        "SLOW_CALL_RATE",
        "SUCCESS_THRESHOLD",
        "HALF_OPEN_MAX_CALLS",
        "RESET_TIMEOUT",
        "BACKOFF",
        "HALF_OPEN_TIMEOUT",
        "CALL_TIMEOUT",
        "BASE",
        "FALLBACK",
    ] {
        for value in odd {
            for name in ["A_B", "DEFAULT", "NEW", "", "É"] {
                let _ = load_vars_into(&r, [(format!("BREAKER_{name}_{key}"), value)]);
            }
            let lower = key.to_ascii_lowercase();
            let _ = load_str_into(&r, &format!("[breakers.\"a-b\"]\n{lower} = \"{value}\""));
            let _ = load_str_into(&r, &format!("[breakers.\"a-b\"]\n{lower} = {value}"));
        }
    }
    for name in [
        "BREAKER_",
        "BREAKER__",
        "BREAKER___",
        "BREAKER_É_É",
        "BREAKER__FAILURE_THRESHOLD",
    ] {
        let _ = load_vars_into(&r, [(name, "1")]);
    }
}
