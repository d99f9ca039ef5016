//! What a breaker weighs: its inline size per policy, the heap it takes (counted by a
//! counting global allocator), and the resident memory of 100,000 registered breakers (from
//! `/proc/self/statm`). Ours against `recloser` and `failsafe`.
//!
//! Run: `cargo bench -p breaker-runtime --bench memory`. It takes no criterion arguments and
//! ignores any it is given; it prints one `memory/...` line per figure.

mod common;

use breaker_runtime::{BreakerConfig, CircuitBreaker, Registry};
use common::{failsafe_consecutive, policies};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering::Relaxed};

/// The system allocator, counting the bytes live and the allocations made.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Relaxed);
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: `alloc`'s contract, which our caller keeps, is `System.alloc`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Relaxed);
        // SAFETY: `ptr` came from this allocator, that is from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Relaxed);
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: as in `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Relaxed);
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: `ptr` came from `System` with `layout`, and our caller keeps `realloc`'s
        // contract for `new_size`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Heap bytes live and allocations made while `f` runs, keeping what it returns alive.
fn heap_of<T>(f: impl FnOnce() -> T) -> (T, isize, usize) {
    let (live, allocs) = (LIVE.load(Relaxed), ALLOCS.load(Relaxed));
    let value = black_box(f());
    (
        value,
        LIVE.load(Relaxed) - live,
        ALLOCS.load(Relaxed) - allocs,
    )
}

/// Resident memory in bytes, from `/proc/self/statm`.
#[cfg(target_os = "linux")]
fn resident() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

#[cfg(not(target_os = "linux"))]
fn resident() -> Option<u64> {
    None
}

fn line(case: &str, value: impl std::fmt::Display, unit: &str) {
    println!("memory/{case:<40} {value:>12} {unit}");
}

fn main() {
    let policies = policies();

    line(
        "ours/size_of",
        std::mem::size_of::<CircuitBreaker>(),
        "bytes (every policy: the window is behind a pointer)",
    );
    for (name, config) in &policies {
        // A registry of its own, whose map's first allocation is counted too; the name is
        // made before counting starts, and interned (copied once) by the runtime.
        let registry = Registry::new();
        let full_name = format!("bench-memory-{name}");
        let config = config.clone();
        let (b, heap, allocs) = heap_of(|| registry.get_or_create(&full_name, config));
        line(
            &format!("ours/{name}/heap_registered"),
            heap,
            &format!("bytes in {allocs} allocations (breaker, settings, window, name, map entry)"),
        );
        drop(b);
    }

    let (rc, heap, allocs) = heap_of(|| recloser::Recloser::custom().build());
    line(
        "recloser/size_of",
        std::mem::size_of::<recloser::Recloser>(),
        "bytes",
    );
    line(
        "recloser/heap",
        heap,
        &format!("bytes in {allocs} allocations (100-call ring)"),
    );
    drop(rc);

    let (fs, heap, allocs) = heap_of(failsafe_consecutive);
    line(
        "failsafe/size_of",
        std::mem::size_of_val(&fs),
        "bytes (an Arc)",
    );
    line(
        "failsafe/heap",
        heap,
        &format!("bytes in {allocs} allocations (consecutive policy)"),
    );
    drop(fs);

    // 100,000 breakers in the global registry, as 100,000 annotated functions would leave
    // them after their first calls.
    const N: usize = 100_000;
    let names: Vec<String> = (0..N).map(|i| format!("bench-resident-{i:06}")).collect();
    let before = resident();
    let heap_before = LIVE.load(Relaxed);
    for name in &names {
        black_box(breaker_runtime::registry().get_or_create(name, BreakerConfig::default()));
    }
    let heap = LIVE.load(Relaxed) - heap_before;
    let after = resident();
    line(
        "ours/100k_registered/heap",
        format!("{:.1}", heap as f64 / (1 << 20) as f64),
        &format!("MiB ({} bytes per breaker)", heap / N as isize),
    );
    match (before, after) {
        (Some(b), Some(a)) => line(
            "ours/100k_registered/resident",
            format!("{:.1}", a.saturating_sub(b) as f64 / (1 << 20) as f64),
            "MiB (resident set growth)",
        ),
        _ => line(
            "ours/100k_registered/resident",
            "n/a",
            "(no /proc/self/statm)",
        ),
    }
    assert!(breaker_runtime::registry().len() >= N);
}
