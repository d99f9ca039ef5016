//! A second reference model, written from the documents only (README "How it behaves" and
//! "Guarantees", CONTRACT "States", "Outcomes" and "Runtime API", and the public rustdoc),
//! never from the implementation. Random sequences of operations are applied to a real
//! breaker on tokio's paused clock and to a plain model of one breaker; after every operation
//! the state, each admission (`Ok` or which `BreakerError`), `retry_after`, the snapshot's
//! `retry_after_ms` and every metric must agree.
//!
//! The model's rules, as the documents state them:
//!
//! - Closed → Open after `failure_threshold` failures in a row, or once the count window
//!   holds `minimum_calls` recorded calls (successes and failures) and failures / calls
//!   reaches `failure_rate` (inclusive); the call that brings the window to `minimum_calls`
//!   opens it if the rate is already reached. Ignored and cancelled calls touch neither.
//! - Open → HalfOpen at the instant the wait in force has passed (inclusive). The first open
//!   waits `reset_timeout`; the n-th re-open in a row (from half-open, no close in between)
//!   waits what the backoff says for n (fixed, linear, exponential; no jitter; capped).
//! - HalfOpen: at most `half_open_max_calls` probes in flight (more are `HalfOpenFull`);
//!   `success_threshold` successful probes close it; a failed probe re-opens it; an ignored
//!   or dropped probe gives its slot back and moves nothing; a probe with no verdict
//!   `half_open_timeout` after its own admission re-opens it at that instant, and the new
//!   open period counts from that instant.
//! - Time-driven moves happen at the instant they fall due, however late anyone looks.
//! - Closing (probes succeeded, `close()`, `reset()`) clears the streak, the window and the
//!   backoff. `close()` / `reset()` on a closed breaker keep the generation: permits admitted
//!   before still count in the fresh streak and window.
//! - Every other transition starts a new generation: a permit admitted before it is a late
//!   result, counted in the metrics and moving nothing.
//! - ForcedOpen rejects everything (`ForcedOpen`) until `close()` / `reset()`; Disabled lets
//!   everything through and records nothing; MetricsOnly records everything and never
//!   rejects or moves. Manual controls do not count in `opened_count`.
//! - Metrics: every finished call in exactly one of successes, failures, ignored, rejected,
//!   cancelled; `calls` is their sum; `reset()` zeroes them. `failure_rate` is failures /
//!   calls over the window (None below `minimum_calls`); without a rate window, over all
//!   recorded calls since the last reset (None below `minimum_calls`, default 10).
//! - `retry_after` of an `Open` rejection never exceeds the time left until a probe is let
//!   in, nor the wait in force; the paused clock is exact, so it is the time left.
//!
//! Where the documents are silent the model does not guess: `failure_rate` is compared
//! exactly only while Closed (elsewhere it must be None or within [0, 1]); a call that
//! starts or ends while the breaker is Disabled may be counted or not (but in the right
//! bucket only), except one that starts and ends while Disabled, which counts nothing.
//!
//! Three properties (consecutive failures; count window; limits: windows of 65,535 calls,
//! 65,535 half-open slots, streaks of 70,000, filled past them), each drawing a backoff
//! (fixed, linear, exponential; no jitter), and named scenarios (`scenarios.rs`), one per rule the
//! random cases found broken. `PROPTEST_CASES` sets the number of cases (default 48 per
//! property, 6 for the limits; 20x with `BREAKER_LONG_TESTS=1`). No regression files are
//! written: proptest prints the minimal failing case.

#[path = "../common/mod.rs"]
mod common;

use breaker_runtime::{Backoff, BreakerError, CallError, CircuitBreaker, Metrics, Permit, State};
use common::{cases, paused_runtime, quiet_panics, FAILED, IGNORED, NOT_A_FAILURE};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestCaseResult};
use std::collections::{BTreeMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

mod config;
mod drive;
mod model;
mod ops;
mod scenarios;

use config::*;
use drive::*;
use model::*;
use ops::*;

const PANIC_MESSAGE: &str = "model_contract: the body panics";
/// Permits the test holds at most at once (besides floods, which record theirs at once).
const MAX_HELD: usize = 6;
/// `minimum_calls` when none is given (README table).
const DEFAULT_MINIMUM_CALLS: u64 = 10;

fn run(name: &'static str, cfg: Cfg, ops: Vec<Op>) -> TestCaseResult {
    quiet_panics(PANIC_MESSAGE);
    let rt = paused_runtime();
    rt.block_on(async move {
        let b = cfg.build(name);
        let mut m = Model::new(cfg);
        let mut held: Vec<Held<'_>> = Vec::new();
        check(&b, &m, "at the start")?;
        for (i, op) in ops.iter().enumerate() {
            let ctx = format!("after step {i} ({op:?}, begun at t = {} ms)", m.now);
            step(&b, &mut m, &mut held, *op, &ctx).await?;
            check(&b, &m, &ctx)?;
        }
        // Every permit still held finishes, late or not; the counts must still agree.
        for (i, h) in held.drain(..).enumerate() {
            let ctx = format!("finishing held permit {i} at the end");
            finish(&b, &mut m, h, Verdict::Success, &ctx)?;
            check(&b, &m, &ctx)?;
        }
        Ok(())
    })
}

fn config(default: u32) -> Config {
    Config {
        cases: cases(default, default * 20),
        max_global_rejects: 100_000,
        // The minimal counterexample is printed; no regression files in the tree.
        failure_persistence: None,
        max_shrink_iters: 20_000,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn contract_consecutive(cfg in cfg(consecutive(false), false), ops in ops(false)) {
        run("contract-consecutive", cfg, ops)?;
    }

    #[test]
    fn contract_count_window(cfg in cfg(count_window(false), false), ops in ops(false)) {
        run("contract-count-window", cfg, ops)?;
    }
}

proptest! {
    #![proptest_config(config(6))]

    /// Windows of 65,535 calls, 65,535 half-open slots and successes, streaks of 70,000,
    /// filled past their limits.
    #[test]
    fn contract_limits(
        cfg in cfg(prop_oneof![consecutive(true), count_window(true)].boxed(), true),
        ops in ops(true),
    ) {
        run("contract-limits", cfg, ops)?;
    }
}
