//! A process-wide signal that some breaker changed state, for whoever shows every breaker at
//! once (the admin router's `/events`). Per-breaker [`EventReceiver`](crate::EventReceiver)s
//! would do, but each breaker's event channel holds 1,024 events: subscribing to every
//! breaker of a large registry (families of a thousand hosts) would cost tens of megabytes
//! that stay allocated. This costs nothing until someone watches, then one counter for all.

use std::sync::OnceLock;
use tokio::sync::watch;

/// Counts transitions, once someone watches; `None` until then.
static CHANGES: OnceLock<watch::Sender<u64>> = OnceLock::new();

/// Called after every transition, outside any lock of the breaker's: wakes the watchers.
#[inline]
pub(crate) fn changed() {
    if let Some(changes) = CHANGES.get() {
        changes.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// A receiver that sees a change after each transition of any breaker from now on.
pub(crate) fn watch() -> watch::Receiver<u64> {
    CHANGES.get_or_init(|| watch::Sender::new(0)).subscribe()
}
