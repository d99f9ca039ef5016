//! How the link stands: what [`Fleet::status`](super::Fleet::status) shows.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A fleet's link to Redis, as [`Fleet::status`](super::Fleet::status) sees it.
///
/// ```no_run
/// # async fn f(fleet: breaker_runtime::fleet::Fleet) {
/// let status = fleet.status();
/// if !status.connected {
///     eprintln!("running alone; {} failed syncs so far", status.errors);
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct FleetStatus {
    /// Whether the last sync reached Redis.
    pub connected: bool,
    /// How long ago the last sync that reached Redis was; `None` before the first.
    pub last_sync: Option<Duration>,
    /// Syncs that failed (no answer in time, or an error) since the fleet started.
    pub errors: u64,
}

/// Written by the syncer, read by [`Fleet::status`](super::Fleet::status); with the
/// `metrics` feature also published as the gauge `breaker_fleet_connected{namespace}` (1 or 0).
#[derive(Debug, Default)]
pub(super) struct Status {
    namespace: String,
    connected: AtomicBool,
    errors: AtomicU64,
    last_sync: Mutex<Option<Instant>>,
}

impl Status {
    pub(super) fn new(namespace: &str) -> Status {
        let status = Status {
            namespace: namespace.to_owned(),
            ..Status::default()
        };
        // Exists, at 0, from the start: an alert on it works before the first sync.
        status.publish(false);
        status
    }

    pub(super) fn synced(&self) {
        self.connected.store(true, Relaxed);
        self.publish(true);
        *self
            .last_sync
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
    }

    pub(super) fn failed(&self) {
        self.connected.store(false, Relaxed);
        self.publish(false);
        self.errors.fetch_add(1, Relaxed);
    }

    #[cfg(feature = "metrics")]
    fn publish(&self, connected: bool) {
        ::metrics::gauge!("breaker_fleet_connected", "namespace" => self.namespace.clone())
            .set(if connected { 1.0 } else { 0.0 });
    }

    #[cfg(not(feature = "metrics"))]
    fn publish(&self, _connected: bool) {
        // Without the `metrics` feature the namespace only names the fleet in `Debug`.
        let _ = &self.namespace;
    }

    pub(super) fn read(&self) -> FleetStatus {
        let last = *self
            .last_sync
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        FleetStatus {
            connected: self.connected.load(Relaxed),
            last_sync: last.map(|at| at.elapsed()),
            errors: self.errors.load(Relaxed),
        }
    }
}
