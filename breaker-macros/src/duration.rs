//! Durations as tokens. The strings are parsed by `breaker_spec::duration`, the one parser
//! the config files use too; what is left here is writing the parsed value into the code.

use proc_macro2::TokenStream;
use quote::quote;
use std::time::Duration;

/// Writes a parsed duration as code.
pub(crate) trait DurationTokens {
    /// `::core::time::Duration::from_…(n)` with the largest unit that is exact, so the
    /// expansion reads as written (`from_secs(30)`, not `from_nanos(30000000000)`).
    fn to_tokens(self) -> TokenStream;
}

impl DurationTokens for Duration {
    fn to_tokens(self) -> TokenStream {
        // Every duration the attribute takes fits u64 nanoseconds (the parser refuses more).
        let n = u64::try_from(self.as_nanos()).unwrap_or(u64::MAX);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_use_the_largest_exact_unit() {
        assert_eq!(
            Duration::from_secs(30).to_tokens().to_string(),
            quote!(::core::time::Duration::from_secs(30u64)).to_string()
        );
        assert!(Duration::from_millis(250)
            .to_tokens()
            .to_string()
            .contains("from_millis (250u64)"));
        assert!(Duration::from_micros(10)
            .to_tokens()
            .to_string()
            .contains("from_micros"));
        assert!(Duration::from_nanos(7)
            .to_tokens()
            .to_string()
            .contains("from_nanos"));
    }
}
