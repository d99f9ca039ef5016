//! Duration strings: `"250ms"`, `"30s"`, `"1m30s"`, `"1.5s"`. The attribute reads them at
//! compile time and the runtime in config files and variables: one syntax, one set of
//! messages.
//!
//! ```
//! assert_eq!(breaker_spec::duration::parse("250ms").unwrap().as_millis(), 250);
//! ```

use std::time::Duration;

/// The units and their length in nanoseconds. `µ` is written two ways (micro sign and Greek
/// mu), since keyboards produce either.
const UNITS: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60 * 1_000_000_000),
    ("h", 3_600 * 1_000_000_000),
    ("d", 86_400 * 1_000_000_000),
];

/// How to write a duration, for the end of every message about one.
///
/// ```
/// assert!(breaker_spec::duration::HINT.contains("\"1m30s\""));
/// ```
pub const HINT: &str =
    "write a number and a unit (ns, us, ms, s, m, h, d), e.g. \"250ms\", \"30s\" or \"1m30s\"";

/// Parses one or more `<number><unit>` parts; a number may have a fraction (`"1.5s"`, digits
/// below a nanosecond are dropped) and spaces may separate the parts. The error says what
/// is wrong and how to write it.
///
/// Every step is checked: no input overflows or panics; a total past `u64` nanoseconds
/// (about 584 years) is refused as too long. The range a setting allows is a separate rule
/// ([`check::duration`](crate::check::duration)).
///
/// ```
/// use breaker_spec::duration::parse;
/// use std::time::Duration;
///
/// assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
/// assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
/// assert!(parse("30").unwrap_err().starts_with("`30` needs a unit"));
/// ```
pub fn parse(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(format!("empty duration: {HINT}"));
    }
    let mut rest = trimmed;
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        if number.is_empty() || number.matches('.').count() > 1 || number == "." {
            return Err(format!("`{trimmed}` is not a duration: {HINT}"));
        }
        let after = after.trim_start();
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.' || c.is_whitespace())
            .unwrap_or(after.len());
        let (unit, tail) = after.split_at(unit_len);
        if unit.is_empty() {
            return Err(format!(
                "`{number}` needs a unit: \"{number}s\" or \"{number}ms\"; {HINT}"
            ));
        }
        let Some(&(_, scale)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(format!("unknown unit `{unit}` in \"{trimmed}\": {HINT}"));
        };
        total = scale_number(number, scale)
            .and_then(|n| total.checked_add(n))
            .ok_or_else(|| too_long(trimmed))?;
        rest = tail.trim_start();
    }
    u64::try_from(total)
        .map(Duration::from_nanos)
        .map_err(|_| too_long(trimmed))
}

fn too_long(text: &str) -> String {
    format!("\"{text}\" is too long: a duration is at most about 584 years")
}

/// `number * scale` in nanoseconds, rounded down (what is below a nanosecond is dropped).
/// `None` on overflow.
fn scale_number(number: &str, scale: u128) -> Option<u128> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        // Only digits reach here, so a parse error is an overflow.
        whole.parse().ok()?
    };
    // floor(scale * 0.d1d2…dn), exactly: from the last digit to the first,
    // r = (r + d * scale) / 10. Flooring each step floors the whole, and r stays below
    // `scale`, so nothing here can overflow, however many digits there are.
    let mut part: u128 = 0;
    for digit in fraction.chars().rev() {
        part = (part + u128::from(digit.to_digit(10)?) * scale) / 10;
    }
    let nanos = whole.checked_mul(scale)?.checked_add(part)?;
    Some(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Duration {
        parse(text).unwrap()
    }

    #[test]
    fn units() {
        assert_eq!(ok("7ns"), Duration::from_nanos(7));
        assert_eq!(ok("10us"), Duration::from_micros(10));
        assert_eq!(ok("10µs"), Duration::from_micros(10));
        assert_eq!(ok("10μs"), Duration::from_micros(10));
        assert_eq!(ok("250ms"), Duration::from_millis(250));
        assert_eq!(ok("30s"), Duration::from_secs(30));
        assert_eq!(ok("5m"), Duration::from_secs(300));
        assert_eq!(ok("1h"), Duration::from_secs(3600));
        assert_eq!(ok("1d"), Duration::from_secs(86_400));
    }

    #[test]
    fn combinations_spaces_and_fractions() {
        assert_eq!(ok("1m30s"), Duration::from_secs(90));
        assert_eq!(ok("1m 30s"), Duration::from_secs(90));
        assert_eq!(ok(" 30 s "), Duration::from_secs(30));
        assert_eq!(ok("1h2m3s4ms"), Duration::from_millis(3_723_004));
        assert_eq!(ok("1.5s"), Duration::from_millis(1500));
        assert_eq!(ok("0.25s"), Duration::from_millis(250));
        assert_eq!(ok(".5s"), Duration::from_millis(500));
        assert_eq!(ok("1.s"), Duration::from_secs(1));
        assert_eq!(ok("0s"), Duration::ZERO);
        // Below a nanosecond is dropped, however many digits.
        assert_eq!(ok("1.9ns"), Duration::from_nanos(1));
        assert_eq!(ok("0.0000000019s"), Duration::from_nanos(1));
        assert_eq!(
            ok(&format!("0.{}d", "9".repeat(500))),
            Duration::from_nanos(86_399_999_999_999)
        );
    }

    #[test]
    fn errors_say_what_is_wrong_and_how_to_write_it() {
        let err = |text: &str| parse(text).unwrap_err();
        assert_eq!(err(""), format!("empty duration: {HINT}"));
        assert_eq!(err("   "), format!("empty duration: {HINT}"));
        assert_eq!(
            err("30"),
            format!("`30` needs a unit: \"30s\" or \"30ms\"; {HINT}")
        );
        assert_eq!(
            err("30 parsecs"),
            format!("unknown unit `parsecs` in \"30 parsecs\": {HINT}")
        );
        assert!(err("30s!").starts_with("unknown unit `s!`"));
        assert_eq!(err("1.2.3s"), format!("`1.2.3s` is not a duration: {HINT}"));
        assert!(err("s").contains("is not a duration"));
        assert!(err(".s").contains("is not a duration"));
        assert!(err("-1s").contains("is not a duration"));
        assert!(err("soon").contains("is not a duration"));
    }

    #[test]
    fn huge_values_are_refused_not_wrapped() {
        // 584 years fit in u64 nanoseconds; 585 do not.
        assert!(parse("213000d").is_ok());
        assert!(parse("214000d").unwrap_err().contains("too long"));
        assert!(parse("100000000000h").unwrap_err().contains("too long"));
        assert!(parse(&format!("{}s", "9".repeat(60)))
            .unwrap_err()
            .contains("too long"));
        assert!(parse(&"1d".repeat(300_000))
            .unwrap_err()
            .contains("too long"));
        assert_eq!(
            parse("18446744073709551615ns"),
            Ok(Duration::from_nanos(u64::MAX))
        );
        assert!(parse("18446744073709551616ns").is_err());
        assert!(parse("18446744073.709551616s").is_err());
    }
}
