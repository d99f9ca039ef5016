//! The log lines the examples print beside their timelines.

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::Layer as _;

/// Prints the runtime's own log lines (an open at WARN, a half-open and a close at INFO), one
/// line each, without timestamps, and nothing from other crates: the pools and clients the
/// examples use log their lost connections too, which would bury the timeline. Call it once,
/// first thing in `main`; where a global subscriber is already set (a second call, or the
/// program's own), it leaves that one and does nothing.
///
/// ```no_run
/// breaker::logs::show_breaker_logs();
/// ```
pub fn show_breaker_logs() {
    let breaker_only = tracing_subscriber::filter::Targets::new()
        .with_target("breaker_runtime", tracing::Level::INFO);
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_target(false)
                .without_time()
                .compact()
                .with_filter(breaker_only),
        )
        .try_init();
}

#[cfg(test)]
mod tests {
    /// Review 2: a second call panicked (`init` on a process that has a global subscriber).
    #[test]
    fn a_second_call_does_nothing() {
        super::show_breaker_logs();
        super::show_breaker_logs();
    }
}
