//! `GET /events`: the breakers' snapshots as server-sent events.
//!
//! One [`Hub`] per router makes the JSON once for every client: a task, started by the first
//! client and ended when the last one goes, wakes after any breaker's transition (the core's
//! process-wide change signal, `changes.rs`) and every [`REFRESH`] (counts and rates change
//! without a transition, and breakers are added at run time), and publishes the snapshot in a
//! `watch` channel at most every [`COALESCE`]. Each client gets a fresh snapshot on connect,
//! then whatever the channel holds when it changes, and its own heartbeat comment.

use super::AdminRouter;
use axum::extract::State;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{interval_at, sleep_until, Instant, MissedTickBehavior};

/// The shortest time between two published snapshots (the contract's 250 ms).
const COALESCE: Duration = Duration::from_millis(250);
/// How often the hub re-reads the registry while a client is connected.
const REFRESH: Duration = Duration::from_secs(1);
/// The default time between heartbeat comments.
pub(super) const HEARTBEAT: Duration = Duration::from_secs(15);

/// The snapshot JSON every client of a router shares, and whether its task runs.
#[derive(Debug)]
pub(super) struct Hub {
    json: watch::Sender<Arc<str>>,
    /// Held while starting or stopping the task, so a client that subscribes as the last one
    /// leaves is either seen by the stopping task or starts a new one.
    running: Mutex<bool>,
}

impl Default for Hub {
    fn default() -> Hub {
        Hub {
            json: watch::Sender::new(Arc::from("[]")),
            running: Mutex::new(false),
        }
    }
}

impl Hub {
    /// A receiver of the published snapshots; starts the task if it is not running.
    fn subscribe(admin: &Arc<AdminRouter>) -> watch::Receiver<Arc<str>> {
        let receiver = admin.hub.json.subscribe();
        let mut running = admin.hub.lock();
        if !*running {
            *running = true;
            tokio::spawn(run(admin.clone()));
        }
        receiver
    }

    /// Whether the task may stop: no client is left (and the next one will start a task).
    fn stop_if_unwatched(&self) -> bool {
        let mut running = self.lock();
        let idle = self.json.receiver_count() == 0;
        if idle {
            *running = false;
        }
        idle
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, bool> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Every breaker's snapshot, as `GET /breakers` answers it.
fn snapshot_json(admin: &AdminRouter) -> Arc<str> {
    // Serializing plain data (strings, numbers, enums) cannot fail; "[]" keeps the stream
    // well-formed if it ever did.
    let entries = super::fleet_link::Entry::all(admin);
    Arc::from(serde_json::to_string(&entries).unwrap_or_else(|_| "[]".into()))
}

/// The hub's task: publishes a snapshot after each transition (coalesced) and each refresh,
/// until no client is left.
async fn run(admin: Arc<AdminRouter>) {
    let mut transitions = crate::changes::watch();
    let mut refresh = interval_at(Instant::now(), REFRESH);
    refresh.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last: Option<Instant> = None;
    loop {
        tokio::select! {
            () = admin.hub.json.closed() => {
                if admin.hub.stop_if_unwatched() {
                    return;
                }
                continue;
            }
            // The sender is a static: this never ends with an error.
            _ = transitions.changed() => {}
            _ = refresh.tick() => {}
        }
        if let Some(last) = last {
            sleep_until(last + COALESCE).await;
        }
        // Whatever happened while waiting is in the snapshot below.
        transitions.mark_unchanged();
        let json = snapshot_json(&admin);
        admin.hub.json.send_if_modified(|current| {
            let changed = **current != *json;
            if changed {
                *current = json;
            }
            changed
        });
        last = Some(Instant::now());
    }
}

/// `GET /events`.
pub(super) async fn events(State(admin): State<Arc<AdminRouter>>) -> Response {
    let mut receiver = Hub::subscribe(&admin);
    // What the channel holds now may be old (the task may just have started): the first
    // event is read fresh, and only later changes come from the channel.
    receiver.mark_unchanged();
    let first = snapshot_json(&admin);
    let every = admin.heartbeat;
    let mut heartbeat = interval_at(Instant::now() + every, every);
    // A client that reads slowly gets one heartbeat when it catches up, not a burst.
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let stream = futures_util::stream::unfold(
        (Some(first), receiver, heartbeat),
        |(first, mut receiver, mut heartbeat)| async move {
            if let Some(first) = first {
                let event = Event::default().data(&*first);
                return Some((
                    Ok::<_, std::convert::Infallible>(event),
                    (None, receiver, heartbeat),
                ));
            }
            let event = tokio::select! {
                changed = receiver.changed() => {
                    // An error means the hub is gone with its router: end the stream.
                    changed.ok()?;
                    let json = receiver.borrow_and_update().clone();
                    Event::default().data(&*json)
                }
                _ = heartbeat.tick() => Event::default().comment("heartbeat"),
            };
            Some((Ok(event), (None, receiver, heartbeat)))
        },
    );
    let mut response = Sse::new(stream).into_response();
    // Proxies that buffer (nginx) would hold the events back.
    response.headers_mut().insert(
        "x-accel-buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::{AdminRouter, Hub};
    use crate::registry::Registry;
    use crate::settings::BreakerConfig;
    use std::sync::Arc;
    use std::time::Duration;

    /// Waits (on the paused clock, which jumps ahead while every task is idle) until `f`.
    async fn until(mut f: impl FnMut() -> bool) {
        for _ in 0..1000 {
            if f() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("condition not met within 10 s of tokio time");
    }

    #[tokio::test(start_paused = true)]
    async fn the_task_runs_while_watched_and_a_later_client_starts_it_again() {
        let registry = Arc::new(Registry::new());
        let db = registry.get_or_create("db", BreakerConfig::default());
        let admin = Arc::new(AdminRouter::with_registry(registry));
        let running = |admin: &AdminRouter| *admin.hub.lock();

        let first = Hub::subscribe(&admin);
        assert!(running(&admin));
        drop(first);
        until(|| !running(&admin)).await;

        let mut second = Hub::subscribe(&admin);
        assert!(running(&admin));
        second.mark_unchanged();
        db.force_open();
        tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                second.changed().await.unwrap();
                if second.borrow_and_update().contains("\"forced_open\"") {
                    return;
                }
            }
        })
        .await
        .expect("the change is published");
    }

    #[tokio::test(start_paused = true)]
    async fn a_transition_is_published_within_the_coalescing_delay_not_the_refresh() {
        let registry = Arc::new(Registry::new());
        let db = registry.get_or_create("db", BreakerConfig::default());
        let admin = Arc::new(AdminRouter::with_registry(registry));
        let mut client = Hub::subscribe(&admin);
        // The task's first refresh publishes right away.
        client.changed().await.unwrap();
        assert!(client.borrow_and_update().contains("\"closed\""));

        let start = tokio::time::Instant::now();
        db.force_open();
        tokio::time::timeout(Duration::from_millis(400), client.changed())
            .await
            .expect("published before the next refresh (1 s)")
            .unwrap();
        assert!(client.borrow().contains("\"forced_open\""));
        // At most the coalescing delay after the last publication.
        assert!(
            start.elapsed() <= Duration::from_millis(250),
            "{:?}",
            start.elapsed()
        );
    }
}
