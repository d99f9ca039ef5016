//! One `/events` client: its first snapshot, read fresh on connect, then the hub's newest.

use super::hub::{snapshot_json, Hub};
use super::AdminRouter;
use axum::response::sse::Event;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::time::{interval_at, Instant, Interval, MissedTickBehavior};

/// What one connection has been sent, and what it waits on.
pub(super) struct Client {
    /// The snapshot read on connect, until it is sent.
    first: Option<Arc<str>>,
    hub: watch::Receiver<Arc<str>>,
    heartbeat: Interval,
}

impl Client {
    pub(super) fn connect(admin: &Arc<AdminRouter>) -> Client {
        let mut hub = Hub::subscribe(admin);
        // What the channel holds now may be old (the task may just have started): the first
        // event is read fresh, and only later changes come from the channel.
        hub.mark_unchanged();
        let every = admin.heartbeat;
        let mut heartbeat = interval_at(Instant::now() + every, every);
        // A client that reads slowly gets one heartbeat when it catches up, not a burst.
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Client {
            first: Some(snapshot_json(admin)),
            hub,
            heartbeat,
        }
    }

    /// The next event to send; `None` once the hub is gone with its router.
    pub(super) async fn next_event(&mut self) -> Option<Event> {
        if let Some(first) = self.first.take() {
            return Some(Event::default().data(&*first));
        }
        tokio::select! {
            changed = self.hub.changed() => {
                // An error means the hub is gone with its router: end the stream.
                changed.ok()?;
                let json = self.hub.borrow_and_update().clone();
                Some(Event::default().data(&*json))
            }
            _ = self.heartbeat.tick() => Some(Event::default().comment("heartbeat")),
        }
    }
}
