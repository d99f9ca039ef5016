//! The operations the cases apply to both, and the strategies that draw them.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Body {
    Ok,
    Err(u8),
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Op {
    /// A call through `call` that finishes at once.
    Call(Body),
    /// A call through `call` that takes `grains` clock grains, then returns.
    Slow(Body, u64),
    /// A call whose body panics (`call_sync` under `catch_unwind`, or `call` in a task).
    Panic {
        in_task: bool,
    },
    /// A call whose future is dropped after its first poll.
    Cancel,
    /// A call that never answers and is cut by `call_timeout`.
    Hang,
    /// Takes a permit and keeps it.
    Hold,
    /// Finishes the `i % held`-th held permit (a late result if the state moved since).
    Finish(usize, Fin),
    /// Moves the clock.
    Advance(u64),
    ForceOpen,
    Disable,
    MetricsOnly,
    Close,
    Reset,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Fin {
    Success,
    Failure,
    Ignore,
    Drop,
}

pub(crate) fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        4 => Just(Body::Ok),
        4 => Just(Body::Err(FAILED)),
        1 => Just(Body::Err(IGNORED)),
        1 => Just(Body::Err(NOT_A_FAILURE)),
    ]
}

pub(crate) fn op(cfg: Cfg) -> impl Strategy<Value = Op> {
    let grain = cfg.grain_ms();
    // Clock moves in grains: around the reset and half-open timeouts, and now and then
    // far ahead (past 65,536 buckets of a time window, past many backoff steps).
    let near = (cfg.reset_ms.max(cfg.half_open_timeout_ms) / grain).max(2) + 2;
    let advance = prop_oneof![
        6 => (0..=near).prop_map(move |g| g * grain),
        1 => (0..20u64).prop_map(move |g| g * grain),
        1 => (65_530..65_545u64).prop_map(move |g| g * grain),
    ];
    let slow_grains = match cfg.slow_ms() {
        // Exactly at the threshold (slow, inclusive) or one millisecond under it.
        Some(s) => prop_oneof![Just(s), Just(s - 1)].boxed(),
        None => (1..=3u64).boxed(),
    };
    prop_oneof![
        12 => body().prop_map(Op::Call),
        4 => (body(), slow_grains).prop_map(|(b, g)| Op::Slow(b, g)),
        1 => any::<bool>().prop_map(|in_task| Op::Panic { in_task }),
        1 => Just(Op::Cancel),
        1 => Just(Op::Hang),
        3 => Just(Op::Hold),
        3 => (any::<usize>(), prop_oneof![
            Just(Fin::Success), Just(Fin::Failure), Just(Fin::Ignore), Just(Fin::Drop)
        ])
            .prop_map(|(i, f)| Op::Finish(i, f)),
        4 => advance.prop_map(Op::Advance),
        1 => prop_oneof![
            Just(Op::ForceOpen),
            Just(Op::Disable),
            Just(Op::MetricsOnly),
            Just(Op::Close),
            Just(Op::Reset),
        ],
    ]
}

pub(crate) fn backoff_kind() -> impl Strategy<Value = BackoffKind> {
    prop_oneof![
        Just(BackoffKind::Fixed),
        (1..=500u64, proptest::option::of(1..=3_000u64))
            .prop_map(|(step_ms, max_ms)| BackoffKind::Linear { step_ms, max_ms }),
        (1..=3u32, proptest::option::of(1..=5_000u64))
            .prop_map(|(multiplier, max_ms)| BackoffKind::Exponential { multiplier, max_ms }),
    ]
}

pub(crate) fn rate() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.25), Just(0.5), Just(0.6), Just(0.75), Just(1.0)]
}

pub(crate) fn cfg(policy: BoxedStrategy<Policy>) -> impl Strategy<Value = Cfg> {
    (
        policy,
        1..=3u32,
        1..=3u32,
        prop_oneof![1 => Just(0u64), 4 => 1..=2_000u64],
        backoff_kind(),
        1..=3_000u64,
        proptest::option::of(1..=50u64),
    )
        .prop_map(|(policy, st, hm, reset_ms, backoff, hot, ct)| {
            let mut c = Cfg {
                policy,
                success_threshold: st,
                half_open_max_calls: hm,
                reset_ms,
                backoff,
                half_open_timeout_ms: hot,
                call_timeout_ms: ct,
            };
            // In a time-window case every duration is a whole number of buckets.
            let g = c.grain_ms();
            c.reset_ms = c.reset_ms / g * g;
            c.half_open_timeout_ms = (c.half_open_timeout_ms / g).max(1) * g;
            c.call_timeout_ms = c.call_timeout_ms.map(|t| t.max(1) * g);
            if let BackoffKind::Linear { step_ms, max_ms } = &mut c.backoff {
                *step_ms = (*step_ms / g).max(1) * g;
                *max_ms = max_ms.map(|m| m / g * g);
            }
            if let BackoffKind::Exponential { max_ms, .. } = &mut c.backoff {
                *max_ms = max_ms.map(|m| m / g * g);
            }
            c
        })
}

pub(crate) fn case(policy: BoxedStrategy<Policy>) -> impl Strategy<Value = (Cfg, Vec<Op>)> {
    cfg(policy).prop_flat_map(|c| (Just(c), proptest::collection::vec(op(c), 1..80)))
}
