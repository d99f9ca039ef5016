//! [`FleetBuilder`]: a fleet's options, checked when it starts.

use super::error::FleetError;
use super::handle::Fleet;
use super::link::Link;
use super::status::Status;
use super::syncer::{Config, Share, Shared, Syncer};
use crate::registry::Registry;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

/// The shortest sync interval: a round trip to Redis must fit in a fraction of it.
const MIN_SYNC: Duration = Duration::from_millis(10);

/// The options of a [`Fleet`]; from [`Fleet::builder`].
///
/// ```no_run
/// use breaker_runtime::fleet::Fleet;
/// use std::time::Duration;
///
/// # #[tokio::main] async fn main() -> Result<(), breaker_runtime::fleet::FleetError> {
/// let fleet = Fleet::builder("redis://127.0.0.1:6379/")
///     .namespace("checkout")
///     .instance_id("pod-7")
///     .sync_interval(Duration::from_millis(250))
///     .min_instances(2)
///     .share(["payments", "inventory"])
///     .start(breaker_runtime::registry())
///     .await?;
/// # fleet.shutdown().await; Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a fleet does nothing until `start`"]
pub struct FleetBuilder {
    url: String,
    namespace: String,
    instance: Option<String>,
    sync: Duration,
    min_instances: u32,
    share: Share,
}

impl FleetBuilder {
    pub(super) fn new(url: impl Into<String>) -> FleetBuilder {
        FleetBuilder {
            url: url.into(),
            namespace: "breaker".to_owned(),
            instance: None,
            sync: Duration::from_millis(250),
            min_instances: 1,
            share: Share::All,
        }
    }

    /// Keeps this service's breakers apart from other services' in the same Redis (default
    /// `breaker`); every instance of one service gives the same. Not empty, and without `:`
    /// (keys are `{namespace:name}:…`, and breaker names may hold one):
    /// [`start`](Self::start) refuses it.
    ///
    /// ```
    /// let b = breaker_runtime::fleet::Fleet::builder("redis://127.0.0.1/").namespace("checkout");
    /// ```
    pub fn namespace(mut self, namespace: impl Into<String>) -> FleetBuilder {
        self.namespace = namespace.into();
        self
    }

    /// This instance's name in the fleet, unique among the instances (default: the host
    /// name, the process id and a random suffix).
    ///
    /// ```
    /// let b = breaker_runtime::fleet::Fleet::builder("redis://127.0.0.1/").instance_id("pod-7");
    /// ```
    pub fn instance_id(mut self, id: impl Into<String>) -> FleetBuilder {
        self.instance = Some(id.into());
        self
    }

    /// How often the breakers sync with the fleet (default 250 ms, at least 10 ms). An open
    /// reaches every instance within two intervals; a Redis that does not answer within a
    /// third of one counts as unreachable for that sync.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = breaker_runtime::fleet::Fleet::builder("redis://127.0.0.1/")
    ///     .sync_interval(Duration::from_millis(100));
    /// ```
    pub fn sync_interval(mut self, every: Duration) -> FleetBuilder {
        self.sync = every;
        self
    }

    /// How many distinct instances must have opened a consecutive-failure breaker (within
    /// its reset timeout) before it opens fleet-wide (default 1: any instance's open opens
    /// the fleet's).
    ///
    /// ```
    /// let b = breaker_runtime::fleet::Fleet::builder("redis://127.0.0.1/").min_instances(2);
    /// ```
    pub fn min_instances(mut self, n: u32) -> FleetBuilder {
        self.min_instances = n;
        self
    }

    /// Shares only these breakers (by registry name); the others stay this instance's own.
    ///
    /// ```
    /// let b = breaker_runtime::fleet::Fleet::builder("redis://127.0.0.1/")
    ///     .share(["payments", "inventory"]);
    /// ```
    pub fn share<I, S>(mut self, names: I) -> FleetBuilder
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.share = Share::Names(names.into_iter().map(Into::into).collect());
        self
    }

    /// Shares every breaker of the registry, those made later included (the default).
    ///
    /// ```
    /// let b = breaker_runtime::fleet::Fleet::builder("redis://127.0.0.1/").share_all();
    /// ```
    pub fn share_all(mut self) -> FleetBuilder {
        self.share = Share::All;
        self
    }

    /// Starts the fleet's syncer on the current tokio runtime and returns at once, without
    /// waiting for Redis: an unreachable Redis is no error, the breakers run alone until it
    /// answers. Errs only for a bad URL or option, or outside a tokio runtime; sharing a
    /// breaker that another running fleet of this registry shares under the same namespace
    /// counts as a bad option (one process is one instance).
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() -> Result<(), breaker_runtime::fleet::FleetError> {
    /// let fleet = breaker_runtime::fleet::Fleet::builder("redis://127.0.0.1:6379/")
    ///     .start(breaker_runtime::registry())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn start(self, registry: &'static Registry) -> Result<Fleet, FleetError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| FleetError::NoRuntime)?;
        if self.sync < MIN_SYNC {
            return Err(FleetError::Invalid(format!(
                "sync_interval must be at least {MIN_SYNC:?}, not {:?}",
                self.sync
            )));
        }
        if self.min_instances == 0 {
            return Err(FleetError::Invalid(
                "min_instances must be at least 1".into(),
            ));
        }
        if self.namespace.is_empty() {
            return Err(FleetError::Invalid("namespace must not be empty".into()));
        }
        if self.namespace.contains(':') {
            // Keys are `{namespace:name}:…`: namespace `a:b` with breaker `c` and namespace
            // `a` with breaker `b:c` would share them.
            return Err(FleetError::Invalid(format!(
                "namespace must not contain ':' (its keys would mix with another namespace's): {:?}",
                self.namespace
            )));
        }
        let instance = self.instance.unwrap_or_else(default_instance);
        if instance.is_empty() {
            return Err(FleetError::Invalid("instance_id must not be empty".into()));
        }
        let client = redis::Client::open(self.url.as_str()).map_err(FleetError::Url)?;
        // Well under the sync interval, so a slow Redis costs one sync, not a backlog.
        let timeout = (self.sync / 3).clamp(Duration::from_millis(5), Duration::from_secs(1));
        let status = Status::new(&self.namespace);
        let shared = Arc::new(Shared {
            registry,
            config: Config {
                namespace: self.namespace,
                instance,
                sync: self.sync,
                min_instances: self.min_instances,
                share: self.share,
            },
            status,
            controls: Default::default(),
            stop: tokio::sync::watch::Sender::new(false),
            wake: Default::default(),
        });
        // One process is one instance: a second fleet sharing a breaker of this registry
        // under the same namespace would report its counts and opens twice (passing for two
        // instances towards min_instances and minimum_calls). Looked for and attached under
        // one lock, so that of two fleets starting at once one sees the other. The admin
        // router finds the fleet there too (weakly held: a stopped fleet's handle and task
        // drop it).
        let coordinator: Arc<dyn crate::coordinator::Coordinator> = shared.clone();
        let namespace = &shared.config.namespace;
        let attached = registry
            .coordinators
            .attach_unless(Arc::downgrade(&coordinator), |c| {
                c.running()
                    && c.link().group == *namespace
                    && match &shared.config.share {
                        Share::All => true,
                        Share::Names(names) => names.iter().any(|n| c.coordinates(n)),
                    }
            });
        if !attached {
            return Err(FleetError::Invalid(format!(
                "a running fleet of this registry already shares some of these breakers under namespace {namespace:?}"
            )));
        }
        runtime.spawn(super::pubsub::listen(
            client.clone(),
            shared.clone(),
            timeout,
        ));
        let task = runtime.spawn(Syncer::new(shared.clone(), Link::new(client, timeout)).run());
        Ok(Fleet::new(shared, task))
    }
}

/// The host name, the process id and a random suffix: unique among the instances of a
/// fleet, and readable in Redis.
fn default_instance() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_owned());
    // std's hasher keys are random per process: enough for a suffix that tells apart two
    // processes that reuse a pid on one host.
    let mut h = RandomState::new().build_hasher();
    h.write_u128(crate::clock::now_ns() as u128);
    format!(
        "{host}-{}-{:06x}",
        std::process::id(),
        h.finish() & 0xff_ffff
    )
}
