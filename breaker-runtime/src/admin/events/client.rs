//! One `/events` client: its first snapshot, read fresh on connect, then the hub's newest,
//! spaced by [`COALESCE`] for this client alone. The hub's own spacing does not give that: a
//! client that connects just before the hub publishes would get two events a few ms apart.

use super::hub::{snapshot_json, Hub};
use super::{AdminRouter, COALESCE};
use axum::response::sse::Event;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::time::{interval_at, sleep_until, Instant, Interval, MissedTickBehavior};

/// What one connection has been sent, and what it waits on.
pub(super) struct Client {
    /// The snapshot read on connect, until it is sent.
    first: Option<Arc<str>>,
    hub: watch::Receiver<Arc<str>>,
    heartbeat: Interval,
    /// The last snapshot sent: one equal to it is not sent again.
    sent: Arc<str>,
    /// When it was sent: the next waits until [`COALESCE`] after.
    sent_at: Instant,
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
            sent: Arc::from(""),
            sent_at: Instant::now(),
        }
    }

    /// The next event to send; `None` once the hub is gone with its router.
    pub(super) async fn next_event(&mut self) -> Option<Event> {
        if let Some(first) = self.first.take() {
            return Some(self.send(first));
        }
        loop {
            tokio::select! {
                changed = self.hub.changed() => {
                    // An error means the hub is gone with its router: end the stream.
                    changed.ok()?;
                    sleep_until(self.sent_at + COALESCE).await;
                    // The newest after the wait: changes made during it are in it, the last
                    // one included.
                    let json = self.hub.borrow_and_update().clone();
                    if json != self.sent {
                        return Some(self.send(json));
                    }
                }
                _ = self.heartbeat.tick() => return Some(Event::default().comment("heartbeat")),
            }
        }
    }

    fn send(&mut self, json: Arc<str>) -> Event {
        let event = Event::default().data(&*json);
        self.sent = json;
        self.sent_at = Instant::now();
        event
    }
}
