//! When counts are published: by a background thread once an interval, or at once.

use super::observer;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, Once, PoisonError};
use std::time::Duration;

/// The publish interval in milliseconds.
static INTERVAL_MS: AtomicU64 = AtomicU64::new(1_000);
static DURATIONS: AtomicBool = AtomicBool::new(false);
/// One publication at a time: two at once would both add the same counts.
static PUBLISHING: Mutex<()> = Mutex::new(());

/// Publishes every live breaker's counts now, and builds the breakers of annotated functions
/// that were neither called nor looked at yet, so their series exist from the start.
///
/// The background thread does this once a [publish interval](set_publish_interval); call it
/// where counts must be exact to the moment, e.g. in the handler that serves a scrape, just
/// before rendering.
///
/// ```
/// use breaker_runtime::metrics_export::publish;
///
/// // In a `GET /metrics` handler, before `prometheus.render()`:
/// publish();
/// ```
pub fn publish() {
    // The annotated functions' breakers not called or looked at yet: built now, so their
    // series exist (at 0) for alerts from the start, with the recorder installed by now. Not
    // before there is one: built then, they would report to nothing for ever.
    if super::unrecorded::recorder_installed() {
        crate::registry().build_declared();
    }
    let _one = PUBLISHING.lock().unwrap_or_else(PoisonError::into_inner);
    observer::publish_all();
}

/// How often the background thread publishes the breakers' counts (1 s unless set; at least
/// 10 ms). State changes are published as they happen, whatever the interval.
///
/// ```
/// use std::time::Duration;
/// breaker_runtime::metrics_export::set_publish_interval(Duration::from_secs(5));
/// # breaker_runtime::metrics_export::set_publish_interval(Duration::from_secs(1));
/// ```
pub fn set_publish_interval(every: Duration) {
    let ms = u64::try_from(every.as_millis()).unwrap_or(u64::MAX).max(10);
    INTERVAL_MS.store(ms, Relaxed);
}

/// Whether breakers created from now on record `breaker_call_duration_seconds` (off unless
/// set). Timing a call reads the precise clock when it starts and when it ends, and records
/// into the histogram: about 50-100 ns a call on a virtual machine, against a few ns without.
/// Breakers with `slow_call` read the clock anyway.
///
/// ```
/// breaker_runtime::metrics_export::record_durations(true);
/// let breaker = breaker_runtime::CircuitBreaker::builder("docs-durations").build();
/// # breaker_runtime::metrics_export::record_durations(false);
/// ```
pub fn record_durations(on: bool) {
    DURATIONS.store(on, Relaxed);
}

pub(super) fn durations_on() -> bool {
    DURATIONS.load(Relaxed)
}

/// Starts the publishing thread, once. Without it (it could not be spawned) counts are
/// published by [`publish`] and when breakers are dropped.
pub(super) fn start() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("breaker-metrics".into())
            .spawn(|| loop {
                std::thread::sleep(Duration::from_millis(INTERVAL_MS.load(Relaxed)));
                publish();
                // Here, not in `publish`: this thread sees the global recorder alone, never
                // a caller's local one.
                super::unrecorded::warn_if_a_recorder_came_late();
            });
        if let Err(e) = spawned {
            tracing::warn!(
                target: "breaker_runtime",
                error = %e,
                "could not start the thread that publishes breaker metrics; \
                 call `metrics_export::publish()` to publish them"
            );
        }
    });
}
