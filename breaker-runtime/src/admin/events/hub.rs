//! The hub: one per router, it makes the snapshot JSON once for every `/events` client.
//!
//! A task, started by the first client and ended when the last one goes, wakes after any
//! breaker's transition (the core's process-wide change signal, `changes.rs`), when the
//! next move time alone makes falls due (an open period's end, a half-open probe's timeout:
//! no transition signals those until somebody looks), and every [`REFRESH`] (counts and rates change
//! without a transition, and breakers are added at run time). It publishes the snapshot in a
//! `watch` channel at most every [`COALESCE`].

use super::{AdminRouter, COALESCE};
use crate::admin::fleet_link::Entry;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{interval_at, sleep_until, Instant, MissedTickBehavior};

/// How often the hub re-reads the registry while a client is connected.
const REFRESH: Duration = Duration::from_secs(1);

/// The snapshot JSON every client of a router shares, and whether its task runs.
#[derive(Debug)]
pub(in crate::admin) struct Hub {
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
    pub(super) fn subscribe(admin: &Arc<AdminRouter>) -> watch::Receiver<Arc<str>> {
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
pub(super) fn snapshot_json(admin: &AdminRouter) -> Arc<str> {
    to_json(&Entry::all(admin))
}

fn to_json(entries: &[Entry]) -> Arc<str> {
    // Serializing plain data (strings, numbers, enums) cannot fail; "[]" keeps the stream
    // well-formed if it ever did.
    Arc::from(serde_json::to_string(entries).unwrap_or_else(|_| "[]".into()))
}

/// When time alone next moves a breaker of `entries`: the earliest open period's end (it
/// says half-open then) or half-open probe's timeout (it says open again). A millisecond
/// later, since breakers keep time in whole milliseconds.
fn earliest_timed_move(entries: &[Entry], now: Instant) -> Option<Instant> {
    let wait = entries
        .iter()
        .filter_map(|e| e.snapshot.next_move_ms)
        .min()?;
    // A move too far off for the platform's clock (`open_for(Duration::MAX)` is 2^64 ms
    // away) is no wake-up: where `Instant` cannot hold it, adding it would panic.
    now.checked_add(Duration::from_millis(wait.saturating_add(1)))
}

/// Sleeps until `due`, or forever without one.
async fn until(due: Option<Instant>) {
    match due {
        Some(due) => sleep_until(due).await,
        None => std::future::pending().await,
    }
}

/// The hub's task: publishes a snapshot after each transition, each timed move and
/// each refresh (coalesced), until no client is left.
async fn run(admin: Arc<AdminRouter>) {
    let mut transitions = crate::changes::watch();
    let mut refresh = interval_at(Instant::now(), REFRESH);
    refresh.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last: Option<Instant> = None;
    let mut timed_move_due: Option<Instant> = None;
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
            () = until(timed_move_due) => {}
            _ = refresh.tick() => {}
        }
        if let Some(last) = last {
            sleep_until(last + COALESCE).await;
        }
        // Whatever happened while waiting is in the snapshot below.
        transitions.mark_unchanged();
        let entries = Entry::all(&admin);
        timed_move_due = earliest_timed_move(&entries, Instant::now());
        let json = to_json(&entries);
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

    /// Open → half-open is a move time alone makes, which no transition signal announces:
    /// the hub wakes when the open period ends and publishes within the coalescing delay of
    /// it, not at its next refresh (up to a second later). Breakers read tokio's clock only
    /// with `test-util`.
    #[cfg(feature = "test-util")]
    #[tokio::test(start_paused = true)]
    async fn an_open_period_ending_is_published_within_the_coalescing_delay() {
        use tokio::time::{sleep, Instant};
        let registry = Arc::new(Registry::new());
        let db = registry.get_or_create("db", BreakerConfig::default());
        let admin = Arc::new(AdminRouter::with_registry(registry));
        let mut client = Hub::subscribe(&admin);
        client.changed().await.unwrap();
        // Open periods that end at varied points of the refresh's second.
        for open_ms in [1300, 1700, 2100, 2550] {
            db.close();
            sleep(Duration::from_millis(300)).await;
            db.open_for(Duration::from_millis(open_ms));
            let due = Instant::now() + Duration::from_millis(open_ms);
            tokio::time::timeout(Duration::from_secs(5), async {
                loop {
                    client.changed().await.unwrap();
                    if client
                        .borrow_and_update()
                        .contains("\"state\":\"half_open\"")
                    {
                        return;
                    }
                }
            })
            .await
            .expect("half-open is published");
            let late = Instant::now().saturating_duration_since(due);
            assert!(
                late <= Duration::from_millis(250),
                "open for {open_ms} ms: half-open published {late:?} after it fell due"
            );
        }
    }

    /// The other move time alone makes: a probe that never reports re-opens the breaker
    /// `half_open_timeout` after it was let in; the stream shows it within the coalescing
    /// delay too (it waited for the next refresh before).
    #[cfg(feature = "test-util")]
    #[tokio::test(start_paused = true)]
    async fn a_probe_timing_out_is_published_within_the_coalescing_delay() {
        use tokio::time::{sleep, Instant};
        let registry = Arc::new(Registry::new());
        let db = registry.get_or_create(
            "db",
            BreakerConfig::builder()
                .half_open_max_calls(1)
                .half_open_timeout(Duration::from_millis(1_300))
                .reset_timeout(Duration::from_secs(3_600))
                .build(),
        );
        let admin = Arc::new(AdminRouter::with_registry(registry));
        let mut client = Hub::subscribe(&admin);
        client.changed().await.unwrap();
        for wait_ms in [0, 400, 750] {
            db.close();
            sleep(Duration::from_millis(300 + wait_ms)).await;
            db.open_for(Duration::ZERO);
            let probe = db.try_acquire().expect("the probe");
            let due = Instant::now() + Duration::from_millis(1_300);
            tokio::time::timeout(Duration::from_secs(5), async {
                loop {
                    client.changed().await.unwrap();
                    if client
                        .borrow_and_update()
                        .contains("\"reason\":\"half_open_timeout\"")
                    {
                        return;
                    }
                }
            })
            .await
            .expect("the re-open is published");
            let late = Instant::now().saturating_duration_since(due);
            assert!(
                late <= Duration::from_millis(250),
                "the probe's timeout published {late:?} after it fell due"
            );
            drop(probe);
        }
    }
}
