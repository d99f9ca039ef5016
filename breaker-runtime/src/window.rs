//! Rate windows: the recent calls a failure rate or slow-call rate is measured over.
//!
//! Both kinds are lock-free. A count window is a ring of outcome bits whose totals are counted
//! from the bits themselves, so they can never disagree with its contents, whatever races with
//! a clear; a time window is ten buckets, each one packed `u64` updated by compare-and-swap.
//! A plain success that overwrites a plain success writes only the ring position.

use crate::settings::Window;
use crate::sync::{AtomicU64, Ordering::Relaxed};

/// Totals over a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct WindowStats {
    pub(crate) calls: u32,
    pub(crate) failures: u32,
    pub(crate) slow: u32,
}

/// A window of either kind.
#[derive(Debug)]
pub(crate) enum RateWindow {
    Calls(CountWindow),
    Time(TimeWindow),
}

impl RateWindow {
    pub(crate) fn new(spec: Window) -> RateWindow {
        match spec {
            Window::Calls(n) => RateWindow::Calls(CountWindow::new(n)),
            Window::Time(d) => RateWindow::Time(TimeWindow::new(d)),
        }
    }

    pub(crate) fn spec(&self) -> Window {
        match self {
            RateWindow::Calls(w) => Window::Calls(w.size),
            RateWindow::Time(w) => Window::Time(w.span),
        }
    }

    #[inline]
    pub(crate) fn record(&self, failed: bool, slow: bool) {
        match self {
            RateWindow::Calls(w) => {
                w.record(failed, slow);
            }
            RateWindow::Time(w) => w.record(crate::clock::coarse_now_ms(), failed, slow),
        }
    }

    /// Records a call and returns the totals when a rate may have been reached: after a
    /// failure or a slow call, or when the window may just have filled up to
    /// `minimum_calls`. A plain success in a count window that was already full enough
    /// cannot raise a rate, so it reads nothing more.
    #[inline]
    pub(crate) fn record_and_check(
        &self,
        failed: bool,
        slow: bool,
        minimum_calls: u32,
    ) -> Option<WindowStats> {
        match self {
            RateWindow::Calls(w) => {
                let calls = w.record(failed, slow);
                (failed || slow || calls == minimum_calls).then(|| w.stats())
            }
            RateWindow::Time(w) => {
                // Calls age out of a time window, so any call may be the one that brings
                // it back up to `minimum_calls`; one clock reading serves both steps.
                let now = crate::clock::coarse_now_ms();
                w.record(now, failed, slow);
                Some(w.stats(now))
            }
        }
    }

    pub(crate) fn stats(&self) -> WindowStats {
        match self {
            RateWindow::Calls(w) => w.stats(),
            RateWindow::Time(w) => w.stats(crate::clock::coarse_now_ms()),
        }
    }

    pub(crate) fn clear(&self) {
        match self {
            RateWindow::Calls(w) => w.clear(),
            RateWindow::Time(w) => w.clear(),
        }
    }
}

/// The last `size` calls.
#[derive(Debug)]
pub(crate) struct CountWindow {
    size: u32,
    /// Next slot to write (low 32 bits) and whether the ring has wrapped once (bit 32).
    head: AtomicU64,
    failed_bits: Box<[AtomicU64]>,
    slow_bits: Box<[AtomicU64]>,
}

const FULL: u64 = 1 << 32;

impl CountWindow {
    fn new(size: u32) -> CountWindow {
        let words = (size as usize).div_ceil(64);
        let bits = || (0..words).map(|_| AtomicU64::new(0)).collect();
        CountWindow {
            size,
            head: AtomicU64::new(0),
            failed_bits: bits(),
            slow_bits: bits(),
        }
    }

    /// Records a call; returns how many calls the window holds counting it.
    #[inline]
    fn record(&self, failed: bool, slow: bool) -> u32 {
        // Claim a slot; wrapping with a compare-and-swap avoids a division per call.
        let mut head = self.head.load(Relaxed);
        let slot = loop {
            let pos = head as u32;
            let next = if pos + 1 >= self.size {
                FULL
            } else {
                (head & FULL) | (pos as u64 + 1)
            };
            match self
                .head
                .compare_exchange_weak(head, next, Relaxed, Relaxed)
            {
                Ok(_) => break pos as usize,
                Err(now) => head = now,
            }
        };
        let (word, mask) = (slot / 64, 1u64 << (slot % 64));
        set_bit(&self.failed_bits[word], mask, failed);
        set_bit(&self.slow_bits[word], mask, slow);
        if head & FULL != 0 {
            self.size
        } else {
            slot as u32 + 1
        }
    }

    fn stats(&self) -> WindowStats {
        let head = self.head.load(Relaxed);
        let calls = if head & FULL != 0 {
            self.size
        } else {
            head as u32
        };
        WindowStats {
            calls,
            failures: count_first(&self.failed_bits, calls),
            slow: count_first(&self.slow_bits, calls),
        }
    }

    /// Empties the window: the bits first, then the position, so a late writer racing with
    /// the clear leaves at most its own bit behind, in a slot the next lap overwrites.
    fn clear(&self) {
        for w in self.failed_bits.iter().chain(self.slow_bits.iter()) {
            w.store(0, Relaxed);
        }
        self.head.store(0, Relaxed);
    }
}

/// Sets or clears one outcome bit, writing only when it changes.
#[inline]
fn set_bit(bits: &AtomicU64, mask: u64, value: bool) {
    let set = bits.load(Relaxed) & mask != 0;
    if value && !set {
        bits.fetch_or(mask, Relaxed);
    } else if !value && set {
        bits.fetch_and(!mask, Relaxed);
    }
}

/// The bits set among the first `n` slots: the calls the window holds, never more.
fn count_first(bits: &[AtomicU64], n: u32) -> u32 {
    let (whole, rest) = ((n / 64) as usize, n % 64);
    let mut total: u32 = bits[..whole]
        .iter()
        .map(|w| w.load(Relaxed).count_ones())
        .sum();
    if rest != 0 {
        total += (bits[whole].load(Relaxed) & ((1u64 << rest) - 1)).count_ones();
    }
    total
}

/// The calls of the last `span`, in [`BUCKETS`] buckets of `span / BUCKETS` each.
#[derive(Debug)]
pub(crate) struct TimeWindow {
    span: std::time::Duration,
    bucket_ms: u64,
    /// Each: bucket epoch (low 16 bits) | calls | failures | slow, 16 bits each.
    buckets: [AtomicU64; BUCKETS],
    /// The full epoch of the newest record. A 16-bit tag alone cannot tell a bucket from
    /// 65,536 epochs ago from a current one; with this, every bucket holding calls is
    /// kept within the last [`BUCKETS`] epochs of it, where the tags are unambiguous.
    latest: AtomicU64,
}

pub(crate) const BUCKETS: usize = 10;
const FIELD: u32 = 16;
const FIELD_MASK: u64 = (1 << FIELD) - 1;

impl TimeWindow {
    fn new(span: std::time::Duration) -> TimeWindow {
        let bucket_ms = (crate::clock::ceil_ms(span) / BUCKETS as u64).max(1);
        TimeWindow {
            span,
            bucket_ms,
            buckets: Default::default(),
            latest: AtomicU64::new(0),
        }
    }

    #[inline]
    fn record(&self, now_ms: u64, failed: bool, slow: bool) {
        let epoch = now_ms / self.bucket_ms;
        // Only the first record of a bucket-length writes `latest`; the rest just read it.
        if epoch > self.latest.load(Relaxed) {
            let prev = self.latest.fetch_max(epoch, Relaxed);
            if epoch > prev {
                self.expire(epoch, prev);
            }
        }
        let bucket = &self.buckets[(epoch % BUCKETS as u64) as usize];
        let tag = epoch & FIELD_MASK;
        let add = (1 << (3 * FIELD)) | ((failed as u64) << (2 * FIELD)) | ((slow as u64) << FIELD);
        let mut cur = bucket.load(Relaxed);
        loop {
            let next = if cur & FIELD_MASK != tag {
                // A bucket from an older lap: start it afresh.
                tag | add
            } else if cur >> (3 * FIELD) == FIELD_MASK {
                // Full: halve the bucket's counts and go on counting. Its rates stay what
                // they were, with the newest calls weighing a little more, so a burst of
                // failures in a busy bucket still shows; its calls stay above 32,767.
                let halved = |shift: u32| (((cur >> shift) & FIELD_MASK) / 2) << shift;
                tag | halved(3 * FIELD) | halved(2 * FIELD) | halved(FIELD) | add
            } else {
                cur + add
            };
            match bucket.compare_exchange_weak(cur, next, Relaxed, Relaxed) {
                Ok(_) => return,
                Err(now) => cur = now,
            }
        }
    }

    /// The window moved on from `prev` to `epoch`: empties the buckets that fell out of it,
    /// all of them after a gap of a whole window (when their tags could alias).
    #[cold]
    fn expire(&self, epoch: u64, prev: u64) {
        let whole_window = epoch - prev >= BUCKETS as u64;
        for bucket in &self.buckets {
            let v = bucket.load(Relaxed);
            let age = (epoch & FIELD_MASK).wrapping_sub(v & FIELD_MASK) & FIELD_MASK;
            if v >> FIELD != 0 && (whole_window || age >= BUCKETS as u64) {
                // Lost to a writer that just started the bucket afresh: that is fine too.
                let _ = bucket.compare_exchange(v, FIELD_MASK, Relaxed, Relaxed);
            }
        }
    }

    fn stats(&self, now_ms: u64) -> WindowStats {
        let epoch = now_ms / self.bucket_ms;
        let mut stats = WindowStats::default();
        if epoch.saturating_sub(self.latest.load(Relaxed)) >= BUCKETS as u64 {
            // Nothing recorded within the window.
            return stats;
        }
        for bucket in &self.buckets {
            let v = bucket.load(Relaxed);
            let age = (epoch & FIELD_MASK).wrapping_sub(v & FIELD_MASK) & FIELD_MASK;
            if age < BUCKETS as u64 {
                stats.calls += (v >> (3 * FIELD)) as u32;
                stats.failures += ((v >> (2 * FIELD)) & FIELD_MASK) as u32;
                stats.slow += ((v >> FIELD) & FIELD_MASK) as u32;
            }
        }
        stats
    }

    fn clear(&self) {
        for b in &self.buckets {
            // Tag the cleared bucket with an epoch that is never current soon.
            b.store(FIELD_MASK, Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn stats(calls: u32, failures: u32, slow: u32) -> WindowStats {
        WindowStats {
            calls,
            failures,
            slow,
        }
    }

    #[test]
    fn count_window_forgets_the_oldest_call() {
        let w = CountWindow::new(3);
        w.record(true, false);
        w.record(false, true);
        assert_eq!(w.stats(), stats(2, 1, 1));
        w.record(true, false);
        assert_eq!(w.stats(), stats(3, 2, 1));
        w.record(false, false); // overwrites the first failure
        assert_eq!(w.stats(), stats(3, 1, 1));
        w.record(false, false); // overwrites the slow call
        assert_eq!(w.stats(), stats(3, 1, 0));
        w.clear();
        assert_eq!(w.stats(), stats(0, 0, 0));
    }

    #[test]
    fn count_window_spans_several_words() {
        let w = CountWindow::new(130);
        for i in 0..130 {
            w.record(i % 2 == 0, false);
        }
        assert_eq!(w.stats(), stats(130, 65, 0));
        for _ in 0..130 {
            w.record(false, false);
        }
        assert_eq!(w.stats(), stats(130, 0, 0));
    }

    #[test]
    fn count_window_totals_stay_exact_under_threads() {
        let w = std::sync::Arc::new(CountWindow::new(64));
        let handles: Vec<_> = (0..2)
            .map(|t| {
                let w = w.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        w.record((i + t) % 3 == 0, false);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let s = w.stats();
        let set: u32 = w
            .failed_bits
            .iter()
            .map(|b| b.load(Relaxed).count_ones())
            .sum();
        assert_eq!(s.calls, 64);
        assert_eq!(s.failures, set, "totals must equal the bits set");
    }

    #[test]
    fn a_clear_racing_with_records_never_skews_the_totals() {
        // Clears used to reset running totals that racing records then moved past zero
        // (wrapping to u32::MAX, read as a 100 % failure rate).
        let w = std::sync::Arc::new(CountWindow::new(100));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let clearer = {
            let (w, stop) = (w.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Relaxed) {
                    w.clear();
                }
            })
        };
        for i in 0..200_000u32 {
            w.record(i % 8 == 0, false);
            let s = w.stats();
            assert!(s.failures <= s.calls && s.calls <= 100, "{s:?}");
        }
        stop.store(true, Relaxed);
        clearer.join().unwrap();
        w.clear();
        for _ in 0..100 {
            w.record(false, false);
        }
        assert_eq!(w.stats(), stats(100, 0, 0));
    }

    #[test]
    fn a_time_bucket_keeps_counting_past_its_field_limit() {
        // 70,000 successes then 70,000 failures in one bucket: the failures must show.
        let w = TimeWindow::new(Duration::from_secs(60));
        let t0 = 6_000_000;
        for _ in 0..70_000 {
            w.record(t0, false, false);
        }
        for _ in 0..70_000 {
            w.record(t0, true, false);
        }
        let s = w.stats(t0);
        assert!(s.calls > 32_767 && s.failures <= s.calls, "{s:?}");
        let rate = s.failures as f64 / s.calls as f64;
        assert!(rate > 0.5, "the burst of failures is visible: {s:?}");
    }

    #[test]
    fn time_window_drops_buckets_older_than_the_span() {
        let w = TimeWindow::new(Duration::from_secs(10)); // ten 1 s buckets
        let t0 = 1_000_000;
        w.record(t0, true, false);
        w.record(t0 + 500, false, true);
        w.record(t0 + 5_000, false, false);
        assert_eq!(w.stats(t0 + 5_000), stats(3, 1, 1));
        assert_eq!(w.stats(t0 + 9_999), stats(3, 1, 1));
        // The first bucket (t0..t0+1s) falls out once ten newer buckets have started.
        assert_eq!(w.stats(t0 + 10_000), stats(1, 0, 0));
        assert_eq!(w.stats(t0 + 15_000), stats(0, 0, 0));
        // Writing into a stale bucket starts it afresh.
        w.record(t0 + 20_000, true, false);
        assert_eq!(w.stats(t0 + 20_000), stats(1, 1, 0));
        w.clear();
        assert_eq!(w.stats(t0 + 20_000), stats(0, 0, 0));
    }
}
