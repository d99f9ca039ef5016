//! Duration strings (`"250ms"`, `"30s"`, `"1m30s"`), parsed when the macro expands.

use proc_macro2::TokenStream;
use quote::quote;

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

const HINT: &str =
    "write a number and a unit (ns, us, ms, s, m, h, d), e.g. \"250ms\", \"30s\" or \"1m30s\"";

/// A duration as whole nanoseconds; fits a `u64` (about 584 years).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Nanos(pub u64);

impl Nanos {
    /// `::core::time::Duration::from_…(n)` with the largest unit that is exact.
    pub(crate) fn to_tokens(self) -> TokenStream {
        let n = self.0;
        if n % 1_000_000_000 == 0 {
            let secs = n / 1_000_000_000;
            quote!(::core::time::Duration::from_secs(#secs))
        } else if n % 1_000_000 == 0 {
            let millis = n / 1_000_000;
            quote!(::core::time::Duration::from_millis(#millis))
        } else if n % 1_000 == 0 {
            let micros = n / 1_000;
            quote!(::core::time::Duration::from_micros(#micros))
        } else {
            quote!(::core::time::Duration::from_nanos(#n))
        }
    }
}

/// Parses `"1m30s"`-style text: one or more `<number><unit>` parts, the number may have a
/// fraction (`"1.5s"`); spaces between parts are allowed. The error says what is wrong and
/// how to write it.
pub(crate) fn parse(text: &str) -> Result<Nanos, String> {
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
        total = total
            .checked_add(scale_number(number, scale).ok_or_else(|| too_long(trimmed))?)
            .ok_or_else(|| too_long(trimmed))?;
        rest = tail.trim_start();
    }
    u64::try_from(total)
        .map(Nanos)
        .map_err(|_| too_long(trimmed))
}

fn too_long(text: &str) -> String {
    format!("duration \"{text}\" is too long (at most about 584 years)")
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
        nanos += u128::from(digit.to_digit(10)?) * place;
    }
    Some(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> u64 {
        parse(text).unwrap().0
    }

    #[test]
    fn units() {
        assert_eq!(ok("250ms"), 250_000_000);
        assert_eq!(ok("30s"), 30_000_000_000);
        assert_eq!(ok("5m"), 300_000_000_000);
        assert_eq!(ok("1h"), 3_600_000_000_000);
        assert_eq!(ok("1d"), 86_400_000_000_000);
        assert_eq!(ok("10us"), 10_000);
        assert_eq!(ok("10µs"), 10_000);
        assert_eq!(ok("7ns"), 7);
    }

    #[test]
    fn combinations_and_fractions() {
        assert_eq!(ok("1m30s"), 90_000_000_000);
        assert_eq!(ok("1m 30s"), 90_000_000_000);
        assert_eq!(ok("1h2m3s4ms"), 3_723_004_000_000);
        assert_eq!(ok("1.5s"), 1_500_000_000);
        assert_eq!(ok("0.25s"), 250_000_000);
        assert_eq!(ok(" 30 s "), 30_000_000_000);
        assert_eq!(ok("0s"), 0);
    }

    #[test]
    fn errors_say_how_to_write_it() {
        let parsecs = parse("30 parsecs").unwrap_err();
        assert!(
            parsecs.starts_with("unknown unit `parsecs` in \"30 parsecs\""),
            "{parsecs}"
        );
        assert!(parse("30").unwrap_err().starts_with("`30` needs a unit"));
        assert!(parse("").unwrap_err().starts_with("empty duration"));
        assert!(parse("s").unwrap_err().contains("is not a duration"));
        assert!(parse("1.2.3s").unwrap_err().contains("is not a duration"));
        assert!(parse("30s!").unwrap_err().contains("unknown unit `s!`"));
        assert!(parse("100000000000h").unwrap_err().contains("too long"));
    }

    #[test]
    fn tokens_use_the_largest_exact_unit() {
        assert_eq!(
            Nanos(30_000_000_000).to_tokens().to_string(),
            quote!(::core::time::Duration::from_secs(30u64)).to_string()
        );
        assert!(Nanos(250_000_000)
            .to_tokens()
            .to_string()
            .contains("from_millis (250u64)"));
        assert!(Nanos(10_000)
            .to_tokens()
            .to_string()
            .contains("from_micros"));
        assert!(Nanos(7).to_tokens().to_string().contains("from_nanos"));
    }
}
