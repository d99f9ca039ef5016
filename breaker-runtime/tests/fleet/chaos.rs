//! Chaos: three instances make calls with random outcomes while Redis is killed, paused and
//! restarted at random. Throughout, the local invariants hold: no call is lost (every call
//! lands in exactly one outcome of `Metrics`), none waits on Redis, and nothing wedges (once
//! Redis is back and the dependency healthy, every instance closes).

use crate::server::Redis;
use crate::*;
use breaker_runtime::{BreakerConfig, State};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_with_random_outcomes_while_redis_comes_and_goes() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let seed = std::env::var("FLEET_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
            now.map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("chaos seed {seed} (FLEET_CHAOS_SEED={seed} repeats it)");
    let mut rng = Rng(seed | 1);
    let config = BreakerConfig::builder()
        .failure_rate(0.5)
        .minimum_calls(10)
        .window(Duration::from_secs(5))
        .reset_timeout(Duration::from_millis(300))
        .success_threshold(1)
        .half_open_timeout(Duration::from_secs(1))
        .build();
    let fleet = three(&redis.url(), "chaos", "db", &config, 1).await;
    connected(&fleet).await;

    let healthy = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let slowest = Arc::new(AtomicU64::new(0));
    let mut callers = Vec::new();
    for (k, i) in fleet.iter().enumerate() {
        let (b, healthy, stop, slowest) = (
            i.breaker.clone(),
            healthy.clone(),
            stop.clone(),
            slowest.clone(),
        );
        let mut rng = Rng(seed.wrapping_add(k as u64 + 1) | 1);
        callers.push(tokio::spawn(async move {
            let mut made = 0u64;
            while !stop.load(SeqCst) {
                let fails = !healthy.load(SeqCst) && rng.below(100) < 60;
                let start = Instant::now();
                let _ = b
                    .call(|| async move {
                        if fails {
                            Err("down")
                        } else {
                            Ok(())
                        }
                    })
                    .await;
                slowest.fetch_max(start.elapsed().as_micros() as u64, SeqCst);
                made += 1;
                tokio::time::sleep(Duration::from_millis(rng.below(4))).await;
            }
            made
        }));
    }

    // Six seconds of Redis coming and going.
    let end = Instant::now() + Duration::from_secs(6);
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(100 + rng.below(400))).await;
        match rng.below(4) {
            0 => redis.kill(),
            1 => {
                redis.signal("-STOP");
                tokio::time::sleep(Duration::from_millis(rng.below(600))).await;
                redis.signal("-CONT");
            }
            _ => {
                if !redis.answers() {
                    redis.restart();
                }
            }
        }
    }
    if !redis.answers() {
        redis.restart();
    }
    healthy.store(true, SeqCst);

    // No wedge: with Redis back and the dependency healthy, every instance closes.
    until("every instance closes", Duration::from_secs(20), || {
        fleet.iter().all(|i| i.state() == State::Closed)
    })
    .await;
    stop.store(true, SeqCst);
    for (i, c) in fleet.iter().zip(callers) {
        let made = c.await.unwrap();
        let m = i.breaker.metrics();
        // No call lost: each landed in exactly one outcome.
        assert_eq!(m.calls, made, "calls counted: {m:?}");
        assert_eq!(
            m.successes + m.failures + m.ignored + m.rejected + m.cancelled,
            made,
            "{m:?}"
        );
    }
    let slowest = Duration::from_micros(slowest.load(SeqCst));
    assert!(
        slowest < Duration::from_millis(50),
        "a call waited {slowest:?}"
    );
    until("the link is back", Duration::from_secs(10), || {
        fleet.iter().all(|i| i.fleet().status().connected)
    })
    .await;
}
