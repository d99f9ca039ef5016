//! `GET /events`: the breakers' snapshots as server-sent events.
//!
//! One [`Hub`] per router makes the JSON once for every client: a task, started by the first
//! client and ended when the last one goes, wakes on any breaker's event and every
//! [`REFRESH`] (counts change without a transition, and breakers are added at run time), and
//! publishes the snapshot in a `watch` channel at most every [`COALESCE`]. Each client gets a
//! fresh snapshot on connect, then whatever the channel holds when it changes, and its own
//! heartbeat comment.

use super::AdminRouter;
use crate::breaker::CircuitBreaker;
use axum::extract::State;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
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
    Arc::from(serde_json::to_string(&admin.registry.snapshot()).unwrap_or_else(|_| "[]".into()))
}

/// The hub's task: publishes a snapshot on each breaker event (coalesced) and each refresh,
/// until no client is left.
async fn run(admin: Arc<AdminRouter>) {
    let wake = Arc::new(Notify::new());
    let mut listeners = JoinSet::new();
    let mut watched: HashMap<usize, Weak<CircuitBreaker>> = HashMap::new();
    let mut refresh = interval_at(Instant::now(), REFRESH);
    refresh.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last: Option<Instant> = None;
    loop {
        tokio::select! {
            () = admin.hub.json.closed() => {
                if admin.hub.stop_if_unwatched() {
                    // Dropping `listeners` aborts the per-breaker listeners.
                    return;
                }
                continue;
            }
            () = wake.notified() => {}
            _ = refresh.tick() => listen_to_new(&admin, &wake, &mut listeners, &mut watched),
        }
        if let Some(last) = last {
            sleep_until(last + COALESCE).await;
        }
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

/// Subscribes to the events of every breaker not listened to yet (declared ones included:
/// listing the registry builds them), each in a small task that wakes the hub.
fn listen_to_new(
    admin: &AdminRouter,
    wake: &Arc<Notify>,
    listeners: &mut JoinSet<()>,
    watched: &mut HashMap<usize, Weak<CircuitBreaker>>,
) {
    // A breaker that is gone frees its address; forget it first so a new one there counts.
    watched.retain(|_, breaker| breaker.strong_count() > 0);
    for breaker in admin.registry.all() {
        let key = Arc::as_ptr(&breaker) as usize;
        if watched.contains_key(&key) {
            continue;
        }
        watched.insert(key, Arc::downgrade(&breaker));
        let mut events = breaker.subscribe();
        let wake = wake.clone();
        // Holds the receiver only, not the breaker: it ends when the breaker is dropped.
        listeners.spawn(async move {
            while events.recv().await.is_some() {
                wake.notify_one();
            }
        });
    }
    // Reap the listeners of breakers that are gone.
    while listeners.try_join_next().is_some() {}
}

/// `GET /events`.
pub(super) async fn events(State(admin): State<Arc<AdminRouter>>) -> Response {
    let mut receiver = Hub::subscribe(&admin);
    // What the channel holds now may be old (the task may just have started): the first
    // event is read fresh, and only later changes come from the channel.
    receiver.mark_unchanged();
    let first = snapshot_json(&admin);
    let every = admin.heartbeat;
    let heartbeat = interval_at(Instant::now() + every, every);
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
}
