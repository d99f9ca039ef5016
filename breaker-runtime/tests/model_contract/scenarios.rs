//! Named scenarios: fixed sequences run through the same model, one per rule the random
//! cases found broken (or that a fix could easily break), so each shows on its own.

use super::*;

fn scenario(name: &'static str, cfg: Cfg, ops: Vec<Op>) {
    if let Err(e) = run(name, cfg, ops.clone()) {
        panic!("{e}\ncfg = {cfg:#?}\nops = {ops:?}");
    }
}

/// Opens on the first failure, waits 10 ms, gives each probe 5 ms, closes on 2 successes.
fn small() -> Cfg {
    Cfg {
        policy: Policy::Consecutive { threshold: 1 },
        success_threshold: 2,
        half_open_max_calls: None,
        reset_ms: 10,
        backoff: BackoffKind::Fixed,
        half_open_timeout_ms: 5,
    }
}

fn ms(n: u64) -> Op {
    Op::Advance(Adv::Ms(n))
}

/// CONTRACT: "A probe with no verdict `half_open_timeout` after it was let in re-opens it":
/// a probe let in at t = 14, after a first probe succeeded at 10, still has its 5 ms at 16.
#[test]
fn half_open_timeout_counts_from_each_probes_admission() {
    let ops = vec![
        Op::Call(Verdict::Failure),
        ms(10),
        Op::Call(Verdict::Success),
        ms(4),
        Op::Acquire,
        ms(2),
    ];
    scenario("contract-hot-admission", small(), ops);
}

/// The same, when an earlier probe of the phase was ignored (it gave its slot back).
#[test]
fn half_open_timeout_ignores_earlier_probes_that_gave_their_slot_back() {
    let ops = vec![
        Op::Call(Verdict::Failure),
        ms(10),
        Op::Call(Verdict::Ignore),
        ms(4),
        Op::Acquire,
        ms(4),
    ];
    scenario("contract-hot-ignored", small(), ops);
}

/// CONTRACT: the probe's timeout re-opens it "at that instant: the new open period counts
/// from then, so a call that comes after that period is a probe, however late the breaker
/// is looked at". Re-opened at 15, open until 25: at 30 a call is a probe.
#[test]
fn half_open_timeout_reopen_counts_from_its_due_instant() {
    let ops = vec![
        Op::Call(Verdict::Failure),
        ms(10),
        Op::Acquire,
        ms(20),
        Op::Acquire,
    ];
    scenario("contract-hot-due", small(), ops);
}

/// At the instant the probe times out the breaker is open: `opened_count` says so (a
/// re-open from half-open), and the snapshot shows the 10 ms left.
#[test]
fn half_open_timeout_reopen_shows_at_once() {
    let ops = vec![Op::Call(Verdict::Failure), ms(10), Op::Acquire, ms(5)];
    scenario("contract-hot-shows", small(), ops);
}

/// With a zero reset timeout the timed-out phase re-opens and half-opens at one instant.
#[test]
fn half_open_timeout_with_zero_reset_timeout_half_opens_at_once() {
    let cfg = Cfg {
        reset_ms: 0,
        ..small()
    };
    let ops = vec![Op::Call(Verdict::Failure), Op::Acquire, ms(5)];
    scenario("contract-hot-zero-reset", cfg, ops);
}

/// "Generations never alias": a permit held across 8,192 `force_open(); close();` pairs
/// is a late result, and its failure must not open the (new) closed breaker.
#[test]
fn late_result_after_8192_force_open_close_pairs_moves_nothing() {
    let ops = vec![
        Op::Acquire,
        Op::Burst(8_192),
        Op::Finish(0, Verdict::Failure),
    ];
    scenario("contract-wrap", small(), ops);
}

/// The same for the rate window: the late failure must not enter the fresh window.
#[test]
fn late_result_after_8192_pairs_stays_out_of_the_window() {
    let cfg = Cfg {
        policy: Policy::CountWindow {
            rate: 0.5,
            minimum: 1,
            size: 10,
            threshold: None,
        },
        ..small()
    };
    let ops = vec![
        Op::Acquire,
        Op::Burst(8_192),
        Op::Finish(0, Verdict::Failure),
    ];
    scenario("contract-wrap-window", cfg, ops);
}

/// `close()` on a closed breaker: "calls admitted before ... still count in the (fresh)
/// streak and window".
#[test]
fn close_on_a_closed_breaker_keeps_held_permits_counting() {
    let cfg = Cfg {
        policy: Policy::Consecutive { threshold: 2 },
        ..small()
    };
    let ops = vec![
        Op::Acquire,
        Op::Close,
        Op::Finish(0, Verdict::Failure),
        Op::Call(Verdict::Failure),
    ];
    scenario("contract-close-closed", cfg, ops);
}

/// `reset()` "closes the breaker as `close` does and zeroes its metrics": on a closed
/// breaker, calls admitted before still count in the fresh streak.
#[test]
fn reset_on_a_closed_breaker_keeps_held_permits_counting() {
    let cfg = Cfg {
        policy: Policy::Consecutive { threshold: 2 },
        ..small()
    };
    let ops = vec![
        Op::Acquire,
        Op::Reset,
        Op::Finish(0, Verdict::Failure),
        Op::Call(Verdict::Failure),
    ];
    scenario("contract-reset-closed", cfg, ops);
}
