//! Randomness, and the random configurations the runs draw.

use super::*;

pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// A random result from a dependency failing `fail_pct` % of the calls.
    pub(crate) fn result(&mut self, fail_pct: u64) -> Result<(), u8> {
        if self.below(100) < fail_pct {
            return Err(FAILED);
        }
        match self.below(10) {
            0..=7 => Ok(()),
            8 => Err(IGNORED),
            _ => Err(NOT_A_FAILURE),
        }
    }

    /// How unhealthy the dependency is for the next stretch of calls.
    pub(crate) fn health(&mut self) -> u64 {
        [0, 5, 30, 80][self.below(4) as usize]
    }
}

pub(crate) fn seed() -> u64 {
    std::env::var("CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        })
}

// ----- configurations ------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    CountWindow,
    Consecutive,
    TimeWindow,
}

impl Family {
    /// Whether `close()` clears what `failure_rate` is measured over (a rate window);
    /// without one, the rate covers every call since the last `reset()`.
    pub(crate) fn close_clears_rate(self) -> bool {
        self != Family::Consecutive
    }
}

/// What the test needs to know of the config in force.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    pub(crate) success_threshold: u32,
    pub(crate) half_open_max_calls: u32,
    pub(crate) time_span: Option<Duration>,
}

pub(crate) fn random_config(family: Family, rng: &mut Rng) -> (BreakerConfig, Shape) {
    let success_threshold = rng.range(1, 3) as u32;
    let half_open_max_calls = rng.range(1, u64::from(HALF_OPEN_MAX)) as u32;
    let reset = Duration::from_millis(rng.range(RESET_MIN_MS, 15));
    let backoff = match rng.below(3) {
        0 => Backoff::fixed(),
        1 => Backoff::linear(Duration::from_millis(rng.range(1, 5))).max(WAIT_MAX),
        _ => Backoff::exponential(2.0).max(WAIT_MAX),
    };
    let b = BreakerConfig::builder()
        .success_threshold(success_threshold)
        .half_open_max_calls(half_open_max_calls)
        .reset_timeout(reset)
        .half_open_timeout(HALF_OPEN_TIMEOUT)
        .backoff(backoff)
        .ignore_if(|e: &u8| *e == IGNORED)
        .failure_if(|e: &u8| *e != NOT_A_FAILURE);
    let rate = [0.3, 0.5, 0.8, 1.0][rng.below(4) as usize];
    let minimum = rng.range(u64::from(MINIMUM_CALLS_MIN), 20) as u32;
    let mut time_span = None;
    let b = match family {
        Family::Consecutive => b.failure_threshold(rng.range(1, 6) as u32),
        Family::CountWindow => {
            let b = b
                .failure_rate(rate)
                .minimum_calls(minimum)
                .window(rng.range(20, 200) as u32);
            if rng.below(3) == 0 {
                b.failure_threshold(rng.range(2, 8) as u32)
            } else {
                b
            }
        }
        Family::TimeWindow => {
            let span = Duration::from_millis(rng.range(50, 400));
            time_span = Some(span);
            b.failure_rate(rate).minimum_calls(minimum).window(span)
        }
    };
    let shape = Shape {
        success_threshold,
        half_open_max_calls,
        time_span,
    };
    (b.build(), shape)
}
