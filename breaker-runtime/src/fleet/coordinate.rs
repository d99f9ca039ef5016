//! The fleet as its registry's coordinator: the fleet-wide controls, asked through the
//! [`Fleet`](super::Fleet) handle or the admin router, and the link the router shows.

use super::script::Event;
use super::syncer::Shared;
use crate::coordinator::{Control, Coordinator, Link};
use std::sync::PoisonError;

impl Coordinator for Shared {
    fn running(&self) -> bool {
        !*self.stop.borrow()
    }

    fn coordinates(&self, name: &str) -> bool {
        self.running() && self.shares(name)
    }

    /// Here at once; elsewhere at their next sync. A name this fleet does not share is
    /// controlled here only.
    fn control(&self, name: &str, control: Control) {
        if let Some(b) = self.registry.get(name) {
            control.apply(&b);
        }
        if self.shares(name) {
            let event = match control {
                Control::ForceOpen => Event::Force,
                Control::Close => Event::Close,
                Control::Reset => Event::Reset,
            };
            self.controls
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(name.to_owned(), event);
        }
    }

    fn link(&self) -> Link {
        let status = self.status.read();
        Link {
            group: self.config.namespace.clone(),
            connected: status.connected,
            last_sync: status.last_sync,
            errors: status.errors,
        }
    }
}
