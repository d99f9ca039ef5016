//! Fleet mode against a real `redis-server` (feature `fleet`): several registries in one
//! process stand for the instances of a service, each with its own fleet on one Redis.
//!
//! Real time throughout (Redis keeps its own clock), so every wait is for a condition, with a
//! generous bound; the bounds the contract promises ("within two sync intervals") are
//! asserted separately, with a margin for a loaded machine.

#[cfg(feature = "axum")]
mod admin;
mod chaos;
mod controls;
mod fenced;
mod optional;
mod probe;
mod processes;
mod review;
mod review2;
mod server;
mod together;

use breaker_runtime::fleet::Fleet;
use breaker_runtime::{BreakerConfig, CircuitBreaker, Registry, State};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The sync interval of every test fleet.
pub const SYNC: Duration = Duration::from_millis(100);

/// One instance of the service: a registry of its own, its fleet and its breaker.
pub struct Instance {
    /// The instance's own registry.
    pub registry: &'static Registry,
    /// Its fleet; `None` once a test stopped it (the instance "died").
    pub fleet: Option<Fleet>,
    /// Its shared breaker.
    pub breaker: Arc<CircuitBreaker>,
}

impl Instance {
    /// An instance whose breaker `name` has `config`, in a fleet on `url` under `namespace`.
    pub async fn start(
        url: &str,
        namespace: &str,
        id: &str,
        name: &str,
        config: BreakerConfig,
        min_instances: u32,
    ) -> Instance {
        Instance::start_with(url, namespace, id, name, config, min_instances, SYNC).await
    }

    /// As [`start`](Self::start), syncing every `sync`.
    pub async fn start_with(
        url: &str,
        namespace: &str,
        id: &str,
        name: &str,
        config: BreakerConfig,
        min_instances: u32,
        sync: Duration,
    ) -> Instance {
        // `start` wants a registry that lives as long as the program, as the global one does.
        let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
        let breaker = registry.get_or_create(name, config);
        let fleet = Fleet::builder(url)
            .namespace(namespace)
            .instance_id(id)
            .sync_interval(sync)
            .min_instances(min_instances)
            .share([name])
            .start(registry)
            .await
            .expect("a good URL and options");
        Instance {
            registry,
            fleet: Some(fleet),
            breaker,
        }
    }

    /// The running fleet.
    pub fn fleet(&self) -> &Fleet {
        self.fleet.as_ref().expect("the fleet runs")
    }

    /// The breaker's state here.
    pub fn state(&self) -> State {
        self.breaker.state()
    }
}

/// The breaker most fleet tests share: it opens after 2 failures in a row, lets one probe
/// in at a time, and one successful probe closes it.
pub fn one_probe(reset: Duration, half_open_timeout: Duration) -> BreakerConfig {
    BreakerConfig::builder()
        .failure_threshold(2)
        .reset_timeout(reset)
        .success_threshold(1)
        .half_open_max_calls(1)
        .half_open_timeout(half_open_timeout)
        .build()
}

/// Three instances of one service with one breaker config.
pub async fn three(
    url: &str,
    namespace: &str,
    name: &str,
    config: &BreakerConfig,
    min_instances: u32,
) -> [Instance; 3] {
    let mut v = Vec::new();
    for id in ["a", "b", "c"] {
        v.push(Instance::start(url, namespace, id, name, config.clone(), min_instances).await);
    }
    v.try_into().ok().expect("three")
}

/// Waits until `cond` holds, checking every 10 ms; how long it took, or a panic naming
/// `what` after `bound`.
pub async fn until(what: &str, bound: Duration, mut cond: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if cond() {
            return start.elapsed();
        }
        assert!(start.elapsed() < bound, "not within {bound:?}: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until every fleet is connected, then fails calls on the first instance until its
/// breaker opens, and waits until the fleet has opened all of them.
pub async fn tripped_by_the_first(fleet: &[Instance]) {
    connected(fleet).await;
    until(
        "the first instance opens on its failures",
        Duration::from_secs(10),
        || {
            let _ = fleet[0].breaker.call_sync(|| Err::<(), _>("down"));
            fleet[0].state() == State::Open
        },
    )
    .await;
    until("all open", Duration::from_secs(10), || {
        fleet.iter().all(|i| i.state() == State::Open)
    })
    .await;
}

/// Waits until an instance, other than `not`, half-opens (it took the fleet's probe lease);
/// its index.
pub async fn half_opened(fleet: &[Instance], not: Option<usize>) -> usize {
    let find = || (0..fleet.len()).find(|&k| Some(k) != not && fleet[k].state() == State::HalfOpen);
    until("an instance half-opens", Duration::from_secs(10), || {
        find().is_some()
    })
    .await;
    find().expect("one did")
}

/// Waits (at most `bound`) until `instance` has synced with Redis after `mark`.
pub async fn synced_since(instance: &Instance, mark: Instant, bound: Duration) {
    until("a sync", bound, || {
        let ago = instance.fleet().status().last_sync;
        ago.is_some_and(|ago| ago < mark.elapsed())
    })
    .await;
}

/// Gives each of `instances` a successful call every 10 ms until all of them are closed
/// (10 s at most): the dependency is healthy again and traffic comes back.
pub async fn closed_by_healthy_traffic<'a, I>(what: &str, instances: I)
where
    I: IntoIterator<Item = &'a Instance> + Clone,
{
    until(what, Duration::from_secs(10), || {
        for i in instances.clone() {
            let _ = i.breaker.call_sync(|| Ok::<_, &str>(()));
        }
        instances
            .clone()
            .into_iter()
            .all(|i| i.state() == State::Closed)
    })
    .await;
}

/// Waits until every fleet has synced at least once.
pub async fn connected(instances: &[Instance]) {
    until("every fleet connects", Duration::from_secs(10), || {
        instances.iter().all(|i| i.fleet().status().connected)
    })
    .await;
}

/// Runs `f`, returning its output and how long it took.
pub async fn timed<T>(f: impl Future<Output = T>) -> (T, Duration) {
    let start = Instant::now();
    let out = f.await;
    (out, start.elapsed())
}

/// A call that fails.
pub async fn fail(b: &CircuitBreaker) -> Result<(), breaker_runtime::CallError<&'static str>> {
    b.call(|| async { Err("down") }).await
}

/// A call that succeeds.
pub async fn ok(b: &CircuitBreaker) -> Result<(), breaker_runtime::CallError<&'static str>> {
    b.call(|| async { Ok(()) }).await
}
