//! Duration strings (`"250ms"`, `"30s"`, `"1m30s"`) in config files and variables: the same
//! syntax the attribute accepts.

use std::time::Duration;

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

pub(super) const HINT: &str =
    "write a number and a unit (ns, us, ms, s, m, h, d), e.g. \"250ms\", \"30s\" or \"1m30s\"";

/// Parses one or more `<number><unit>` parts; a number may have a fraction (`"1.5s"`) and
/// spaces may separate the parts. The error says what is wrong and how to write it.
pub(super) fn parse(text: &str) -> Result<Duration, String> {
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
            return Err(format!("not a duration: {HINT}"));
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
            return Err(format!("unknown unit `{unit}`: {HINT}"));
        };
        total = scale_number(number, scale)
            .and_then(|n| total.checked_add(n))
            .ok_or_else(too_long)?;
        rest = tail.trim_start();
    }
    u64::try_from(total)
        .map(Duration::from_nanos)
        .map_err(|_| too_long())
}

fn too_long() -> String {
    "too long (at most about 584 years)".to_owned()
}

/// `number * scale` in nanoseconds, exact for the integer part, truncating below 1ns.
fn scale_number(number: &str, scale: u128) -> Option<u128> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut nanos = whole.checked_mul(scale)?;
    let mut place = scale;
    for digit in fraction.chars() {
        place /= 10;
        nanos = nanos.checked_add(u128::from(digit.to_digit(10)?) * place)?;
    }
    Some(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Duration {
        parse(text).unwrap()
    }

    #[test]
    fn units_and_combinations() {
        assert_eq!(ok("250ms"), Duration::from_millis(250));
        assert_eq!(ok("30s"), Duration::from_secs(30));
        assert_eq!(ok("5m"), Duration::from_secs(300));
        assert_eq!(ok("1h"), Duration::from_secs(3600));
        assert_eq!(ok("1m30s"), Duration::from_secs(90));
        assert_eq!(ok("1m 30s"), Duration::from_secs(90));
        assert_eq!(ok("1.5s"), Duration::from_millis(1500));
        assert_eq!(ok("10us"), Duration::from_micros(10));
        assert_eq!(ok("0s"), Duration::ZERO);
    }

    #[test]
    fn errors_say_how_to_write_it() {
        assert!(parse("30 parsecs")
            .unwrap_err()
            .starts_with("unknown unit `parsecs`"));
        assert!(parse("30").unwrap_err().starts_with("`30` needs a unit"));
        assert!(parse("").unwrap_err().starts_with("empty duration"));
        assert!(parse("s").unwrap_err().starts_with("not a duration"));
        assert!(parse("1.2.3s").unwrap_err().starts_with("not a duration"));
        assert!(parse("100000000000h").unwrap_err().contains("too long"));
        assert!(parse("0.99999999999999999999999999999999999999999d").is_ok());
    }
}
