//! Pub/sub, for speed: the script announces every fleet move on the namespace's channel, and
//! a message wakes the syncer at once instead of at its next interval. Messages sent while a
//! subscriber is disconnected are lost, so the periodic sync stays the safety net.

use super::syncer::{stopped, Shared};
use futures_core::Stream;
use redis::{Client, RedisError};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// The channel of a namespace's moves.
pub(super) fn channel(namespace: &str) -> String {
    format!("breaker-fleet:{namespace}")
}

/// Subscribes (again after every loss, no faster than once a sync interval) and wakes the
/// syncer on each message, until the fleet stops.
pub(super) async fn listen(client: Client, shared: Arc<Shared>, timeout: Duration) {
    let mut stop = shared.stop.subscribe();
    let name = channel(&shared.config.namespace);
    loop {
        let subscribed = tokio::time::timeout(timeout.saturating_mul(3), async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&name).await?;
            Ok::<_, RedisError>(pubsub)
        });
        let subscribed = tokio::select! {
            s = subscribed => s,
            _ = stopped(&mut stop) => return,
        };
        if let Ok(Ok(pubsub)) = subscribed {
            let mut messages = pubsub.into_on_message();
            loop {
                let next = std::future::poll_fn(|cx| Pin::new(&mut messages).poll_next(cx));
                tokio::select! {
                    m = next => match m {
                        Some(_) => shared.wake.notify_one(),
                        // The connection is gone.
                        None => break,
                    },
                    _ = stopped(&mut stop) => return,
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(shared.config.sync) => {}
            _ = stopped(&mut stop) => return,
        }
    }
}
