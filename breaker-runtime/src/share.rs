//! Sharing equal configs and settings between breakers.
//!
//! Services often run many breakers with the same settings (one per host, per shard, per
//! tenant). Each distinct value is stored once and shared through an `Arc`, so a hundred
//! thousand breakers cost a hundred thousand small state words, not a hundred thousand copies
//! of their configuration. Only creation and reconfiguration come here, never a call.

use crate::settings::{BreakerConfig, Settings};
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// Equal values, stored once. Values are told apart by `PartialEq` and found by a hash of
/// their `Debug` text (the types hold floats and closures, which have no `Hash`). Entries
/// whose value every holder has dropped are pruned when their bucket is next visited.
struct Interner<T> {
    buckets: Mutex<HashMap<u64, Vec<Weak<T>>>>,
}

impl<T: PartialEq + Debug> Interner<T> {
    fn new() -> Self {
        Interner {
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn intern(&self, value: T) -> Arc<T> {
        let mut hasher = DefaultHasher::new();
        format!("{value:?}").hash(&mut hasher);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets.entry(hasher.finish()).or_default();
        bucket.retain(|w| w.strong_count() > 0);
        if let Some(found) = bucket
            .iter()
            .filter_map(Weak::upgrade)
            .find(|shared| **shared == value)
        {
            return found;
        }
        let shared = Arc::new(value);
        bucket.push(Arc::downgrade(&shared));
        shared
    }
}

/// The shared copy of `settings`.
pub(crate) fn settings(settings: Settings) -> Arc<Settings> {
    static SHARED: OnceLock<Interner<Settings>> = OnceLock::new();
    SHARED.get_or_init(Interner::new).intern(settings)
}

/// The shared copy of `config`.
pub(crate) fn config(config: BreakerConfig) -> Arc<BreakerConfig> {
    static SHARED: OnceLock<Interner<BreakerConfig>> = OnceLock::new();
    SHARED.get_or_init(Interner::new).intern(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_one_allocation_and_others_do_not() {
        let a = config(BreakerConfig::builder().failure_threshold(7).build());
        let b = config(BreakerConfig::builder().failure_threshold(7).build());
        let c = config(BreakerConfig::builder().failure_threshold(8).build());
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[test]
    fn predicates_are_shared_only_when_they_are_the_same_one() {
        // A function with no state is the same function wherever it is given.
        let p = |e: &u8| *e > 1;
        let a = config(BreakerConfig::builder().failure_if(p).build());
        let b = config(BreakerConfig::builder().failure_if(p).build());
        assert!(Arc::ptr_eq(&a, &b), "one stateless closure, given twice");
        // One with state is a value of its own, whatever it holds.
        let limit = 1u8;
        let q = move |e: &u8| *e > limit;
        let c = config(BreakerConfig::builder().failure_if(q).build());
        let d = config(BreakerConfig::builder().failure_if(q).build());
        assert!(!Arc::ptr_eq(&c, &d), "a closure with state, given twice");
        assert_eq!(*c, *c);
    }
}
