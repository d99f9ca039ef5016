//! `#[circuit_breaker]` on free functions, async and plain: watch it open, reject without
//! running the body, and recover.
//!
//! ```text
//! cargo run --example macro_free_fn
//! ```

use breaker_runtime::{circuit_breaker, registry, BreakerError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(Debug)]
#[allow(dead_code)] // the fields are shown through `Debug`
enum AppError {
    Unavailable,
    Breaker(BreakerError),
}

impl From<BreakerError> for AppError {
    fn from(e: BreakerError) -> Self {
        AppError::Breaker(e)
    }
}

/// Whether the pretend service is up.
static UP: AtomicBool = AtomicBool::new(false);

#[circuit_breaker(name = "prices", failure_threshold = 2, reset_timeout = "300ms")]
async fn price(symbol: &str) -> Result<f64, AppError> {
    println!("    (body runs for {symbol})");
    tokio::time::sleep(Duration::from_millis(5)).await;
    if UP.load(Ordering::SeqCst) {
        Ok(101.5)
    } else {
        Err(AppError::Unavailable)
    }
}

/// A plain `fn`; with no `name`, the breaker is named after the function's path.
#[circuit_breaker(failure_threshold = 1, reset_timeout = "300ms")]
fn parse_port(text: &str) -> anyhow::Result<u16> {
    Ok(text.parse()?)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    println!("the service is down:");
    for _ in 0..3 {
        println!("  price(\"ACME\") = {:?}", price("ACME").await);
    }
    let breaker = registry().get("prices").expect("created on the first call");
    println!(
        "state: {:?}, metrics: {:?}",
        breaker.state(),
        breaker.metrics()
    );

    UP.store(true, Ordering::SeqCst);
    println!("the service is back; waiting out reset_timeout:");
    tokio::time::sleep(Duration::from_millis(300)).await;
    println!("  state: {:?}", breaker.state());
    for _ in 0..2 {
        println!("  price(\"ACME\") = {:?}", price("ACME").await);
    }
    println!("state: {:?}", breaker.state());

    println!("a sync fn (breaker {:?}):", "macro_free_fn::parse_port");
    println!("  parse_port(\"8080\") = {:?}", parse_port("8080"));
    println!(
        "  parse_port(\"http\") = {:?}",
        parse_port("http").map_err(|e| e.to_string())
    );
    println!(
        "  parse_port(\"8080\") = {:?}",
        parse_port("8080").map_err(|e| e.to_string())
    );
}
