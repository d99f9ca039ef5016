//! Fleet mode (feature `fleet`): breakers shared by every instance of a service through Redis
//! (6 or newer, or Valkey), with nothing on the call path.
//!
//! A background task per fleet, on the tokio runtime that started it, reads each shared
//! breaker's counts every sync interval, sends them to Redis with one Lua script per breaker
//! (one pipelined round trip for all), and applies the fleet's answer:
//!
//! - **Trip together.** Rate-based breakers pool their windows fleet-wide in time buckets
//!   (a count window pools the last 30 s) judged by the breaker's own `minimum_calls`,
//!   `failure_rate` and `slow_call_rate`; a consecutive-failure breaker opens fleet-wide once
//!   [`min_instances`](FleetBuilder::min_instances) instances opened it within its reset
//!   timeout. An open reaches every instance within two sync intervals (pub/sub wakes the
//!   instances at once; the periodic sync catches what a disconnected subscriber missed).
//! - **Probe once.** When the fleet's open period is over, one instance takes a probe lease
//!   (lasting `half_open_timeout`) and half-opens; the others keep rejecting until its
//!   verdict, which applies to all: close, or re-open with its backoff. If the holder dies,
//!   or no call comes to it in time, the lease runs out and another instance probes (a
//!   holder still alive gives its half-open up and waits with the others).
//! - **One clock.** The script reads Redis's `TIME`; deadlines travel as milliseconds left.
//! - **Fenced.** Every fleet state has a generation; a report decided on an older one
//!   changes nothing, and so does an answer for a breaker that moved meanwhile.
//! - **Redis is optional.** Down, lost or slow (no answer within a third of the sync
//!   interval; the first connection may take two seconds), every instance runs its breakers alone, exactly as without fleet mode: one
//!   WARN when the link is lost, one INFO when it is back, then a full resync.
//! - **Tidy.** Keys are `{namespace:name}:…` (one hash tag per breaker, so a Redis Cluster
//!   would keep them in one slot; the client connects to one node), with a TTL refreshed on
//!   every write.
//!
//! ```no_run
//! use breaker_runtime::fleet::Fleet;
//! use std::time::Duration;
//!
//! # #[tokio::main] async fn main() -> Result<(), breaker_runtime::fleet::FleetError> {
//! let fleet = Fleet::builder("redis://127.0.0.1:6379/")
//!     .namespace("checkout")
//!     .sync_interval(Duration::from_millis(250))
//!     .share(["payments"])
//!     .start(breaker_runtime::registry())
//!     .await?;
//! // ... calls go through `payments` as before ...
//! fleet.shutdown().await;
//! # Ok(()) }
//! ```

mod builder;
mod coordinate;
mod error;
mod handle;
mod link;
mod pubsub;
mod script;
mod status;
mod syncer;
mod track;

pub use builder::FleetBuilder;
pub use error::FleetError;
pub use handle::Fleet;
pub use status::FleetStatus;
