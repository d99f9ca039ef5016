//! The link to Redis: one connection manager (which reconnects by itself), the script loaded
//! on every new connection, each round trip bounded by the response timeout, and one log line
//! when the link is lost and one when it is back.

use super::script::script;
use super::status::Status;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, ErrorKind, Pipeline, RedisError, RedisResult, ServerErrorKind};
use std::time::Duration;

/// What [`Link::round_trip`] answers: the script's replies, in the pipeline's order; each
/// breaker's script may fail alone (a key of the wrong type) without failing the others.
pub(super) type Raw = Vec<RedisResult<(u64, String, u64, u64, u64, String)>>;

/// How long the first connection of a fleet may take before it counts as a lost link.
const FIRST_CONNECTION: Duration = Duration::from_secs(2);

pub(super) struct Link {
    client: Client,
    /// Where Redis is, for the log lines: host and port, never the password.
    place: String,
    timeout: Duration,
    manager: Option<ConnectionManager>,
    /// Whether the script is known to the server on the current connection.
    loaded: bool,
    /// `None` until the first round trip: the first failure says so once, like a loss.
    up: Option<bool>,
}

impl Link {
    pub(super) fn new(client: Client, timeout: Duration) -> Link {
        let info = client.get_connection_info();
        let place = info.addr().to_string();
        Link {
            client,
            place,
            timeout,
            manager: None,
            loaded: false,
            up: None,
        }
    }

    /// Sends the pipeline; `None` when Redis did not answer in time or answered with an
    /// error, after which the next round trip starts from a fresh connection and script.
    pub(super) async fn round_trip(&mut self, pipe: &Pipeline, status: &Status) -> Option<Raw> {
        // Connecting and answering each get the timeout, no more: the caller's tick waits on
        // this, never a call. The very first connection gets at least two seconds: a service
        // starting up loads its machine, and a slow first handshake is no lost link to warn
        // about.
        let mut bound = self.timeout.saturating_mul(3);
        if self.up.is_none() {
            bound = bound.max(FIRST_CONNECTION);
        }
        let answer = tokio::time::timeout(bound, self.send(pipe)).await;
        match answer {
            Ok(Ok(raw))
                if raw.iter().any(|r| {
                    r.as_ref()
                        .is_err_and(|e| e.kind() == ErrorKind::Server(ServerErrorKind::NoScript))
                }) =>
            {
                // The server forgot the script (SCRIPT FLUSH, a failover to a replica that
                // never had it): load it again with the next round trip.
                self.lost("the script is not loaded (NOSCRIPT)", status);
                None
            }
            Ok(Ok(raw)) if !raw.is_empty() && raw.iter().all(Result::is_err) => {
                // Every script failed (a read-only replica, out of memory): nothing synced.
                let why = raw.into_iter().find_map(Result::err).map(|e| e.to_string());
                self.lost(why.as_deref().unwrap_or("every script failed"), status);
                None
            }
            Ok(Ok(raw)) => {
                if self.up != Some(true) {
                    if self.up.is_some() {
                        tracing::info!(target: "breaker_runtime", redis = %self.place, "fleet: Redis is back; resyncing the shared breakers");
                    } else {
                        tracing::debug!(target: "breaker_runtime", redis = %self.place, "fleet: connected to Redis");
                    }
                    self.up = Some(true);
                }
                status.synced();
                Some(raw)
            }
            Ok(Err(e)) => {
                self.lost(&e.to_string(), status);
                None
            }
            Err(_) => {
                self.lost("no answer within the response timeout", status);
                None
            }
        }
    }

    async fn send(&mut self, pipe: &Pipeline) -> Result<Raw, RedisError> {
        let manager = match &mut self.manager {
            Some(m) => m,
            None => {
                let connect = match self.up {
                    None => self.timeout.max(FIRST_CONNECTION),
                    Some(_) => self.timeout,
                };
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(connect))
                    // The first connection's script load too; later round trips are cut at
                    // the caller's bound above whatever this says.
                    .set_response_timeout(Some(connect))
                    // The tick comes back in a sync interval: no retries within one.
                    .set_number_of_retries(1)
                    .set_max_delay(self.timeout);
                let m = ConnectionManager::new_with_config(self.client.clone(), config).await?;
                self.loaded = false;
                self.manager.insert(m)
            }
        };
        if !self.loaded {
            script().prepare_invoke().load_async(manager).await?;
            self.loaded = true;
        }
        pipe.query_async(manager).await
    }

    fn lost(&mut self, why: &str, status: &Status) {
        status.failed();
        // A fresh connection and a fresh script load next time: after a restart the server
        // has forgotten the script, and a manager stuck on a dead socket helps nobody.
        self.manager = None;
        self.loaded = false;
        if self.up != Some(false) {
            tracing::warn!(target: "breaker_runtime", redis = %self.place, error = why, "fleet: Redis unreachable; every instance runs its breakers alone until it is back");
            self.up = Some(false);
        }
    }
}
