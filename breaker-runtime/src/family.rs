//! [`Family`]: breakers made at run time for one dependency, one per key (a host, a tenant,
//! an endpoint), so that one failing host does not cut off the others, with the set kept
//! bounded.

use crate::breaker::CircuitBreaker;
use crate::clock;
use crate::registry::Registry;
use crate::settings::BreakerConfig;
use crate::state::State;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Breakers for one dependency, one per key, sharing one config: `family.get(host)` is the
/// breaker of that host, registered as `"<family>/<key>"` (so snapshots, the admin routes and
/// metrics show each). Get one with [`Registry::family`].
///
/// Members nobody has asked for in [`idle_after`](Self::idle_after) (10 minutes unless set)
/// leave the registry when a new key arrives, and so does the least recently used one when
/// there are [`max_members`](Self::max_members) (1,024 unless set); their memory comes back. A
/// member that is not closed never leaves: it holds what the family knows about an outage,
/// and a new breaker for its key would let calls through to the failing host. So a family
/// whose every member is open may grow past its maximum until they recover.
///
/// `get` takes a lock and looks the key up, and checks the member is still the registry's
/// (tens of nanoseconds): keep the breaker for the duration of a request rather than asking
/// per call. A member removed from the registry by someone else is replaced by whatever the
/// registry then has under its name, or a fresh breaker.
///
/// ```
/// use breaker_runtime::{registry, BreakerConfig, State};
///
/// let upstream = registry().family(
///     "docs-upstream",
///     BreakerConfig::builder().failure_threshold(1).build(),
/// );
/// let a = upstream.get("a.example.com:443");
/// let b = upstream.get("b.example.com:443");
/// let _ = a.call_sync(|| Err::<(), _>("refused"));
/// assert_eq!(a.state(), State::Open);
/// assert_eq!(b.state(), State::Closed, "one failing host does not cut off the others");
/// assert!(registry().get("docs-upstream/a.example.com:443").is_some());
/// ```
pub struct Family<'r> {
    registry: &'r Registry,
    name: String,
    config: BreakerConfig,
    max_members: usize,
    idle_after: Duration,
    members: Mutex<HashMap<String, Member>>,
}

struct Member {
    breaker: Arc<CircuitBreaker>,
    /// When `get` last returned it, on the breaker clock (milliseconds).
    last_used: u64,
}

impl fmt::Debug for Family<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Family")
            .field("name", &self.name)
            .field("members", &self.len())
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// A [`Family`] of breakers named `"<name>/<key>"` in this registry, each made with
    /// `config` (and the settings files and variables give those names).
    ///
    /// ```
    /// use breaker_runtime::{registry, BreakerConfig};
    /// let tenants = registry().family("docs-tenants", BreakerConfig::default());
    /// assert_eq!(tenants.get("acme").name(), "docs-tenants/acme");
    /// ```
    pub fn family(&self, name: impl Into<String>, config: BreakerConfig) -> Family<'_> {
        Family {
            registry: self,
            name: name.into(),
            config,
            max_members: 1024,
            idle_after: Duration::from_secs(600),
            members: Mutex::new(HashMap::new()),
        }
    }
}

impl<'r> Family<'r> {
    /// At most this many members (at least 1), closed ones evicted least recently used first.
    ///
    /// ```
    /// # use breaker_runtime::{registry, BreakerConfig};
    /// let hosts = registry().family("docs-hosts-max", BreakerConfig::default()).max_members(2);
    /// for host in ["a", "b", "c"] {
    ///     hosts.get(host);
    /// }
    /// assert_eq!(hosts.len(), 2);
    /// ```
    pub fn max_members(mut self, max: usize) -> Self {
        self.max_members = max.max(1);
        self
    }

    /// How long a closed member may go unasked before it may leave.
    ///
    /// ```
    /// # use breaker_runtime::{registry, BreakerConfig};
    /// use std::time::Duration;
    /// let hosts = registry()
    ///     .family("docs-hosts-idle", BreakerConfig::default())
    ///     .idle_after(Duration::from_secs(60));
    /// assert!(hosts.is_empty());
    /// ```
    pub fn idle_after(mut self, idle: Duration) -> Self {
        self.idle_after = idle;
        self
    }

    /// The breaker of `key`, made and registered on first use.
    pub fn get(&self, key: &str) -> Arc<CircuitBreaker> {
        let now = clock::now_ms();
        let mut members = self.lock();
        if let Some(member) = members.get_mut(key) {
            // Still the registry's: someone may have removed it (an operator, `remove`, a
            // family of the same name evicting it), and an unlisted breaker nobody can see or
            // force open must not go on guarding the key. Then whatever the registry has
            // under the name, or a fresh breaker, becomes the member.
            let listed = self
                .registry
                .read()
                .breakers
                .get(member.breaker.name())
                .is_some_and(|b| Arc::ptr_eq(b, &member.breaker));
            if listed {
                member.last_used = now;
                return member.breaker.clone();
            }
            members.remove(key);
        }
        self.evict(&mut members, now);
        let breaker = self
            .registry
            .get_or_create(&format!("{}/{key}", self.name), self.config.clone());
        members.insert(
            key.to_owned(),
            Member {
                breaker: breaker.clone(),
                last_used: now,
            },
        );
        breaker
    }

    /// How many members the family has.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the family has no member.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The members' keys, sorted.
    ///
    /// ```
    /// # use breaker_runtime::{registry, BreakerConfig};
    /// let hosts = registry().family("docs-hosts-keys", BreakerConfig::default());
    /// hosts.get("b");
    /// hosts.get("a");
    /// assert_eq!(hosts.keys(), ["a", "b"]);
    /// ```
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.lock().keys().cloned().collect();
        keys.sort_unstable();
        keys
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Member>> {
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes room for one more: closed members idle too long go, then the least recently
    /// used closed ones while the family is full. Open (and half-open, forced) ones stay.
    fn evict(&self, members: &mut HashMap<String, Member>, now: u64) {
        let idle_ms = u64::try_from(self.idle_after.as_millis()).unwrap_or(u64::MAX);
        let closed = |m: &Member| m.breaker.state() == State::Closed;
        let idle: Vec<String> = members
            .iter()
            .filter(|(_, m)| now.saturating_sub(m.last_used) >= idle_ms && closed(m))
            .map(|(k, _)| k.clone())
            .collect();
        for key in idle {
            self.leave(members, &key);
        }
        while members.len() >= self.max_members {
            let oldest = members
                .iter()
                .filter(|(_, m)| closed(m))
                .min_by_key(|(_, m)| m.last_used)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(key) => self.leave(members, &key),
                None => break,
            }
        }
    }

    fn leave(&self, members: &mut HashMap<String, Member>, key: &str) {
        if let Some(member) = members.remove(key) {
            // Only this member: a breaker someone registered under the name since is not ours.
            // Checked and removed under one lock, so a breaker registered in between stays.
            let name = member.breaker.name();
            let mut inner = self.registry.write();
            if inner
                .breakers
                .get(name)
                .is_some_and(|b| Arc::ptr_eq(b, &member.breaker))
            {
                inner.breakers.remove(name);
            }
        }
    }
}
