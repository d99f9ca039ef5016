//! `GET /events` as one client reads it, on the paused clock: the handler's body, read event
//! by event, each stamped with the (exact) time it came.

use super::{events, AdminRouter, COALESCE};
use crate::registry::Registry;
use crate::settings::BreakerConfig;
use axum::extract::State;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep, Instant};

/// One client's `/events` body.
struct Client {
    body: axum::body::BodyDataStream,
    buffer: String,
}

impl Client {
    async fn connect(admin: &Arc<AdminRouter>) -> Client {
        let response = events(State(admin.clone())).await;
        Client {
            body: response.into_body().into_data_stream(),
            buffer: String::new(),
        }
    }

    /// The next event's data (comments skipped) and when it came; within 5 s.
    async fn next_data(&mut self) -> (String, Instant) {
        let read = async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..end + 2).collect();
                    let data: Vec<&str> = block
                        .lines()
                        .filter_map(|l| l.strip_prefix("data: "))
                        .collect();
                    if !data.is_empty() {
                        return (data.join("\n"), Instant::now());
                    }
                    continue;
                }
                let chunk = self
                    .body
                    .next()
                    .await
                    .expect("the stream stays open")
                    .unwrap();
                self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
            }
        };
        tokio::time::timeout(Duration::from_secs(5), read)
            .await
            .expect("an event within 5 s")
    }
}

/// The contract's "at most every 250 ms" holds for each client, its first event included: a
/// client that connects while the breakers keep changing (and another client keeps the hub
/// publishing) gets its second event no sooner than 250 ms after its first, whenever in the
/// hub's rhythm it connected; and once the changes stop, the last one still reaches it.
#[tokio::test(start_paused = true)]
async fn each_client_gets_events_250_ms_apart_its_first_included_and_the_last_change() {
    let registry = Arc::new(Registry::new());
    let db = registry.get_or_create("db", BreakerConfig::default());
    let admin = Arc::new(AdminRouter::with_registry(registry));
    let mut watching = Client::connect(&admin).await;
    watching.next_data().await;
    let toggling = {
        let db = db.clone();
        tokio::spawn(async move {
            loop {
                db.force_open();
                sleep(Duration::from_millis(40)).await;
                db.close();
                sleep(Duration::from_millis(40)).await;
            }
        })
    };
    let mut late = None;
    // Connections at varied points of the hub's 250 ms rhythm.
    for wait_ms in [0, 30, 70, 110, 150, 190, 230] {
        sleep(Duration::from_millis(wait_ms)).await;
        let mut client = Client::connect(&admin).await;
        let (_, first) = client.next_data().await;
        let (_, second) = client.next_data().await;
        assert!(
            second - first >= COALESCE,
            "connected after {wait_ms} ms: its second event came {:?} after its first",
            second - first
        );
        late = Some(client);
    }
    toggling.abort();
    db.disable();
    let mut late = late.unwrap();
    loop {
        let (data, _) = late.next_data().await;
        if data.contains("\"state\":\"disabled\"") {
            break;
        }
    }
    drop(watching);
}
