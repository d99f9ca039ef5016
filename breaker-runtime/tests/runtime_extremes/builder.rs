//! The builder: every setting at its extremes through `try_build`.

use super::*;

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
