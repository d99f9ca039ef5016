//! Model test: random sequences of calls, held permits, late results, clock advances and
//! manual controls are applied both to a real breaker and to a small reference model written
//! straight from the contract; state, each call's admission or rejection, and every metric
//! must agree after every step.
//!
//! One property per policy (consecutive failures, count window, time window, slow calls);
//! every case also draws a backoff (fixed, linear, exponential; jitter 0, so waits are exact).
//! `PROPTEST_CASES` sets the number of cases (default 96 per policy, 2,000 with
//! `BREAKER_LONG_TESTS=1`).

#[path = "../common/mod.rs"]
mod common;

use breaker_runtime::{Backoff, BreakerError, CallError, CircuitBreaker, Metrics, Permit, State};
use common::{cases, paused_runtime, quiet_panics, FAILED, IGNORED, NOT_A_FAILURE};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseResult};
use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::advance;

mod config;
mod drive;
mod model;
mod ops;

use config::*;
use drive::*;
use model::*;
use ops::*;

fn run(name: &'static str, cfg: Cfg, ops: Vec<Op>) -> TestCaseResult {
    quiet_panics(PANIC_MESSAGE);
    let rt = paused_runtime();
    rt.block_on(async move {
        let b = cfg.build(name);
        let mut m = Model::new(cfg);
        let mut held = Vec::new();
        for (i, op) in ops.into_iter().enumerate() {
            step(&b, &mut m, &mut held, op).await?;
            prop_assert_eq!(b.state(), m.view(), "state after step {} ({:?})", i, op);
            prop_assert_eq!(
                b.metrics(),
                m.metrics(),
                "metrics after step {} ({:?})",
                i,
                op
            );
        }
        Ok(())
    })
}

fn config() -> Config {
    Config {
        cases: cases(96, 2_000),
        max_global_rejects: 100_000,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn consecutive_failures((cfg, ops) in case(
        (1..=5u32).prop_map(|threshold| Policy::Consecutive { threshold }).boxed()
    )) {
        run("model-consecutive", cfg, ops)?;
    }

    #[test]
    fn count_window((cfg, ops) in case(
        (rate(), 1..=8u32, proptest::option::of(1..=6u32))
            .prop_flat_map(|(rate, size, threshold)| (Just(rate), 1..=size, Just(size), Just(threshold)))
            .prop_map(|(rate, minimum, size, threshold)| Policy::CountWindow { rate, minimum, size, threshold })
            .boxed()
    )) {
        run("model-count-window", cfg, ops)?;
    }

    #[test]
    fn time_window((cfg, ops) in case(
        (rate(), 1..=6u32, prop_oneof![Just(10u64), Just(100), Just(1_000)])
            .prop_map(|(rate, minimum, span_ms)| Policy::TimeWindow { rate, minimum, span_ms })
            .boxed()
    )) {
        run("model-time-window", cfg, ops)?;
    }

    #[test]
    fn slow_calls((cfg, ops) in case(
        (2..=40u64, rate(), 1..=8u32, proptest::option::of(rate()))
            .prop_flat_map(|(slow_ms, slow_rate, size, failure_rate)| {
                (Just(slow_ms), Just(slow_rate), 1..=size, Just(size), Just(failure_rate))
            })
            .prop_map(|(slow_ms, slow_rate, minimum, size, failure_rate)| Policy::SlowCalls {
                slow_ms, slow_rate, minimum, size, failure_rate,
            })
            .boxed()
    )) {
        run("model-slow-calls", cfg, ops)?;
    }
}
