//! The operations the cases apply to both, and the strategies that draw them.

use super::*;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Adv {
    Zero,
    OneMs,
    Reset,
    ResetMinus1,
    ResetPlus1,
    HalfOpenTimeout,
    HalfOpenTimeoutMinus1,
    HalfOpenTimeoutPlus1,
    Hours(u8),
    Ms(u64),
    /// To the next instant a time-driven move falls due, plus -1, 0 or +1 ms.
    ToDue(i8),
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Body {
    Ok,
    Err(u8),
    Panic,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Op {
    /// `try_acquire`, holding the permit.
    Acquire,
    /// Finishes held permit `i % held` with the verdict.
    Finish(usize, Verdict),
    /// `try_acquire` and finish at once.
    Call(Verdict),
    /// `call_sync` with a body; a panic is caught outside.
    CallSync(Body),
    /// An async call cut by `timeout(0)` after its first poll: cancelled.
    AsyncCancelled,
    Advance(Adv),
    ForceOpen,
    Close,
    Reset,
    Disable,
    MetricsOnly,
    /// `force_open(); close();` this many times, with permits held.
    Burst(u32),
    /// This many calls in a row with the verdict (admission checked for each).
    Fill(u32, Verdict),
    /// Acquires this many permits at once (checking each admission), then finishes them
    /// all with the verdict.
    Flood(u32, Verdict),
}

pub(crate) fn verdict() -> impl Strategy<Value = Verdict> {
    prop_oneof![
        4 => Just(Verdict::Success),
        4 => Just(Verdict::Failure),
        1 => Just(Verdict::Ignore),
        1 => Just(Verdict::Drop),
    ]
}

pub(crate) fn ops(big: bool) -> impl Strategy<Value = Vec<Op>> {
    let adv = prop_oneof![
        2 => Just(Adv::Zero),
        2 => Just(Adv::OneMs),
        2 => Just(Adv::Reset),
        1 => Just(Adv::ResetMinus1),
        1 => Just(Adv::ResetPlus1),
        2 => Just(Adv::HalfOpenTimeout),
        1 => Just(Adv::HalfOpenTimeoutMinus1),
        1 => Just(Adv::HalfOpenTimeoutPlus1),
        1 => (1..=3u8).prop_map(Adv::Hours),
        2 => (2..=30u64).prop_map(Adv::Ms),
        4 => (-1..=1i8).prop_map(Adv::ToDue),
    ];
    let body = prop_oneof![
        3 => Just(Body::Ok),
        3 => Just(Body::Err(FAILED)),
        1 => Just(Body::Err(IGNORED)),
        1 => Just(Body::Err(NOT_A_FAILURE)),
        1 => Just(Body::Panic),
    ];
    let burst = prop_oneof![
        Just(5_000u32),
        Just(8_192),
        Just(12_768),
        Just(16_384),
        Just(20_000),
        Just(32_768)
    ];
    let fill_n = if big {
        prop_oneof![1..=40u32, Just(65_535), Just(65_536), Just(70_000)].boxed()
    } else {
        prop_oneof![1..=12u32, Just(100), Just(101)].boxed()
    };
    let flood_n = if big {
        prop_oneof![1..=6u32, Just(65_535), Just(65_536)].boxed()
    } else {
        (1..=6u32).boxed()
    };
    let op = prop_oneof![
        6 => Just(Op::Acquire),
        6 => (any::<usize>(), verdict()).prop_map(|(i, v)| Op::Finish(i, v)),
        8 => verdict().prop_map(Op::Call),
        2 => body.prop_map(Op::CallSync),
        1 => Just(Op::AsyncCancelled),
        8 => adv.prop_map(Op::Advance),
        1 => Just(Op::ForceOpen),
        2 => Just(Op::Close),
        1 => Just(Op::Reset),
        1 => Just(Op::Disable),
        1 => Just(Op::MetricsOnly),
        1 => burst.prop_map(Op::Burst),
        2 => (fill_n, verdict()).prop_map(|(n, v)| Op::Fill(n, v)),
        1 => (flood_n, verdict()).prop_map(|(n, v)| Op::Flood(n, v)),
    ];
    let len = if big { 1..40usize } else { 1..160usize };
    proptest::collection::vec(op, len)
}

pub(crate) fn backoff() -> impl Strategy<Value = BackoffKind> {
    prop_oneof![
        4 => Just(BackoffKind::Fixed),
        1 => (prop_oneof![Just(1u64), Just(7), Just(100)], prop_oneof![Just(200u64), Just(100_000)])
            .prop_map(|(step_ms, max_ms)| BackoffKind::Linear { step_ms, max_ms }),
        1 => (2..=3u32, prop_oneof![Just(500u64), Just(100_000)])
            .prop_map(|(multiplier, max_ms)| BackoffKind::Exponential { multiplier, max_ms }),
    ]
}

pub(crate) fn rate() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.25),
        Just(0.5),
        Just(0.75),
        Just(1.0),
        Just(0.1),
        Just(0.3),
        Just(0.6),
        Just(0.7)
    ]
}

pub(crate) fn cfg(policy: BoxedStrategy<Policy>, big: bool) -> impl Strategy<Value = Cfg> {
    let reset = prop_oneof![
        1 => Just(0u64),
        2 => Just(1u64),
        3 => Just(10u64),
        3 => Just(100u64),
        2 => Just(30_000u64),
    ];
    let hot = prop_oneof![Just(1u64), Just(5), Just(50), Just(1_000), Just(60_000)];
    let success = if big {
        prop_oneof![1..=3u32, Just(65_535)].boxed()
    } else {
        (1..=4u32).boxed()
    };
    let hmax = if big {
        prop_oneof![Just(None), (1..=3u32).prop_map(Some), Just(Some(65_535))].boxed()
    } else {
        prop_oneof![Just(None), (1..=4u32).prop_map(Some)].boxed()
    };
    (policy, success, hmax, reset, backoff(), hot).prop_map(
        |(
            policy,
            success_threshold,
            half_open_max_calls,
            reset_ms,
            backoff,
            half_open_timeout_ms,
        )| {
            // A backoff's cap is never below the first wait: the documents do not say which
            // wins then.
            let backoff = match backoff {
                BackoffKind::Fixed => BackoffKind::Fixed,
                BackoffKind::Linear { step_ms, max_ms } => BackoffKind::Linear {
                    step_ms,
                    max_ms: max_ms.max(reset_ms),
                },
                BackoffKind::Exponential { multiplier, max_ms } => BackoffKind::Exponential {
                    multiplier,
                    max_ms: max_ms.max(reset_ms),
                },
            };
            Cfg {
                policy,
                success_threshold,
                half_open_max_calls,
                reset_ms,
                backoff,
                half_open_timeout_ms,
            }
        },
    )
}

pub(crate) fn consecutive(big: bool) -> BoxedStrategy<Policy> {
    let threshold = if big {
        prop_oneof![1..=3u32, Just(70_000)].boxed()
    } else {
        (1..=5u32).boxed()
    };
    threshold
        .prop_map(|threshold| Policy::Consecutive { threshold })
        .boxed()
}

pub(crate) fn count_window(big: bool) -> BoxedStrategy<Policy> {
    let size = if big {
        prop_oneof![1..=8u32, Just(65_535)].boxed()
    } else {
        (1..=10u32).boxed()
    };
    let threshold = if big {
        prop_oneof![Just(None), Just(Some(70_000u32)), Just(Some(3))].boxed()
    } else {
        proptest::option::of(1..=6u32).boxed()
    };
    (rate(), size, threshold)
        .prop_flat_map(|(rate, size, threshold)| {
            let minimum = if size > 100 {
                prop_oneof![Just(1u32), Just(10), Just(size)].boxed()
            } else {
                (1..=size).boxed()
            };
            (Just(rate), minimum, Just(size), Just(threshold))
        })
        .prop_map(|(rate, minimum, size, threshold)| Policy::CountWindow {
            rate,
            minimum,
            size,
            threshold,
        })
        .boxed()
}
