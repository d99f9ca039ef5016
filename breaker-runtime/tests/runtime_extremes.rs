//! Every setting at its extremes: 0, 1 and `u32::MAX`; zero, one nanosecond, a year, a year
//! and a nanosecond, `Duration::MAX`; rates at 0, the smallest positive float, 1, just above
//! 1, NaN and the infinities; multipliers 1 to `f64::MAX` and NaN; jitter 0, -0.0, 1, just
//! above 1 and NaN; windows of 1 to 65,536 calls, 10 ms and a year.
//!
//! Through the builder's `try_build`, and (feature `config`) through config files and
//! `BREAKER_<NAME>_<KEY>` variables, each must give `Ok` or an error naming the key, as the
//! README's tables say, and never panic. Every breaker that builds is then driven on the
//! paused clock: opened, waited out, probed, re-opened, probed again, a silent probe given up
//! after `half_open_timeout`. No step may panic, every rate must be in [0, 1] or `None`, and
//! `retry_after` must never exceed the reset timeout in force nor the time left before the
//! breaker lets a probe in.
//!
//! Each case runs on a paused runtime of its own, so a case that waits out a year starts the
//! next one from a fresh clock; every failing case is reported, not only the first.

mod common;

use breaker_runtime::{
    Backoff, BreakerError, CircuitBreaker, CircuitBreakerBuilder, Permit, State, Window,
};
use common::paused_runtime;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::advance;

const MS: Duration = Duration::from_millis(1);
const NS: Duration = Duration::from_nanos(1);
const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
/// A year and a nanosecond: the first duration past the longest allowed.
const YEAR_1NS: Duration = Duration::from_nanos(YEAR.as_secs() * 1_000_000_000 + 1);
/// The built-in defaults.
const RESET: Duration = Duration::from_secs(30);
const HALF_OPEN_TIMEOUT: Duration = Duration::from_secs(60);
/// The next float above 1.
const ABOVE_ONE: f64 = 1.0 + f64::EPSILON;

/// What the README says a setting's value gives.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Accepted,
    /// An error whose message names the key.
    Refused,
}
use Expect::{Accepted, Refused};

/// The timings a breaker built from a case runs with, to check `retry_after` against.
#[derive(Debug, Clone, Copy)]
struct Timing {
    /// The reset timeout in force at the first open (`reset_timeout`, capped by a backoff's
    /// `max`).
    first: Duration,
    /// The longest a re-open may wait: `reset_timeout` for a fixed backoff, zero for an
    /// exponential one from zero, else the backoff's cap (`max`, at most a year).
    reopen: Duration,
    half_open_timeout: Duration,
    call_timeout: Option<Duration>,
    slow_call: Option<Duration>,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            first: RESET,
            reopen: RESET,
            half_open_timeout: HALF_OPEN_TIMEOUT,
            call_timeout: None,
            slow_call: None,
        }
    }
}

impl Timing {
    fn reset(reset: Duration, backoff: Option<Backoff>) -> Timing {
        let backoff = backoff.unwrap_or_default();
        let cap = backoff.max_wait().unwrap_or(YEAR).min(YEAR);
        Timing {
            first: reset.min(cap),
            reopen: match backoff.kind() {
                "fixed" => reset.min(cap),
                // Any multiple of zero is zero.
                "exponential" if reset.is_zero() => Duration::ZERO,
                _ => cap,
            },
            ..Timing::default()
        }
    }
}

type Set = Box<dyn Fn(CircuitBreakerBuilder) -> CircuitBreakerBuilder>;

/// One setting at one value.
struct Case {
    key: &'static str,
    value: String,
    expect: Expect,
    timing: Timing,
    set: Set,
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {}", self.key, self.value)
    }
}

fn case(
    key: &'static str,
    value: impl fmt::Debug,
    expect: Expect,
    set: impl Fn(CircuitBreakerBuilder) -> CircuitBreakerBuilder + 'static,
) -> Case {
    Case {
        key,
        value: format!("{value:?}"),
        expect,
        timing: Timing::default(),
        set: Box::new(set),
    }
}

impl Case {
    fn timing(mut self, timing: Timing) -> Case {
        self.timing = timing;
        self
    }
}

/// `try_build` gives what the README says and never panics; the breakers that build are
/// driven on the paused clock. Returns a line per case that went wrong.
fn run(cases: Vec<Case>) -> Vec<String> {
    let mut wrong = Vec::new();
    for (i, case) in cases.into_iter().enumerate() {
        let name = format!("extreme-{}-{i}", case.key);
        let built = catch_unwind(AssertUnwindSafe(|| {
            (case.set)(CircuitBreaker::builder(&name)).try_build()
        }));
        let breaker = match (built, case.expect) {
            (Err(panic), _) => {
                wrong.push(format!("{case}: try_build panicked: {}", message(&panic)));
                continue;
            }
            (Ok(Ok(b)), Accepted) => b,
            (Ok(Err(e)), Refused) => {
                let text = e.to_string();
                if !text.contains(&format!("`{}`", case.key)) {
                    wrong.push(format!("{case}: the error does not name the key: {text}"));
                }
                continue;
            }
            (Ok(Ok(_)), Refused) => {
                wrong.push(format!("{case}: accepted, but the README rules it out"));
                continue;
            }
            (Ok(Err(e)), Accepted) => {
                wrong.push(format!("{case}: refused, but the README allows it: {e}"));
                continue;
            }
        };
        if let Err(problem) = drive_on_a_paused_clock(&breaker, case.timing, &case.to_string()) {
            wrong.push(problem);
        }
    }
    wrong
}

/// Runs [`drive`] on a paused runtime of its own; a panic becomes the error.
fn drive_on_a_paused_clock(
    breaker: &Arc<CircuitBreaker>,
    timing: Timing,
    case: &str,
) -> Result<(), String> {
    let runtime = paused_runtime();
    catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(drive(breaker, timing, case))
    }))
    .map_err(|panic| format!("{case}: {}", message(&panic)))
}

fn message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic".into())
}

/// The breaker's own millisecond: breakers decide in whole milliseconds (crate docs, "Time"),
/// so the reset timeout in force is the setting rounded up to one: a 1 ns reset timeout
/// waits, and says `retry_after` = 1 ms. The contract's "never exceeds the reset timeout in
/// force" is checked at that granularity.
fn in_whole_ms(d: Duration) -> Duration {
    let ms = d.as_millis() + u128::from(d.subsec_nanos() % 1_000_000 != 0);
    Duration::from_millis(ms as u64)
}

/// What must hold after every step: the counts add up, rates are rates, and an open
/// breaker's `retry_after_ms` is within the reset timeout in force.
fn check(b: &CircuitBreaker, bound: Duration, case: &str) {
    let m = b.metrics();
    assert_eq!(
        m.calls,
        m.successes + m.failures + m.ignored + m.rejected + m.cancelled,
        "{case}: {m:?}"
    );
    for rate in [m.failure_rate, m.slow_call_rate].into_iter().flatten() {
        assert!((0.0..=1.0).contains(&rate), "{case}: a rate of {rate}");
    }
    if let Some(ms) = b.snapshot().retry_after_ms {
        assert!(
            Duration::from_millis(ms) <= in_whole_ms(bound),
            "{case}: retry_after_ms {ms} exceeds the reset timeout in force, {bound:?}"
        );
    }
}

async fn drive(b: &CircuitBreaker, t: Timing, case: &str) {
    check(b, t.first, case);
    for _ in 0..3 {
        b.try_acquire().expect(case).success();
    }
    check(b, t.first, case);
    if let Some(slow) = t.slow_call {
        let r = b
            .call(|| async move {
                tokio::time::sleep(slow).await;
                Ok::<_, ()>(())
            })
            .await;
        assert!(r.is_ok(), "{case}: {r:?}");
        assert_eq!(
            b.metrics().slow_calls,
            1,
            "{case}: a call of {slow:?} is slow"
        );
        check(b, t.first, case);
    }
    if let Some(after) = t.call_timeout {
        let r = b.call(std::future::pending::<Result<(), ()>>).await;
        match r {
            Err(e) => assert!(
                e.breaker_error().is_some_and(BreakerError::is_timeout),
                "{case}: {e:?}"
            ),
            Ok(()) => panic!("{case}: a call that never ends was not cut after {after:?}"),
        }
        assert_eq!(b.metrics().timeouts, 1, "{case}");
        check(b, t.first, case);
    }

    // Open it: failures until it opens, or until it plainly cannot (a threshold of
    // u32::MAX, or more calls than a few hundred before a rate counts).
    for _ in 0..300 {
        if b.metrics().opened_count > 0 {
            break;
        }
        match b.try_acquire() {
            Ok(permit) => permit.failure(),
            Err(e) => panic!("{case}: rejected while closed: {e}"),
        }
        check(b, t.first, case);
    }
    if b.metrics().opened_count == 0 {
        assert_eq!(b.state(), State::Closed, "{case}");
        return;
    }

    // Wait it out and probe; the probe fails and re-opens it.
    let probe = wait_for_probe(b, t.first, case).await;
    probe.failure();
    assert_eq!(
        b.metrics().opened_count,
        2,
        "{case}: a failed probe re-opens"
    );
    check(b, t.reopen, case);

    // Wait out the re-open; this probe succeeds.
    let probe = wait_for_probe(b, t.reopen, case).await;
    probe.success();
    check(b, t.reopen, case);
    match b.state() {
        State::Closed => return,
        State::HalfOpen => {}
        other => panic!("{case}: {other:?} after a successful probe"),
    }

    // A probe that never reports is given up after `half_open_timeout`, and re-opens it.
    // (It reports, cancelled, only once the next probe is in: see `wait_for_probe`.)
    let silent = b.try_acquire().expect(case);
    let opened = b.metrics().opened_count;
    advance(in_whole_ms(t.half_open_timeout)).await;
    // Re-opened at the probe's deadline; the new open period counts from then, so with a
    // wait of zero it is already over (half-open again) at that same instant.
    let state = b.state();
    assert_eq!(
        b.metrics().opened_count,
        opened + 1,
        "{case}: a silent probe re-opens it"
    );
    assert!(
        state == State::Open
            || (state == State::HalfOpen && in_whole_ms(t.reopen).is_zero())
            || state == State::HalfOpen
                && b.try_acquire().is_ok_and(|p| {
                    drop(p);
                    true
                }),
        "{case}: {state:?} after a silent probe's timeout"
    );
    let probe = wait_for_probe(b, t.reopen, case).await;
    drop(silent);
    probe.success();
    check(b, t.reopen, case);
    assert!(
        matches!(b.state(), State::HalfOpen | State::Closed),
        "{case}: {:?}",
        b.state()
    );
}

/// Waits out an open breaker, checking `retry_after` on the way, and takes a probe.
async fn wait_for_probe<'a>(b: &'a CircuitBreaker, bound: Duration, case: &str) -> Permit<'a> {
    let err = match b.try_acquire() {
        // No wait at all: a zero reset timeout, a zero cap, or full jitter.
        Ok(probe) => return probe,
        Err(err) => err,
    };
    let retry_after = err
        .retry_after()
        .unwrap_or_else(|| panic!("{case}: an open breaker said {err}"));
    assert!(!err.to_string().is_empty());
    assert!(
        retry_after <= in_whole_ms(bound),
        "{case}: retry_after {retry_after:?} exceeds the reset timeout in force, {bound:?}"
    );
    assert_eq!(
        b.snapshot().retry_after_ms,
        Some(retry_after.as_millis() as u64),
        "{case}"
    );
    // Not a millisecond more than the time left: just before it, still open...
    if retry_after > MS {
        advance(retry_after - MS).await;
        assert_eq!(
            b.state(),
            State::Open,
            "{case}: half-open before the {retry_after:?} it said"
        );
        advance(MS).await;
    } else {
        advance(retry_after).await;
    }
    // ...and not a millisecond less either.
    assert_eq!(
        b.state(),
        State::HalfOpen,
        "{case}: still open {retry_after:?} later"
    );
    b.try_acquire()
        .unwrap_or_else(|e| panic!("{case}: the probe was rejected: {e}"))
}

fn assert_none_wrong(wrong: Vec<String>) {
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

// ----- the builder -----------------------------------------------------------------------

#[test]
fn counts_at_their_extremes() {
    let mut cases = Vec::new();
    for (n, expect) in [(0, Refused), (1, Accepted), (u32::MAX, Accepted)] {
        cases.push(case("failure_threshold", n, expect, move |b| {
            b.failure_threshold(n)
        }));
        // Alone, minimum_calls needs no window; with a rate it must fit the window of 100.
        cases.push(case("minimum_calls", n, expect, move |b| {
            b.minimum_calls(n)
        }));
    }
    for (n, expect) in [
        (0, Refused),
        (1, Accepted),
        (100, Accepted),
        (101, Refused),
        (u32::MAX, Refused),
    ] {
        cases.push(case("minimum_calls", n, expect, move |b| {
            b.failure_rate(0.5).minimum_calls(n)
        }));
    }
    for (n, expect) in [(1, Accepted), (u32::MAX, Accepted)] {
        cases.push(case("minimum_calls", n, expect, move |b| {
            b.failure_rate(0.5)
                .window(Duration::from_secs(60))
                .minimum_calls(n)
        }));
    }
    for (n, expect) in [
        (0, Refused),
        (1, Accepted),
        (65_535, Accepted),
        (65_536, Refused),
        (u32::MAX, Refused),
    ] {
        cases.push(case("success_threshold", n, expect, move |b| {
            b.success_threshold(n)
        }));
        cases.push(case("half_open_max_calls", n, expect, move |b| {
            b.half_open_max_calls(n)
        }));
        cases.push(case("success_threshold", n, expect, move |b| {
            b.half_open_max_calls(1).success_threshold(n)
        }));
    }
    assert_none_wrong(run(cases));
}

#[test]
fn rates_at_their_extremes() {
    let rates = [
        (0.0, Refused),
        (-0.0, Refused),
        (f64::MIN_POSITIVE, Accepted),
        (0.5, Accepted),
        (1.0, Accepted),
        (ABOVE_ONE, Refused),
        (f64::NAN, Refused),
        (f64::INFINITY, Refused),
        (f64::NEG_INFINITY, Refused),
    ];
    let mut cases = Vec::new();
    for (r, expect) in rates {
        cases.push(case("failure_rate", r, expect, move |b| b.failure_rate(r)));
        cases.push(case("failure_rate", r, expect, move |b| {
            b.failure_rate(r).minimum_calls(1).window(1)
        }));
        cases.push(
            case("slow_call_rate", r, expect, move |b| {
                b.slow_call(MS).slow_call_rate(r)
            })
            .timing(Timing {
                slow_call: Some(MS),
                ..Timing::default()
            }),
        );
    }
    assert_none_wrong(run(cases));
}

#[test]
fn durations_at_their_extremes() {
    let durations = [
        (Duration::ZERO, Refused),
        (NS, Accepted),
        (MS, Accepted),
        (YEAR, Accepted),
        (YEAR_1NS, Refused),
        (Duration::MAX, Refused),
    ];
    let mut cases = Vec::new();
    for (d, expect) in durations {
        cases.push(
            case("slow_call", d, expect, move |b| b.slow_call(d)).timing(Timing {
                slow_call: Some(d),
                ..Timing::default()
            }),
        );
        cases.push(
            case("half_open_timeout", d, expect, move |b| {
                b.half_open_timeout(d)
            })
            .timing(Timing {
                half_open_timeout: d,
                ..Timing::default()
            }),
        );
        cases.push(
            case("call_timeout", d, expect, move |b| b.call_timeout(d)).timing(Timing {
                call_timeout: Some(d),
                ..Timing::default()
            }),
        );
        // A zero reset timeout is allowed: it probes at once.
        let expect = if d.is_zero() { Accepted } else { expect };
        cases.push(
            case("reset_timeout", d, expect, move |b| b.reset_timeout(d))
                .timing(Timing::reset(d, None)),
        );
        cases.push(
            case("reset_timeout", d, expect, move |b| {
                b.reset_timeout(d).success_threshold(1)
            })
            .timing(Timing::reset(d, None)),
        );
    }
    assert_none_wrong(run(cases));
}

#[test]
fn windows_at_their_extremes() {
    let mut cases = Vec::new();
    for (n, expect) in [
        (0, Refused),
        (1, Accepted),
        (65_535, Accepted),
        (65_536, Refused),
        (u32::MAX, Refused),
    ] {
        cases.push(case("window", n, expect, move |b| {
            b.failure_rate(0.5).minimum_calls(1).window(n)
        }));
        cases.push(case("window", n, expect, move |b| {
            b.failure_rate(1.0).window(Window::Calls(n))
        }));
        cases.push(
            case("window", n, expect, move |b| b.slow_call(MS).window(n)).timing(Timing {
                slow_call: Some(MS),
                ..Timing::default()
            }),
        );
    }
    for (d, expect) in [
        (Duration::ZERO, Refused),
        (NS, Refused),
        (Duration::from_micros(9_999), Refused),
        (Duration::from_millis(10), Accepted),
        (Duration::from_secs(60), Accepted),
        (YEAR, Accepted),
        (YEAR_1NS, Refused),
        (Duration::MAX, Refused),
    ] {
        cases.push(case("window", d, expect, move |b| {
            b.failure_rate(0.5).minimum_calls(1).window(d)
        }));
        cases.push(case("window", d, expect, move |b| {
            b.failure_rate(f64::MIN_POSITIVE)
                .minimum_calls(u32::MAX)
                .window(d)
        }));
    }
    assert_none_wrong(run(cases));
}

#[test]
fn backoffs_at_their_extremes() {
    let multipliers = [
        (0.0, Refused),
        (1.0 - f64::EPSILON, Refused),
        (1.0, Accepted),
        (2.0, Accepted),
        (1e200, Accepted),
        (1e308, Accepted),
        (f64::MAX, Accepted),
        (f64::NAN, Refused),
        (f64::INFINITY, Refused),
        (f64::NEG_INFINITY, Refused),
    ];
    let jitters = [
        (0.0, Accepted),
        (-0.0, Accepted),
        (f64::MIN_POSITIVE, Accepted),
        (1.0, Accepted),
        (ABOVE_ONE, Refused),
        (-f64::MIN_POSITIVE, Refused),
        (f64::NAN, Refused),
        (f64::INFINITY, Refused),
    ];
    let steps = [
        (Duration::ZERO, Refused),
        (NS, Accepted),
        (YEAR, Accepted),
        (Duration::MAX, Accepted),
    ];
    let caps = [
        None,
        Some(Duration::ZERO),
        Some(NS),
        Some(YEAR),
        Some(Duration::MAX),
    ];
    let resets = [Duration::ZERO, NS, MS, RESET, YEAR];

    let mut backoffs: Vec<(Backoff, Expect)> = Vec::new();
    for (m, expect) in multipliers {
        backoffs.push((Backoff::exponential(m), expect));
    }
    for (step, expect) in steps {
        backoffs.push((Backoff::linear(step), expect));
    }
    for (j, expect) in jitters {
        backoffs.push((Backoff::fixed().jitter(j), expect));
        backoffs.push((Backoff::exponential(f64::MAX).jitter(j), expect));
    }
    let mut cases = Vec::new();
    for (backoff, expect) in backoffs {
        for cap in caps {
            let backoff = cap.map_or(backoff, |max| backoff.max(max));
            for reset in resets {
                cases.push(
                    case("backoff", (backoff, reset), expect, move |b| {
                        b.failure_threshold(1).reset_timeout(reset).backoff(backoff)
                    })
                    .timing(Timing::reset(reset, Some(backoff))),
                );
            }
        }
    }
    assert_none_wrong(run(cases));
}

// ----- config files and variables ----------------------------------------------------------

#[cfg(feature = "config")]
mod from_config {
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

    const fn text(
        key: &'static str,
        toml: &'static str,
        var: &'static str,
        expect: Expect,
    ) -> Text {
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
            load(&registry).and_then(|()| {
                registry.try_get_or_create("extreme-config", BreakerConfig::default())
            })
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
}
