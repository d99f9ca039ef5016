//! The configurations the cases draw, and the real breaker each one builds.

use super::*;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Policy {
    /// `failure_threshold` only: no rate window.
    Consecutive { threshold: u32 },
    /// `failure_rate` over a count window, optionally with a `failure_threshold` as well.
    CountWindow {
        rate: f64,
        minimum: u32,
        size: u32,
        threshold: Option<u32>,
    },
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum BackoffKind {
    Fixed,
    Linear { step_ms: u64, max_ms: u64 },
    Exponential { multiplier: u32, max_ms: u64 },
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Cfg {
    pub(crate) policy: Policy,
    pub(crate) success_threshold: u32,
    /// None: left to its default, `success_threshold`.
    pub(crate) half_open_max_calls: Option<u32>,
    pub(crate) reset_ms: u64,
    pub(crate) backoff: BackoffKind,
    pub(crate) half_open_timeout_ms: u64,
}

impl Cfg {
    pub(crate) fn half_open_max(&self) -> u32 {
        self.half_open_max_calls.unwrap_or(self.success_threshold)
    }

    pub(crate) fn build(&self, name: &str) -> Arc<CircuitBreaker> {
        let ms = Duration::from_millis;
        let mut b = CircuitBreaker::builder(name)
            .success_threshold(self.success_threshold)
            .reset_timeout(ms(self.reset_ms))
            .half_open_timeout(ms(self.half_open_timeout_ms))
            .ignore_if(|e: &u8| *e == IGNORED)
            .failure_if(|e: &u8| *e != NOT_A_FAILURE)
            .backoff(match self.backoff {
                BackoffKind::Fixed => Backoff::fixed(),
                BackoffKind::Linear { step_ms, max_ms } => {
                    Backoff::linear(ms(step_ms)).max(ms(max_ms))
                }
                BackoffKind::Exponential { multiplier, max_ms } => {
                    Backoff::exponential(f64::from(multiplier)).max(ms(max_ms))
                }
            });
        if let Some(n) = self.half_open_max_calls {
            b = b.half_open_max_calls(n);
        }
        b = match self.policy {
            Policy::Consecutive { threshold } => b.failure_threshold(threshold),
            Policy::CountWindow {
                rate,
                minimum,
                size,
                threshold,
            } => {
                let b = b.failure_rate(rate).minimum_calls(minimum).window(size);
                match threshold {
                    Some(t) => b.failure_threshold(t),
                    None => b,
                }
            }
        };
        b.build()
    }

    /// The wait before probing after the `level`-th open in a row (0: the first open).
    pub(crate) fn wait_ms(&self, level: u64) -> u64 {
        let base = self.reset_ms;
        match self.backoff {
            BackoffKind::Fixed => base,
            BackoffKind::Linear { step_ms, max_ms } => base
                .saturating_add(level.saturating_mul(step_ms))
                .min(max_ms),
            BackoffKind::Exponential { multiplier, max_ms } => {
                let mut w = base;
                for _ in 0..level {
                    w = w.saturating_mul(u64::from(multiplier));
                    if w >= max_ms {
                        break;
                    }
                }
                w.min(max_ms)
            }
        }
    }
}
