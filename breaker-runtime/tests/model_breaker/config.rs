//! The configurations the cases draw, and the real breaker each one builds.

use super::*;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Policy {
    Consecutive {
        threshold: u32,
    },
    CountWindow {
        rate: f64,
        minimum: u32,
        size: u32,
        threshold: Option<u32>,
    },
    TimeWindow {
        rate: f64,
        minimum: u32,
        span_ms: u64,
    },
    SlowCalls {
        slow_ms: u64,
        slow_rate: f64,
        minimum: u32,
        size: u32,
        failure_rate: Option<f64>,
    },
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum BackoffKind {
    Fixed,
    Linear {
        step_ms: u64,
        max_ms: Option<u64>,
    },
    Exponential {
        multiplier: u32,
        max_ms: Option<u64>,
    },
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Cfg {
    pub(crate) policy: Policy,
    pub(crate) success_threshold: u32,
    pub(crate) half_open_max_calls: u32,
    pub(crate) reset_ms: u64,
    pub(crate) backoff: BackoffKind,
    pub(crate) half_open_timeout_ms: u64,
    pub(crate) call_timeout_ms: Option<u64>,
}

impl Cfg {
    /// The time window's bucket: every clock move of a time-window case is a multiple of
    /// it, so the model knows which bucket each call lands in.
    pub(crate) fn grain_ms(&self) -> u64 {
        match self.policy {
            Policy::TimeWindow { span_ms, .. } => span_ms / 10,
            _ => 1,
        }
    }

    pub(crate) fn slow_ms(&self) -> Option<u64> {
        match self.policy {
            Policy::SlowCalls { slow_ms, .. } => Some(slow_ms),
            _ => None,
        }
    }

    pub(crate) fn build(&self, name: &str) -> Arc<CircuitBreaker> {
        let ms = Duration::from_millis;
        let mut b = CircuitBreaker::builder(name)
            .success_threshold(self.success_threshold)
            .half_open_max_calls(self.half_open_max_calls)
            .reset_timeout(ms(self.reset_ms))
            .half_open_timeout(ms(self.half_open_timeout_ms))
            .ignore_if(|e: &u8| *e == IGNORED)
            .failure_if(|e: &u8| *e != NOT_A_FAILURE)
            .backoff(match self.backoff {
                BackoffKind::Fixed => Backoff::fixed(),
                BackoffKind::Linear { step_ms, max_ms } => {
                    let b = Backoff::linear(ms(step_ms));
                    max_ms.map_or(b, |m| b.max(ms(m)))
                }
                BackoffKind::Exponential { multiplier, max_ms } => {
                    let b = Backoff::exponential(multiplier as f64);
                    max_ms.map_or(b, |m| b.max(ms(m)))
                }
            });
        if let Some(t) = self.call_timeout_ms {
            b = b.call_timeout(ms(t));
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
            Policy::TimeWindow {
                rate,
                minimum,
                span_ms,
            } => b
                .failure_rate(rate)
                .minimum_calls(minimum)
                .window(ms(span_ms))
                .failure_threshold(1_000),
            Policy::SlowCalls {
                slow_ms,
                slow_rate,
                minimum,
                size,
                failure_rate,
            } => {
                let b = b
                    .slow_call(ms(slow_ms))
                    .slow_call_rate(slow_rate)
                    .minimum_calls(minimum)
                    .window(size);
                match failure_rate {
                    Some(r) => b.failure_rate(r),
                    None => b,
                }
            }
        };
        b.build()
    }
}
