//! A coordinator outside the process (fleet mode), attached to a registry, as the registry's
//! other readers see it: which breakers it decides for, the controls that go through it, and
//! how its link stands.
//!
//! The seam that lets the admin router offer fleet-wide controls and show the link without
//! the admin router and fleet mode knowing each other: the fleet attaches itself to the
//! registry it shares, the router asks the registry. The registry holds it weakly, so a
//! stopped fleet leaves nothing behind.

use crate::breaker::CircuitBreaker;
use std::sync::{Arc, PoisonError, Weak};
use std::time::Duration;

/// A control an operator can ask of one breaker, or, through a coordinator, of the breaker
/// on every instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Control {
    ForceOpen,
    Close,
    Reset,
}

impl Control {
    /// Applies it to `breaker`, on this instance.
    pub(crate) fn apply(self, breaker: &CircuitBreaker) {
        match self {
            Control::ForceOpen => breaker.force_open(),
            Control::Close => breaker.close(),
            Control::Reset => breaker.reset(),
        }
    }
}

/// How a coordinator's link stands, as the admin router shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Link {
    /// What keeps the instances of one service together (the fleet's namespace).
    pub(crate) group: String,
    /// Whether the last exchange reached the coordinator.
    pub(crate) connected: bool,
    /// How long ago the last exchange that reached it was.
    pub(crate) last_sync: Option<Duration>,
    /// Exchanges that failed since it started.
    pub(crate) errors: u64,
}

/// What a registry knows of a coordinator attached to it.
pub(crate) trait Coordinator: Send + Sync {
    /// Whether it still runs.
    fn running(&self) -> bool;
    /// Whether it decides for the breaker `name` (and is still running).
    fn coordinates(&self, name: &str) -> bool;
    /// Applies `control` to the breaker `name` here and on every other instance.
    fn control(&self, name: &str, control: Control);
    /// How its link stands now.
    fn link(&self) -> Link;
}

/// The coordinators attached to one registry.
#[derive(Debug, Default)]
pub(crate) struct Coordinators(std::sync::Mutex<Vec<Weak<dyn Coordinator>>>);

impl Coordinators {
    /// Attaches `coordinator` unless one attached and still alive satisfies `conflicts`;
    /// whether it did. Looked at and attached under one lock: of two attaching at once, the
    /// second sees the first.
    pub(crate) fn attach_unless(
        &self,
        coordinator: Weak<dyn Coordinator>,
        conflicts: impl Fn(&dyn Coordinator) -> bool,
    ) -> bool {
        let mut list = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        // Stopped ones go here, so the list never grows with fleets started and stopped.
        list.retain(|c| c.strong_count() > 0);
        if list
            .iter()
            .filter_map(Weak::upgrade)
            .any(|c| conflicts(&*c))
        {
            return false;
        }
        list.push(coordinator);
        true
    }

    /// The running coordinator that decides for `name`: the first attached, if two share it.
    pub(crate) fn of(&self, name: &str) -> Option<Arc<dyn Coordinator>> {
        let list = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        list.iter()
            .filter_map(Weak::upgrade)
            .find(|c| c.coordinates(name))
    }
}
