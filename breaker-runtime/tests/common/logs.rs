//! What a `tracing` subscriber writes, caught for a test to read.
//!
//! tracing caches each callsite's interest across threads: a test that reads logs belongs in a
//! file whose other tests do not run the same callsites without a subscriber, or the cache can
//! hide the event.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// The text a subscriber wrote, kept until taken.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// What was written since the last `take`.
    pub fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

/// Runs `f` with a plain-text subscriber of everything at `level` and above on this thread;
/// what it wrote is read from the returned `Captured`, during `f` (a clone) or after.
pub fn with_logs<R>(level: tracing::Level, f: impl FnOnce(&Captured) -> R) -> (R, Captured) {
    let captured = Captured::default();
    let r = tracing::subscriber::with_default(subscriber(level, &captured), || f(&captured));
    (r, captured)
}

/// Installs, for the whole process and the rest of the test binary, a plain-text subscriber
/// of everything at `level` and above: for events that other threads send (the metrics
/// publisher's). Once per binary.
pub fn capture_globally(level: tracing::Level) -> Captured {
    let captured = Captured::default();
    tracing::subscriber::set_global_default(subscriber(level, &captured))
        .expect("one global subscriber per test binary");
    captured
}

fn subscriber(
    level: tracing::Level,
    captured: &Captured,
) -> impl tracing::Subscriber + Send + Sync + 'static {
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(level)
        .with_ansi(false)
        .finish()
}
