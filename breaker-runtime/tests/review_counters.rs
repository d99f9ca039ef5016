//! Review of the striped counters (successes and rejections counted by a plain load and store
//! into cells one thread owns): no count may be lost, however many threads count, come and
//! go, or reset the breaker.
//!
//! Each test here takes `SERIAL`: which stripe a thread counts into follows the order in
//! which threads first count, and the first test below arranges that order on purpose.

use breaker_runtime::CircuitBreaker;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn succeed(b: &CircuitBreaker) {
    b.try_acquire().expect("closed").success();
}

/// A thread that owns a stripe and a thread that shares it (their thread numbers 16 apart,
/// the number of stripes) count at the same time. The sharer adds atomically, but the owner
/// adds with a plain load and store: a store that lands after a sharer's add, from a load
/// that came before it, wiped that add out (thousands a round, on two free cores; a machine
/// too loaded to run both threads at once may hide it, so `counters.rs` checks the structure
/// too, deterministically).
#[test]
fn an_owner_and_a_sharer_of_one_stripe_lose_no_count() {
    let _serial = serial();
    const N: u64 = 2_000_000;
    let b = CircuitBreaker::builder("review-counters-stripe-sharers").build();
    // This thread owns the inline cells.
    succeed(&b);
    let mut expected = 1;
    // The race needs the two threads on two cores at once, which a loaded machine does not
    // give every time: rounds for a few seconds (one loses thousands of counts when it does).
    let started = std::time::Instant::now();
    for round in 0.. {
        if round >= 3 && started.elapsed() > std::time::Duration::from_secs(3) {
            break;
        }
        let go = Arc::new(Barrier::new(2));
        // The owner: the first thread to count with its number's stripe free.
        let owner = {
            let (b, go) = (b.clone(), go.clone());
            let (counted_tx, counted_rx) = std::sync::mpsc::channel();
            let h = thread::spawn(move || {
                succeed(&b);
                counted_tx.send(()).unwrap();
                go.wait();
                for _ in 0..N {
                    succeed(&b);
                }
            });
            counted_rx.recv().unwrap();
            h
        };
        // Fifteen threads take the thread numbers between, one after another...
        for _ in 0..15 {
            let b = b.clone();
            thread::spawn(move || succeed(&b)).join().unwrap();
        }
        // ...so this one's number is the owner's plus 16: the same stripe, already owned.
        let sharer = {
            let (b, go) = (b.clone(), go.clone());
            thread::spawn(move || {
                succeed(&b);
                go.wait();
                for _ in 0..N {
                    succeed(&b);
                }
            })
        };
        owner.join().unwrap();
        sharer.join().unwrap();
        expected += 17 + 2 * N;
        assert_eq!(
            b.metrics().successes,
            expected,
            "round {round}: successes were lost"
        );
    }
}

/// Many more threads than stripes, started and finished in waves (a finished thread keeps its
/// stripe), with resets racing the counts: `metrics()` never goes back between two resets,
/// and after the last reset it counts exactly what was counted since.
#[test]
fn waves_of_threads_and_racing_resets_lose_nothing() {
    let _serial = serial();
    let b = CircuitBreaker::builder("review-counters-waves").build();
    let mut total = 0u64;
    for wave in 0..4 {
        let threads: Vec<_> = (0..24)
            .map(|_| {
                let b = b.clone();
                thread::spawn(move || {
                    for _ in 0..20_000 {
                        succeed(&b);
                    }
                })
            })
            .collect();
        // A reader that watches the counts: between resets they never go back.
        let mut last = 0;
        while !threads.iter().all(|t| t.is_finished()) {
            let now = b.metrics().successes;
            assert!(now >= last, "wave {wave}: went back from {last} to {now}");
            assert!(now < u64::MAX / 2, "underflow: {now}");
            last = now;
            thread::yield_now();
        }
        for t in threads {
            t.join().unwrap();
        }
        total += 24 * 20_000;
        assert_eq!(b.metrics().successes, total, "wave {wave}");
    }
    // Resets racing counts and each other.
    let resetters: Vec<_> = (0..3)
        .map(|_| {
            let b = b.clone();
            thread::spawn(move || {
                for _ in 0..2_000 {
                    b.reset();
                    let m = b.metrics();
                    assert!(m.successes < u64::MAX / 2, "underflow: {m:?}");
                }
            })
        })
        .collect();
    let counters: Vec<_> = (0..20)
        .map(|_| {
            let b = b.clone();
            thread::spawn(move || {
                for _ in 0..20_000 {
                    succeed(&b);
                }
            })
        })
        .collect();
    for t in resetters.into_iter().chain(counters) {
        t.join().unwrap();
    }
    b.reset();
    assert_eq!(b.metrics().successes, 0);
    assert_eq!(b.metrics().calls, 0);
    let after: Vec<_> = (0..20)
        .map(|_| {
            let b = b.clone();
            thread::spawn(move || {
                for _ in 0..1_000 {
                    succeed(&b);
                }
            })
        })
        .collect();
    for t in after {
        t.join().unwrap();
    }
    assert_eq!(b.metrics().successes, 20_000);
}
