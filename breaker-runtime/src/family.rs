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
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

/// Breakers for one dependency, one per key, sharing one config: `family.get(host)` is the
/// breaker of that host, registered as `"<family>/<key>"` (so snapshots, the admin routes and
/// metrics show each). Get one with [`Registry::family`].
///
/// # Which members leave
///
/// A family keeps what it knows about an outage while someone still asks for the failing
/// host, and lets the rest go. When a new key arrives, a member leaves if all of these hold:
///
/// - nobody holds it: no caller keeps the breaker `get` returned, no call through it is in
///   flight (only the family and the registry refer to it);
/// - nobody has asked for it with `get` for [`idle_after`](Self::idle_after) or longer (10
///   minutes unless set);
/// - it is closed or half-open. An open member stays until its open period is over (its
///   `reset_timeout`, grown by backoff, or an [`open_for`](CircuitBreaker::open_for)): until
///   then it is the family's knowledge that the host fails.
///
/// And while the family has [`max_members`](Self::max_members) (1,024 unless set), the
/// least recently used closed member nobody holds leaves, idle or not. Members set by hand
/// (forced open, disabled, metrics only) never leave: an operator put them so. Leaving
/// members leave the registry too, and their memory comes back.
///
/// Why an idle half-open member may go: past its open period it would let probes through
/// to its host at the next call anyway. If someone asks for its key again, the new breaker
/// lets through what a closed breaker takes to open (`failure_threshold` failures, or
/// `minimum_calls` calls with a `failure_rate`) where the old one let `half_open_max_calls`
/// probes through, and its backoff starts over: a few more calls, once, to a host nobody
/// asked for in `idle_after`. Keeping such members instead would keep every host that ever
/// failed, so a fleet whose hosts come and go would grow the family without bound.
///
/// So a family holds at most `max_members` members, plus the ones it must not forget:
/// members in use, open members within their open period, half-open members asked for
/// within `idle_after`, and members set by hand.
///
/// When the last `Family` of a name goes (a `per_host` layer dropped, say), its members go
/// with it, from the registry too, whatever their state, except those someone still holds
/// and those set by hand: nobody can ask for the others any more. A family made later under
/// the same name starts afresh.
///
/// With the `tower` feature, `CircuitBreakerLayer::per_host` keeps a family keyed by the
/// host each request is for.
///
/// Families of one name in one registry share their members, as the registry shares the
/// breaker of a name: the first to make a member gives it its config, and each applies its
/// own `max_members` and `idle_after` when it makes room. (Apart, each would hold the
/// other's members, and a member someone holds never leaves.)
///
/// `get` takes a lock and looks the key up, and checks the member is still the registry's
/// (tens of nanoseconds): keep the breaker for the duration of a request rather than asking
/// per call. Only a new key looks over the members, to make room. A member removed from the
/// registry by someone else is replaced by whatever the registry then has under its name,
/// or a fresh breaker.
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
    members: Arc<Members>,
}

/// The members of the families of one name, shared by every [`Family`] of that name in a
/// registry (which keeps a `Weak` of each, in `Registry::families`).
pub(crate) type Members = Mutex<HashMap<String, Member>>;

pub(crate) struct Member {
    breaker: Arc<CircuitBreaker>,
    /// When `get` last returned it, on the breaker clock (milliseconds).
    last_used: u64,
}

impl Member {
    /// Someone besides the family and the registry holds the breaker: a caller kept it, or a
    /// call through it is in flight. Such a member is never evicted: its holder would go on
    /// using a breaker nobody can see, while `get` made another for the same key. (A member
    /// someone removed from the registry counts one reference less, so one holder may go
    /// unseen; `get` replaces such a member anyway.) A fleet that shares the breaker
    /// (`share_all`) holds it only weakly between syncs, so it is no use of it.
    fn in_use(&self) -> bool {
        Arc::strong_count(&self.breaker) > 2
    }

    /// May leave once idle for `idle_after`: nobody holds it, and it knows of no outage that
    /// is still going on: closed, or half-open (its open period is over; an open breaker past
    /// its deadline already says so).
    ///
    /// `state` is the breaker's: [`state`](CircuitBreaker::state) before the registry's lock
    /// is taken, the published one under it (see [`Family::leave`]).
    fn may_go_idle(&self, state: State) -> bool {
        !self.in_use() && matches!(state, State::Closed | State::HalfOpen)
    }

    /// May leave when the last family of its name goes: nobody holds it, and an operator did
    /// not put it in a state of its own (such a member never leaves).
    fn may_go_with_family(&self, state: State) -> bool {
        !self.in_use()
            && !matches!(
                state,
                State::ForcedOpen | State::Disabled | State::MetricsOnly
            )
    }

    /// May leave to make room in a full family, however recently asked for: closed, and
    /// nobody holds it.
    fn may_go_full(&self, state: State) -> bool {
        !self.in_use() && state == State::Closed
    }
}

impl Drop for Family<'_> {
    fn drop(&mut self) {
        // Given up here rather than when the field drops after this returns: of two families
        // of the name dropping at once, each would see the other's share, leave the members
        // to it, and nobody would. `into_inner` hands them to exactly the last. While another
        // `Family` of this name shares them, they stay for it; one made once they are ours
        // starts a map of its own, and `leave` keeps what it took from the registry meanwhile.
        let members = std::mem::take(&mut self.members);
        let Some(members) = Arc::into_inner(members) else {
            return;
        };
        let mut members = members.into_inner().unwrap_or_else(PoisonError::into_inner);
        let gone: Vec<String> = members
            .iter()
            .filter(|(_, m)| m.may_go_with_family(m.breaker.state()))
            .map(|(k, _)| k.clone())
            .collect();
        for key in gone {
            self.leave(&mut members, &key, Member::may_go_with_family);
        }
    }
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
    /// `config` (and the settings files and variables give those names). Families of one
    /// name share their members.
    ///
    /// ```
    /// use breaker_runtime::{registry, BreakerConfig};
    /// let tenants = registry().family("docs-tenants", BreakerConfig::default());
    /// assert_eq!(tenants.get("acme").name(), "docs-tenants/acme");
    /// ```
    pub fn family(&self, name: impl Into<String>, config: BreakerConfig) -> Family<'_> {
        let name = name.into();
        let members = {
            let mut families = self.families.lock().unwrap_or_else(PoisonError::into_inner);
            match families.get(&name).and_then(Weak::upgrade) {
                Some(members) => members,
                None => {
                    // The names of families nobody has any more go as new ones come.
                    families.retain(|_, w| w.strong_count() > 0);
                    let members = Arc::new(Mutex::new(HashMap::new()));
                    families.insert(name.clone(), Arc::downgrade(&members));
                    members
                }
            }
        };
        Family {
            registry: self,
            name,
            config,
            max_members: 1024,
            idle_after: Duration::from_secs(600),
            members,
        }
    }
}

impl Registry {
    /// Whether a family of this name is alive (some `Family` of it is). Takes the families'
    /// lock, which nothing holds while it takes another.
    fn has_family(&self, name: &str) -> bool {
        self.families
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .is_some_and(|w| w.strong_count() > 0)
    }
}

impl<'r> Family<'r> {
    /// At most this many members (at least 1), besides those the family must not forget
    /// (see [which members leave](Family#which-members-leave)): when it is full, a new key
    /// evicts the least recently used closed member nobody holds.
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

    /// How long a member may go unasked before it may leave, if nobody holds it and it is
    /// closed or half-open (see [which members leave](Family#which-members-leave)). Zero lets
    /// such a member go at the next new key; [`Duration::MAX`] never.
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
            // family whose name and key spell the same name evicting it: `a` with key `b/c`,
            // `a/b` with key `c`), and an unlisted breaker nobody can see or
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

    /// The family's name: its members are registered as `"<name>/<key>"`.
    ///
    /// ```
    /// # use breaker_runtime::{registry, BreakerConfig};
    /// assert_eq!(registry().family("docs-name", BreakerConfig::default()).name(), "docs-name");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The breaker for calls that have no key (the tower layer's requests that name no
    /// host): registered under the family's own name, made with its config. It is not a
    /// member: it counts in no `len`, and never leaves.
    ///
    /// ```
    /// # use breaker_runtime::{registry, BreakerConfig};
    /// let hosts = registry().family("docs-unkeyed", BreakerConfig::default());
    /// assert_eq!(hosts.unkeyed().name(), "docs-unkeyed");
    /// assert!(hosts.is_empty());
    /// ```
    pub fn unkeyed(&self) -> Arc<CircuitBreaker> {
        // A lookup first: `get_or_create` copies the config and compares it with the
        // breaker's each time, which only the first call needs.
        self.registry
            .get(&self.name)
            .unwrap_or_else(|| self.registry.get_or_create(&self.name, self.config.clone()))
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

    /// Makes room for one more, by the rule in [`Family`]'s docs: members nobody holds that
    /// are idle too long and closed or half-open go, then the least recently used closed
    /// ones nobody holds while the family is full.
    fn evict(&self, members: &mut HashMap<String, Member>, now: u64) {
        let idle_ms = u64::try_from(self.idle_after.as_millis()).unwrap_or(u64::MAX);
        let idle: Vec<String> = members
            .iter()
            .filter(|(_, m)| {
                now.saturating_sub(m.last_used) >= idle_ms && m.may_go_idle(m.breaker.state())
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in idle {
            self.leave(members, &key, Member::may_go_idle);
        }
        // A member `leave` kept (someone took it meanwhile) is in use now, and the next look
        // passes it over.
        while members.len() >= self.max_members {
            let oldest = members
                .iter()
                .filter(|(_, m)| m.may_go_full(m.breaker.state()))
                .min_by_key(|(_, m)| m.last_used)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(key) => {
                    self.leave(members, &key, Member::may_go_full);
                }
                None => break,
            }
        }
    }

    /// `key`'s member leaves, and the registry too, if `may_go` still says so under the
    /// registry's lock; whether it left. The members' lock (or their last `Family`) keeps
    /// the family from handing it out, but anyone may take it from the registry (`get`, the
    /// admin routes) between a first look and here: looked at again under the lock that
    /// hands it out, so a breaker someone took and holds, or set by hand and let go, stays.
    fn leave(
        &self,
        members: &mut HashMap<String, Member>,
        key: &str,
        may_go: fn(&Member, State) -> bool,
    ) -> bool {
        let Some(member) = members.get(key) else {
            return false;
        };
        {
            let mut inner = self.registry.write();
            if !may_go(member, member.breaker.published_state()) {
                return false;
            }
            // Only this member: a breaker someone registered under the name since is not
            // ours. Checked and removed under one lock, so one registered in between stays.
            // Nor one named as a live family: it is that family's unkeyed breaker, which
            // never leaves (family `a`'s key `b` spells family `a/b`'s name).
            let name = member.breaker.name();
            if inner
                .breakers
                .get(name)
                .is_some_and(|b| Arc::ptr_eq(b, &member.breaker))
                && !self.registry.has_family(name)
            {
                inner.breakers.remove(name);
            }
        }
        // Dropped outside the registry's lock: it may be the breaker's last reference.
        members.remove(key);
        true
    }
}
