//! `fallback`: when the call fails, times out, or the breaker rejects it, the fallback gets
//! the same arguments plus a `CallError` saying why, and answers instead.
//!
//! ```text
//! cargo run --example macro_fallback
//! ```

use breaker_runtime::{circuit_breaker, CallError};
use std::collections::HashMap;
use std::time::Duration;

#[derive(Debug)]
#[allow(dead_code)] // the fields are shown through `Debug`
struct FetchError(&'static str);

struct Quotes {
    cache: HashMap<String, f64>,
}

impl Quotes {
    /// Live quotes, cut after 50ms; two failures open the breaker.
    #[circuit_breaker(name = "quotes", failure_threshold = 2, call_timeout = "50ms", fallback = Self::cached)]
    async fn live(&self, symbol: &str, delay_ms: u64) -> Result<f64, FetchError> {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        match symbol {
            "ACME" => Ok(101.5),
            _ => Err(FetchError("unknown symbol")),
        }
    }

    async fn cached(
        &self,
        symbol: &str,
        _delay_ms: u64,
        why: CallError<FetchError>,
    ) -> Result<f64, FetchError> {
        let reason = match &why {
            CallError::Inner(e) => format!("failed: {e:?}"),
            CallError::Breaker(b) => b.to_string(),
        };
        println!("    fallback for {symbol} ({reason})");
        self.cache
            .get(symbol)
            .copied()
            .ok_or(FetchError("not cached either"))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let quotes = Quotes {
        cache: HashMap::from([("ACME".to_owned(), 99.0)]),
    };
    println!("live ACME     = {:?}", quotes.live("ACME", 1).await);
    println!("slow ACME     = {:?}", quotes.live("ACME", 500).await);
    println!("unknown XYZ   = {:?}", quotes.live("XYZ", 1).await);
    println!("open now ACME = {:?}", quotes.live("ACME", 1).await);
}
