//! The background task of one fleet: every sync interval it reads each shared breaker,
//! sends one script per breaker in one pipeline, and applies the answers. Nothing here runs
//! on a call's path; a call never waits for it.

use super::link::Link;
use super::script::{command, keys, Event, Reply};
use super::status::Status;
use super::track::Track;
use crate::breaker::CircuitBreaker;
use crate::registry::Registry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};
use tokio::time::MissedTickBehavior;

/// Which breakers a fleet shares.
#[derive(Debug, Clone)]
pub(super) enum Share {
    All,
    Names(Vec<String>),
}

/// A fleet's settings, checked.
#[derive(Debug, Clone)]
pub(super) struct Config {
    pub(super) namespace: String,
    pub(super) instance: String,
    pub(super) sync: Duration,
    pub(super) min_instances: u32,
    pub(super) share: Share,
}

/// What the [`Fleet`](super::Fleet) handle and its syncer share.
pub(super) struct Shared {
    pub(super) registry: &'static Registry,
    pub(super) config: Config,
    pub(super) status: Status,
    /// Fleet-wide controls asked for since the last sync, by breaker name.
    pub(super) controls: Mutex<HashMap<String, Event>>,
    /// `true` once the fleet stops: every task of the fleet watches it.
    pub(super) stop: watch::Sender<bool>,
    /// Rung by a pub/sub message: some breaker moved, sync now.
    pub(super) wake: Notify,
}

impl Shared {
    /// The shared breakers that exist now.
    pub(super) fn selection(&self) -> Vec<Arc<CircuitBreaker>> {
        match &self.config.share {
            Share::All => self.registry.all(),
            Share::Names(names) => names.iter().filter_map(|n| self.registry.get(n)).collect(),
        }
    }

    /// Whether `name` is one of the breakers this fleet shares.
    pub(super) fn shares(&self, name: &str) -> bool {
        match &self.config.share {
            Share::All => true,
            Share::Names(names) => names.iter().any(|n| n == name),
        }
    }

    pub(super) fn take_controls(&self) -> HashMap<String, Event> {
        std::mem::take(&mut *self.controls.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Puts back controls a failed sync could not send; newer ones asked meanwhile win.
    fn requeue(&self, sent: HashMap<String, Event>) {
        let mut controls = self.controls.lock().unwrap_or_else(PoisonError::into_inner);
        for (name, event) in sent {
            controls.entry(name).or_insert(event);
        }
    }
}

/// Resolves once the fleet stops (or its handle is gone), holding no borrow of the flag.
pub(super) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|&stopped| stopped).await;
}

pub(super) struct Syncer {
    shared: Arc<Shared>,
    link: Link,
    tracks: HashMap<String, Track>,
}

impl Syncer {
    pub(super) fn new(shared: Arc<Shared>, link: Link) -> Syncer {
        Syncer {
            shared,
            link,
            tracks: HashMap::new(),
        }
    }

    pub(super) async fn run(mut self) {
        let mut every = tokio::time::interval(self.shared.config.sync);
        every.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut stop = self.shared.stop.subscribe();
        // Woken syncs come no closer together than this, however many moves are announced.
        let gap = self.shared.config.sync / 4;
        let mut last = Instant::now();
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = self.shared.wake.notified() => {
                    tokio::time::sleep(gap.saturating_sub(last.elapsed())).await;
                }
                _ = stopped(&mut stop) => return,
            }
            last = Instant::now();
            self.tick().await;
        }
    }

    /// One sync of every shared breaker.
    async fn tick(&mut self) {
        let breakers = self.shared.selection();
        // A breaker removed from the registry, or replaced by another of its name, is
        // followed no more (the new one starts afresh).
        self.tracks.retain(|name, t| {
            breakers
                .iter()
                .any(|b| b.name() == name && std::ptr::eq(Arc::as_ptr(b), t.breaker.as_ptr()))
        });
        let ns = &self.shared.config.namespace;
        for b in breakers {
            self.tracks
                .entry(b.name().to_owned())
                .or_insert_with(|| Track::new(b.clone(), keys(ns, b.name())));
        }
        let mut controls = self.shared.take_controls();
        let channel = super::pubsub::channel(ns);
        let config = &self.shared.config;
        let mut pipe = redis::pipe();
        // One breaker's failing script leaves the others' answers.
        pipe.ignore_errors();
        let mut order = Vec::with_capacity(self.tracks.len());
        let mut sent = HashMap::new();
        for (name, t) in &mut self.tracks {
            let control = controls.remove(name);
            if let Some(c) = control {
                sent.insert(name.clone(), c);
            }
            let Some(b) = t.breaker.upgrade() else {
                continue;
            };
            let report = t.report(b.position(), control);
            let rules = Track::rules(&b, config.min_instances, config.sync);
            pipe.add_command(command(
                &config.instance,
                &t.keys,
                &report,
                &rules,
                &channel,
            ));
            order.push((name.clone(), control));
        }
        if order.is_empty() {
            // Nothing to share yet: a PING still keeps the link, and `status()`, true.
            pipe.cmd("PING").ignore();
        }
        let Some(raw) = self.link.round_trip(&pipe, &self.shared.status).await else {
            // Running alone now; the first answer after the link is back is taken whole.
            for t in self.tracks.values_mut() {
                t.resync();
            }
            self.shared.requeue(sent);
            return;
        };
        // Long enough past the fleet's deadline for the fleet's probe to be taken first.
        let hold = config.sync.saturating_mul(2);
        for ((name, control), raw) in order.into_iter().zip(raw) {
            let Some(t) = self.tracks.get_mut(&name) else {
                continue;
            };
            let raw = match raw {
                Ok(raw) => raw,
                Err(e) => {
                    // This breaker runs alone until its script answers again; a control
                    // for it is sent again then.
                    tracing::debug!(target: "breaker_runtime", name = %name, error = %e, "fleet: this breaker's sync failed");
                    t.resync();
                    if let Some(c) = control {
                        self.shared.requeue(HashMap::from([(name, c)]));
                    }
                    continue;
                }
            };
            let Some(reply) = Reply::parse(raw) else {
                continue;
            };
            t.apply(&reply, hold, control);
        }
    }
}
