//! [`Fleet`]: the running fleet's handle: its status, the fleet-wide controls, shutdown.

use super::builder::FleetBuilder;
use super::status::FleetStatus;
use super::syncer::Shared;
use crate::coordinator::{Control, Coordinator};
use std::sync::Arc;
use tokio::task::JoinHandle;

/// A running fleet: this instance's breakers shared with every other instance of the service
/// through Redis. Dropping it stops the syncer, as [`shutdown`](Self::shutdown) does without
/// waiting.
///
/// ```no_run
/// use breaker_runtime::fleet::Fleet;
///
/// # #[tokio::main] async fn main() -> Result<(), breaker_runtime::fleet::FleetError> {
/// let fleet = Fleet::builder("redis://127.0.0.1:6379/")
///     .namespace("checkout")
///     .share(["payments"])
///     .start(breaker_runtime::registry())
///     .await?;
/// println!("{:?}", fleet.status());
/// fleet.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "dropping the fleet stops it: keep it for as long as the breakers are shared"]
pub struct Fleet {
    shared: Arc<Shared>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("namespace", &self.config.namespace)
            .field("instance", &self.config.instance)
            .finish_non_exhaustive()
    }
}

impl Fleet {
    /// Starts describing a fleet whose Redis is at `url` (`redis://[:password@]host[:port][/db]`;
    /// with the feature `rustls`, `rediss://…` for TLS, which without it
    /// [`start`](FleetBuilder::start) refuses as a bad URL).
    ///
    /// ```
    /// let builder = breaker_runtime::fleet::Fleet::builder("redis://127.0.0.1:6379/");
    /// ```
    pub fn builder(url: impl Into<String>) -> FleetBuilder {
        FleetBuilder::new(url)
    }

    pub(super) fn new(shared: Arc<Shared>, task: JoinHandle<()>) -> Fleet {
        Fleet {
            shared,
            task: Some(task),
        }
    }

    /// How the link to Redis stands.
    ///
    /// ```no_run
    /// # async fn f(fleet: breaker_runtime::fleet::Fleet) {
    /// assert!(fleet.status().connected);
    /// # }
    /// ```
    pub fn status(&self) -> FleetStatus {
        self.shared.status.read()
    }

    /// Forces the breaker `name` open on every instance, until [`close`](Self::close) or
    /// [`reset`](Self::reset): here at once, elsewhere at their next sync. Without a breaker
    /// of that name shared by this fleet, only the local breaker (if any) is forced.
    ///
    /// ```no_run
    /// # async fn f(fleet: breaker_runtime::fleet::Fleet) {
    /// fleet.force_open("payments");
    /// # }
    /// ```
    pub fn force_open(&self, name: &str) {
        self.shared.control(name, Control::ForceOpen);
    }

    /// Closes the breaker `name` on every instance, as
    /// [`CircuitBreaker::close`](crate::CircuitBreaker::close) does on one, and clears the
    /// fleet's pooled window.
    ///
    /// ```no_run
    /// # async fn f(fleet: breaker_runtime::fleet::Fleet) {
    /// fleet.close("payments");
    /// # }
    /// ```
    pub fn close(&self, name: &str) {
        self.shared.control(name, Control::Close);
    }

    /// Resets the breaker `name` on every instance, as
    /// [`CircuitBreaker::reset`](crate::CircuitBreaker::reset) does on one.
    ///
    /// ```no_run
    /// # async fn f(fleet: breaker_runtime::fleet::Fleet) {
    /// fleet.reset("payments");
    /// # }
    /// ```
    pub fn reset(&self, name: &str) {
        self.shared.control(name, Control::Reset);
    }

    /// Stops the syncer and waits for it to finish. The breakers stay as they are and go on
    /// alone; the fleet's keys expire by themselves.
    ///
    /// ```no_run
    /// # async fn f(fleet: breaker_runtime::fleet::Fleet) {
    /// fleet.shutdown().await;
    /// # }
    /// ```
    pub async fn shutdown(mut self) {
        self.stop();
        if let Some(task) = self.task.take() {
            // A syncer that panicked has nothing left to stop.
            let _ = task.await;
        }
    }

    fn stop(&self) {
        self.shared.stop.send_replace(true);
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.stop();
    }
}
