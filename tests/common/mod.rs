//! What the root package's tests share, written once: a real server on 127.0.0.1, the error
//! type of the annotated functions, and the values in Prometheus text.
// Each test file is a crate of its own and uses only some of these; without this, each would
// warn about the rest.
#![allow(dead_code)]

/// The runtime's tests' log capture, shared rather than copied.
#[path = "../../breaker-runtime/tests/common/logs.rs"]
pub mod logs;
#[cfg(feature = "metrics")]
pub mod prometheus;
pub mod real_tool;
pub mod sse;

use breaker_runtime::BreakerError;
use std::net::SocketAddr;

/// Serves `app` on 127.0.0.1 from a thread and runtime of its own (real clock), so a test's
/// paused clock never fires the server's timers. Returns the address it listens on.
pub fn serve(app: axum::Router) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

/// The error type of the annotated functions: the dependency's error, or the breaker's.
#[derive(Debug, PartialEq)]
pub enum AppError {
    Down,
    Breaker(BreakerError),
}

impl From<BreakerError> for AppError {
    fn from(e: BreakerError) -> Self {
        AppError::Breaker(e)
    }
}

/// Whether the breaker rejected the call because it is open.
pub fn is_open<T>(result: &Result<T, AppError>) -> bool {
    matches!(result, Err(AppError::Breaker(BreakerError::Open { .. })))
}

/// The value of the series `name{labels}` in Prometheus text, labels in the exporter's order.
pub fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no series {series} in:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}
