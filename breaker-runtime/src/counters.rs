//! Outcome counters: exact, and cheap where calls are frequent.
//!
//! Successes and rejections happen on every call, so they must not make two threads fight
//! over one cache line. The first thread to record into a breaker owns its inline cells; any
//! other thread gets a cache-line-padded stripe of its own, allocated on first need. A
//! breaker used from one thread therefore carries no stripes at all.

use crate::sync::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::cell::Cell;
use std::sync::OnceLock;

const STRIPES: usize = 16;

#[derive(Debug, Default)]
pub(crate) struct HotCells {
    pub(crate) successes: AtomicU64,
    pub(crate) rejected: AtomicU64,
}

#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded(HotCells);

/// Every outcome a breaker has counted.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    owner: AtomicU32,
    inline: HotCells,
    stripes: OnceLock<Box<[Padded]>>,
    pub(crate) failures: AtomicU64,
    pub(crate) ignored: AtomicU64,
    pub(crate) cancelled: AtomicU64,
    pub(crate) timeouts: AtomicU64,
    pub(crate) slow_calls: AtomicU64,
    pub(crate) opened: AtomicU64,
}

/// A read of all counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) successes: u64,
    pub(crate) failures: u64,
    pub(crate) ignored: u64,
    pub(crate) rejected: u64,
    pub(crate) cancelled: u64,
    pub(crate) timeouts: u64,
    pub(crate) slow_calls: u64,
    pub(crate) opened: u64,
}

/// A small number per thread, handed out in order; 0 means not yet assigned.
#[inline]
fn thread_index() -> u32 {
    thread_local!(static INDEX: Cell<u32> = const { Cell::new(0) });
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    INDEX.with(|i| {
        let v = i.get();
        if v != 0 {
            return v;
        }
        // Skip 0 on wrap-around: it means "unassigned".
        let v = NEXT.fetch_add(1, Relaxed).max(1);
        i.set(v);
        v
    })
}

impl Counters {
    /// The cells this thread increments.
    #[inline]
    pub(crate) fn hot(&self) -> &HotCells {
        let me = thread_index();
        let owner = self.owner.load(Relaxed);
        if owner == me
            || (owner == 0 && self.owner.compare_exchange(0, me, Relaxed, Relaxed).is_ok())
        {
            return &self.inline;
        }
        &self.stripes()[me as usize % STRIPES].0
    }

    #[cold]
    fn stripes(&self) -> &[Padded] {
        self.stripes
            .get_or_init(|| (0..STRIPES).map(|_| Padded::default()).collect())
    }

    pub(crate) fn totals(&self) -> Totals {
        let (mut successes, mut rejected) = (
            self.inline.successes.load(Relaxed),
            self.inline.rejected.load(Relaxed),
        );
        for s in self.stripes.get().into_iter().flat_map(|s| s.iter()) {
            successes += s.0.successes.load(Relaxed);
            rejected += s.0.rejected.load(Relaxed);
        }
        Totals {
            successes,
            rejected,
            failures: self.failures.load(Relaxed),
            ignored: self.ignored.load(Relaxed),
            cancelled: self.cancelled.load(Relaxed),
            timeouts: self.timeouts.load(Relaxed),
            slow_calls: self.slow_calls.load(Relaxed),
            opened: self.opened.load(Relaxed),
        }
    }

    /// Zeroes every counter. Counts racing with the reset land on one side of it or the other.
    pub(crate) fn clear(&self) {
        let cells = std::iter::once(&self.inline).chain(
            self.stripes
                .get()
                .into_iter()
                .flat_map(|s| s.iter().map(|p| &p.0)),
        );
        for c in cells {
            c.successes.store(0, Relaxed);
            c.rejected.store(0, Relaxed);
        }
        for c in [
            &self.failures,
            &self.ignored,
            &self.cancelled,
            &self.timeouts,
            &self.slow_calls,
            &self.opened,
        ] {
            c.store(0, Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn one_thread_uses_no_stripes() {
        let c = Counters::default();
        c.hot().successes.fetch_add(3, Relaxed);
        assert!(c.stripes.get().is_none());
        assert_eq!(c.totals().successes, 3);
    }

    #[test]
    fn every_thread_is_counted_exactly() {
        let c = Arc::new(Counters::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        c.hot().successes.fetch_add(1, Relaxed);
                        c.hot().rejected.fetch_add(2, Relaxed);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let t = c.totals();
        assert_eq!((t.successes, t.rejected), (40_000, 80_000));
        c.clear();
        assert_eq!(c.totals(), Totals::default());
    }
}
