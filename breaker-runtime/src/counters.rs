//! Outcome counters: exact, and cheap where calls are frequent.
//!
//! Successes and rejections happen on every call, so counting them must cost no more than a
//! plain add, and must not make two threads fight over one cache line. Each of these counters
//! is kept in cells that one thread owns: the first thread to count into a breaker owns its
//! inline cells, and other threads claim a cache-line-padded stripe of their own, allocated on
//! first need (16 per breaker; a thread whose stripe another thread owns adds atomically to
//! the stripe's `shared` cells, beside the owner's). An owner adds with a load and a store, no locked instruction: no other thread writes
//! its cells. So a breaker used from one thread carries no stripes at all, and its closed call
//! counts a success with an ordinary add.
//!
//! Because no other thread may write an owned cell, a reset does not zero the cells: it raises
//! a baseline that reads subtract. Counts racing with a reset land on one side of it or the
//! other, and none is lost. Every counter works so, so the counts since creation are there
//! too, never going back: what a metrics exporter publishes.

use crate::sync::{AtomicU64, Ordering::*};
use std::cell::Cell;
use std::sync::OnceLock;

const STRIPES: usize = 16;

/// The counts one thread adds to (or, a stripe's `shared` cells, a few threads, atomically).
#[derive(Debug, Default)]
pub(crate) struct HotCells {
    successes: AtomicU64,
    rejected: AtomicU64,
}

/// Which of the [`HotCells`] to add to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Hot {
    Success,
    Rejected,
}

impl HotCells {
    #[inline]
    fn cell(&self, which: Hot) -> &AtomicU64 {
        match which {
            Hot::Success => &self.successes,
            Hot::Rejected => &self.rejected,
        }
    }

    /// Adds one as the cells' only writer: a load and a store.
    #[inline]
    fn add_owned(&self, which: Hot) {
        let cell = self.cell(which);
        // Under loom every model thread runs on one OS thread and so shares one thread index:
        // the model's threads would all "own" the cells, so there the add is atomic.
        #[cfg(not(loom))]
        cell.store(cell.load(Relaxed).wrapping_add(1), Relaxed);
        #[cfg(loom)]
        cell.fetch_add(1, Relaxed);
    }

    /// Adds one among other writers.
    #[inline]
    fn add_shared(&self, which: Hot) {
        self.cell(which).fetch_add(1, Relaxed);
    }
}

/// A stripe: cells of their own cache line, and the thread that owns them (0: none yet).
/// Threads that find the stripe owned by another add to `shared`, atomically: never to
/// `cells`, whose owner's plain store would wipe out an add that landed between its load and
/// its store.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Stripe {
    owner: AtomicU64,
    cells: HotCells,
    shared: HotCells,
}

/// Every outcome a breaker has counted.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// The thread that owns `inline` (0: none yet).
    owner: AtomicU64,
    inline: HotCells,
    stripes: OnceLock<Box<[Stripe]>>,
    pub(crate) failures: AtomicU64,
    pub(crate) ignored: AtomicU64,
    pub(crate) cancelled: AtomicU64,
    pub(crate) timeouts: AtomicU64,
    pub(crate) slow_calls: AtomicU64,
    pub(crate) opened: AtomicU64,
    /// Every count at the last reset: [`totals`](Self::totals) subtracts it, so that the
    /// counts themselves only ever grow ([`lifetime`](Self::lifetime) reads them as they are).
    /// Made at the first reset: most breakers are never reset, and carry a pointer, not 64
    /// bytes.
    baseline: OnceLock<Box<[AtomicU64; 8]>>,
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

/// A number per thread, never reused: 64 bits do not wrap in the life of a process, so two
/// live threads never share one (which would make both think they own the same cells).
/// 0 means not yet assigned.
#[inline]
fn thread_index() -> u64 {
    thread_local!(static INDEX: Cell<u64> = const { Cell::new(0) });
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    INDEX.with(|i| {
        let v = i.get();
        if v != 0 {
            return v;
        }
        let v = NEXT.fetch_add(1, Relaxed);
        i.set(v);
        v
    })
}

impl Counters {
    /// Counts one success or rejection.
    #[inline]
    pub(crate) fn add(&self, which: Hot) {
        let me = thread_index();
        if self.owner.load(Relaxed) == me {
            self.inline.add_owned(which);
        } else {
            self.add_elsewhere(me, which);
        }
    }

    /// A thread that does not own the inline cells: it claims them if they are free, else
    /// its stripe, else shares its stripe with the thread that owns it.
    #[cold]
    fn add_elsewhere(&self, me: u64, which: Hot) {
        if claim(&self.owner, me) {
            return self.inline.add_owned(which);
        }
        let stripe = &self.stripes()[(me % STRIPES as u64) as usize];
        if stripe.owner.load(Relaxed) == me || claim(&stripe.owner, me) {
            stripe.cells.add_owned(which);
        } else {
            stripe.shared.add_shared(which);
        }
    }

    #[cold]
    fn stripes(&self) -> &[Stripe] {
        self.stripes
            .get_or_init(|| (0..STRIPES).map(|_| Stripe::default()).collect())
    }

    /// Every hot cell: the inline ones, then the stripes'.
    fn hot_cells(&self) -> impl Iterator<Item = &HotCells> {
        std::iter::once(&self.inline).chain(
            self.stripes
                .get()
                .into_iter()
                .flat_map(|s| s.iter().flat_map(|s| [&s.cells, &s.shared])),
        )
    }

    /// The sums of the hot cells, not counting the baseline.
    fn hot_sums(&self) -> (u64, u64) {
        self.hot_cells().fold((0, 0), |(s, r), c| {
            (
                s.wrapping_add(c.successes.load(Relaxed)),
                r.wrapping_add(c.rejected.load(Relaxed)),
            )
        })
    }

    /// The counts since the breaker was created: they only ever grow.
    pub(crate) fn lifetime(&self) -> Totals {
        let (successes, rejected) = self.hot_sums();
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

    /// The counts since the last [`clear`](Self::clear).
    pub(crate) fn totals(&self) -> Totals {
        // The baseline first, with Acquire: a reset that this read sees had read the counts
        // before it, so the counts read next hold at least what it subtracts.
        let base = match self.baseline.get() {
            Some(base) => Totals::from_array(base.each_ref().map(|b| b.load(Acquire))),
            None => Totals::default(),
        };
        self.lifetime().since(base)
    }

    /// Starts every count again from zero. The counts keep counting (only their owners write
    /// some of them); the baseline moves up to what they hold. `fetch_max`: of two resets at
    /// once, the later reading wins, so the baseline never goes back.
    pub(crate) fn clear(&self) {
        let now = self.lifetime().to_array();
        let baseline = self.baseline.get_or_init(Box::default);
        for (base, now) in baseline.iter().zip(now) {
            base.fetch_max(now, Release);
        }
    }
}

impl Totals {
    /// What `self` counts beyond `earlier` (counts only grow, so each difference is exact).
    pub(crate) fn since(self, earlier: Totals) -> Totals {
        let (now, then) = (self.to_array(), earlier.to_array());
        Totals::from_array(std::array::from_fn(|i| now[i].saturating_sub(then[i])))
    }

    fn to_array(self) -> [u64; 8] {
        [
            self.successes,
            self.failures,
            self.ignored,
            self.rejected,
            self.cancelled,
            self.timeouts,
            self.slow_calls,
            self.opened,
        ]
    }

    fn from_array(a: [u64; 8]) -> Totals {
        let [successes, failures, ignored, rejected, cancelled, timeouts, slow_calls, opened] = a;
        Totals {
            successes,
            failures,
            ignored,
            rejected,
            cancelled,
            timeouts,
            slow_calls,
            opened,
        }
    }
}

/// Takes an unowned slot for `me`.
#[inline]
fn claim(owner: &AtomicU64, me: u64) -> bool {
    owner.load(Relaxed) == 0 && owner.compare_exchange(0, me, Relaxed, Relaxed).is_ok()
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn one_thread_uses_no_stripes() {
        let c = Counters::default();
        for _ in 0..3 {
            c.add(Hot::Success);
        }
        assert!(c.stripes.get().is_none());
        assert_eq!(c.totals().successes, 3);
    }

    #[test]
    fn every_thread_is_counted_exactly() {
        // More threads than stripes: some share a stripe (atomic adds), some own one.
        let c = Arc::new(Counters::default());
        let threads: Vec<_> = (0..STRIPES + 4)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        c.add(Hot::Success);
                        c.add(Hot::Rejected);
                        c.add(Hot::Rejected);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let n = (STRIPES + 4) as u64 * 10_000;
        let t = c.totals();
        assert_eq!((t.successes, t.rejected), (n, 2 * n));
        c.clear();
        assert_eq!(c.totals(), Totals::default());
        c.add(Hot::Success);
        assert_eq!(c.totals().successes, 1);
    }

    #[test]
    fn a_thread_sharing_a_stripe_never_writes_its_owners_cells() {
        // The owner adds with a plain load and store: an atomic add of another thread into
        // the same cell, landing between the two, would be wiped out by the store. So a
        // thread whose stripe is owned adds to the stripe's `shared` cells instead.
        let c = Arc::new(Counters::default());
        c.add(Hot::Success); // this thread owns the inline cells
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (exit_tx, exit_rx) = std::sync::mpsc::channel::<()>();
        let owner = {
            let c = c.clone();
            std::thread::spawn(move || {
                c.add(Hot::Success);
                ready_tx.send(thread_index()).unwrap();
                exit_rx.recv().unwrap();
            })
        };
        let owner_index = ready_rx.recv().unwrap();
        let stripe = (owner_index % STRIPES as u64) as usize;
        // Threads that never count take the numbers between; the first one with the owner's
        // stripe counts five.
        loop {
            let c = c.clone();
            let shared = std::thread::spawn(move || {
                if thread_index() % STRIPES as u64 != stripe as u64 {
                    return false;
                }
                for _ in 0..5 {
                    c.add(Hot::Success);
                }
                true
            });
            if shared.join().unwrap() {
                break;
            }
        }
        exit_tx.send(()).unwrap();
        owner.join().unwrap();
        let s = &c.stripes.get().expect("stripes")[stripe];
        assert_eq!(s.owner.load(Relaxed), owner_index);
        assert_eq!(s.cells.successes.load(Relaxed), 1, "only the owner's add");
        assert_eq!(s.shared.successes.load(Relaxed), 5);
        assert_eq!(c.totals().successes, 7);
    }

    #[test]
    fn a_reset_racing_counts_loses_none_and_never_goes_negative() {
        // Two threads count while a third resets over and over: after the last reset, the
        // totals are exactly what was counted after it, and no read ever underflows.
        let c = Arc::new(Counters::default());
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let counters: Vec<_> = (0..2)
            .map(|_| {
                let (c, stop) = (c.clone(), stop.clone());
                std::thread::spawn(move || {
                    while !stop.load(Relaxed) {
                        c.add(Hot::Success);
                    }
                })
            })
            .collect();
        for _ in 0..10_000 {
            c.clear();
            let t = c.totals();
            assert!(t.successes < u64::MAX / 2, "underflow: {t:?}");
        }
        stop.store(true, Relaxed);
        for t in counters {
            t.join().unwrap();
        }
        c.clear();
        assert_eq!(c.totals().successes, 0);
        for _ in 0..5 {
            c.add(Hot::Success);
        }
        assert_eq!(c.totals().successes, 5);
    }
}
