//! Config files and `BREAKER_<NAME>_<KEY>` variables: the same extremes, as text.

use super::*;

use breaker_runtime::config::{load_str_into, load_vars_into};
use breaker_runtime::{BreakerConfig, Registry};

/// A key written in a file or variable, with the keys it needs beside it.
struct Text {
    key: &'static str,
    /// As a file writes it (TOML).
    toml: &'static str,
    /// As a variable writes it.
    var: &'static str,
    expect: Expect,
    timing: Timing,
    /// Other keys the case needs: (key, TOML, variable).
    with: &'static [(&'static str, &'static str, &'static str)],
}

const fn text(key: &'static str, toml: &'static str, var: &'static str, expect: Expect) -> Text {
    Text {
        key,
        toml,
        var,
        expect,
        timing: Timing {
            first: RESET,
            reopen: RESET,
            half_open_timeout: HALF_OPEN_TIMEOUT,
            call_timeout: None,
            slow_call: None,
        },
        with: &[],
    }
}

fn cases() -> Vec<Text> {
    const RATE: &[(&str, &str, &str)] = &[("failure_rate", "0.5", "0.5")];
    const SLOW: &[(&str, &str, &str)] = &[("slow_call", "\"1ms\"", "1ms")];
    const FAIL_FAST: &[(&str, &str, &str)] = &[("failure_threshold", "1", "1")];
    const ALONE: &[(&str, &str, &str)] = &[];
    let mut all = Vec::new();
    for key in [
        "failure_threshold",
        "minimum_calls",
        "success_threshold",
        "half_open_max_calls",
    ] {
        all.push(text(key, "0", "0", Refused));
        all.push(text(key, "1", "1", Accepted));
        all.push(text(key, "-1", "-1", Refused));
        all.push(text(
            key,
            "-9223372036854775808",
            "-9223372036854775808",
            Refused,
        ));
        all.push(text(
            key,
            "9223372036854775807",
            "9223372036854775807",
            Refused,
        ));
        all.push(text(key, "4294967296", "4294967296", Refused));
        let (max, expect) = match key {
            "success_threshold" | "half_open_max_calls" => ("65536", Refused),
            _ => ("4294967295", Accepted),
        };
        all.push(text(key, max, max, expect));
    }
    for (key, with) in [("failure_rate", ALONE), ("slow_call_rate", SLOW)] {
        for (toml, var, expect) in [
            ("0.0", "0", Refused),
            ("-0.0", "-0.0", Refused),
            (
                "2.2250738585072014e-308",
                "2.2250738585072014e-308",
                Accepted,
            ),
            ("1.0", "1", Accepted),
            ("1.0000000000000002", "1.0000000000000002", Refused),
            ("nan", "NaN", Refused),
            ("inf", "inf", Refused),
            ("-inf", "-inf", Refused),
        ] {
            let mut t = text(key, toml, var, expect);
            t.with = with;
            if key == "slow_call_rate" {
                t.timing.slow_call = Some(MS);
            }
            all.push(t);
        }
    }
    for key in [
        "slow_call",
        "half_open_timeout",
        "call_timeout",
        "reset_timeout",
    ] {
        for (toml, var, d, expect) in [
            ("\"0s\"", "0s", Duration::ZERO, Refused),
            ("\"1ns\"", "1ns", NS, Accepted),
            ("\"365d\"", "365d", YEAR, Accepted),
            (
                "\"31536000.000000001s\"",
                "31536000.000000001s",
                YEAR_1NS,
                Refused,
            ),
            (
                "\"18446744073709551615s\"",
                "18446744073709551615s",
                Duration::MAX,
                Refused,
            ),
            (
                "\"99999999999999999999999999999999999999d\"",
                "99999999999999999999999999999999999999d",
                Duration::MAX,
                Refused,
            ),
        ] {
            let mut t = text(key, toml, var, expect);
            match key {
                "slow_call" => t.timing.slow_call = Some(d),
                "half_open_timeout" => t.timing.half_open_timeout = d,
                "call_timeout" => t.timing.call_timeout = Some(d),
                _ => {
                    t.expect = if d.is_zero() { Accepted } else { expect };
                    t.timing = Timing::reset(d, None);
                }
            }
            all.push(t);
        }
    }
    for (toml, var, expect) in [
        ("0", "0", Refused),
        ("1", "1", Accepted),
        ("65535", "65535", Accepted),
        ("65536", "65536", Refused),
        ("4294967296", "4294967296", Refused),
        ("\"1ns\"", "1ns", Refused),
        ("\"10ms\"", "10ms", Accepted),
        ("\"365d\"", "365d", Accepted),
        ("\"31536000.000000001s\"", "31536000.000000001s", Refused),
    ] {
        let mut t = text("window", toml, var, expect);
        t.with = RATE;
        all.push(t);
    }
    for (toml, var, b, expect) in [
        (
            "{ kind = \"exponential\", multiplier = 1.0 }",
            "exponential(multiplier=1)",
            Some(Backoff::exponential(1.0)),
            Accepted,
        ),
        (
            "{ kind = \"exponential\", multiplier = 1e308 }",
            "exponential(multiplier=1e308)",
            Some(Backoff::exponential(1e308)),
            Accepted,
        ),
        (
            "{ kind = \"exponential\", multiplier = 1.7976931348623157e308, jitter = 1.0 }",
            "exponential(multiplier=1.7976931348623157e308,jitter=1)",
            Some(Backoff::exponential(f64::MAX).jitter(1.0)),
            Accepted,
        ),
        (
            "{ kind = \"exponential\", multiplier = nan }",
            "exponential(multiplier=NaN)",
            None,
            Refused,
        ),
        (
            "{ kind = \"exponential\", multiplier = inf }",
            "exponential(multiplier=inf)",
            None,
            Refused,
        ),
        (
            "{ kind = \"fixed\", jitter = -0.0 }",
            "fixed(jitter=-0.0)",
            Some(Backoff::fixed()),
            Accepted,
        ),
        (
            "{ kind = \"fixed\", jitter = 1.0000000000000002 }",
            "fixed(jitter=1.0000000000000002)",
            None,
            Refused,
        ),
        (
            "{ kind = \"fixed\", jitter = nan }",
            "fixed(jitter=NaN)",
            None,
            Refused,
        ),
        (
            "{ kind = \"linear\", step = \"365d\", max = \"365d\" }",
            "linear(step=365d,max=365d)",
            Some(Backoff::linear(YEAR).max(YEAR)),
            Accepted,
        ),
        (
            "{ kind = \"linear\", step = \"0s\" }",
            "linear(step=0s)",
            None,
            Refused,
        ),
    ] {
        let mut t = text("backoff", toml, var, expect);
        t.with = FAIL_FAST;
        if let Some(b) = b {
            t.timing = Timing::reset(RESET, Some(b));
        }
        all.push(t);
    }
    all
}

/// Runs `load` on a registry of its own, creates the breaker there, and drives it; `None`
/// when all went as the README says, else what went wrong.
fn one(
    source: &str,
    t: &Text,
    load: impl FnOnce(&Registry) -> Result<(), breaker_runtime::ConfigError>,
) -> Option<String> {
    let case = format!(
        "{source}: {} = {}",
        t.key,
        if source == "file" { t.toml } else { t.var }
    );
    let registry = Registry::new();
    let loaded = match catch_unwind(AssertUnwindSafe(|| {
        load(&registry)
            .and_then(|()| registry.try_get_or_create("extreme-config", BreakerConfig::default()))
    })) {
        Err(panic) => return Some(format!("{case}: panicked: {}", message(&panic))),
        Ok(loaded) => loaded,
    };
    match (loaded, t.expect) {
        (Ok(b), Accepted) => drive_on_a_paused_clock(&b, t.timing, &case).err(),
        (Err(e), Refused) => {
            let text = e.to_string();
            (!text.contains(&format!("`{}`", t.key)))
                .then(|| format!("{case}: the error does not name the key: {text}"))
        }
        (Ok(_), Refused) => Some(format!("{case}: accepted, but the README rules it out")),
        (Err(e), Accepted) => Some(format!("{case}: refused, but the README allows it: {e}")),
    }
}

#[test]
fn files_at_the_extremes() {
    let wrong: Vec<String> = cases()
        .iter()
        .filter_map(|t| {
            let mut toml = format!("[breakers.\"extreme-config\"]\n{} = {}\n", t.key, t.toml);
            for (key, value, _) in t.with {
                toml.push_str(&format!("{key} = {value}\n"));
            }
            one("file", t, |r| load_str_into(r, &toml))
        })
        .collect();
    assert_none_wrong(wrong);
}

#[test]
fn variables_at_the_extremes() {
    let var = |key: &str| format!("BREAKER_EXTREME_CONFIG_{}", key.to_ascii_uppercase());
    let wrong: Vec<String> = cases()
        .iter()
        .filter_map(|t| {
            let mut vars = vec![(var(t.key), t.var.to_owned())];
            for (key, _, value) in t.with {
                vars.push((var(key), (*value).to_owned()));
            }
            one("variable", t, |r| load_vars_into(r, vars))
        })
        .collect();
    assert_none_wrong(wrong);
}
