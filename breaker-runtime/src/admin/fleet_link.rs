//! What the admin routes add for a breaker a fleet shares (fleet mode): the fleet's link in
//! each snapshot, and the controls (`open`, `close`, `reset`) sent to every instance.
//!
//! The fleet is found through the registry, where it attaches itself when it starts, so this
//! router does not depend on the `fleet` feature; without it no breaker has a link.

use super::AdminRouter;
use crate::breaker::CircuitBreaker;
use crate::coordinator::{Control, Link};
use crate::snapshot::BreakerSnapshot;
use serde::Serialize;

/// A breaker's snapshot as the admin routes answer it: with `fleet` when a running fleet
/// shares the breaker.
#[derive(Serialize)]
pub(super) struct Entry {
    #[serde(flatten)]
    pub(super) snapshot: BreakerSnapshot,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) fleet: Option<FleetLink>,
}

/// `"fleet": {"namespace": …, "connected": …, "last_sync_ms": …, "errors": …}`.
#[derive(Serialize)]
pub(super) struct FleetLink {
    namespace: String,
    /// Whether the fleet's last sync reached Redis: `false` means this instance decides alone.
    connected: bool,
    /// Milliseconds since the last sync that reached Redis; `null` before the first.
    last_sync_ms: Option<u64>,
    /// Syncs that failed since the fleet started.
    errors: u64,
}

impl From<Link> for FleetLink {
    fn from(link: Link) -> FleetLink {
        FleetLink {
            namespace: link.group,
            connected: link.connected,
            last_sync_ms: link
                .last_sync
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            errors: link.errors,
        }
    }
}

impl Entry {
    pub(super) fn of(admin: &AdminRouter, snapshot: BreakerSnapshot) -> Entry {
        let fleet = admin
            .registry
            .coordinators
            .of(&snapshot.name)
            .map(|c| c.link().into());
        Entry { snapshot, fleet }
    }

    /// Every breaker's, as `GET /breakers` and `/events` send them.
    pub(super) fn all(admin: &AdminRouter) -> Vec<Entry> {
        admin
            .registry
            .snapshot()
            .into_iter()
            .map(|s| Entry::of(admin, s))
            .collect()
    }
}

/// Runs a control on `breaker`: through the fleet that shares it, which applies it here at
/// once and on the other instances at their next sync, or here alone.
pub(super) fn control(admin: &AdminRouter, breaker: &CircuitBreaker, control: Control) {
    match admin.registry.coordinators.of(breaker.name()) {
        Some(fleet) => fleet.control(breaker.name(), control),
        None => control.apply(breaker),
    }
}
