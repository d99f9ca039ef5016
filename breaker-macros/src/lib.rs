//! The `#[circuit_breaker]` attribute. Use it through `breaker_runtime::circuit_breaker`.

use proc_macro::TokenStream;

/// Puts the annotated function behind a circuit breaker (placeholder until the attribute lands).
#[proc_macro_attribute]
pub fn circuit_breaker(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
