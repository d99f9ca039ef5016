//! The state machine's unit tests (`machine.rs`), in a file of their own.

use super::*;
use crate::settings::BreakerConfig;
use std::time::Duration;

const MS: u64 = 1_000_000;

fn settings(b: crate::settings::BreakerConfigBuilder) -> Settings {
    b.build().resolve("machine").unwrap()
}

fn half_open(s: &Settings, at_ms: u64) -> Machine {
    let mut m = Machine::new();
    let mut moves = Moves::default();
    for _ in 0..s.failure_threshold.unwrap() {
        m.closed_failure(m.gen, 0, s, &mut moves);
    }
    m.advance(at_ms, s, &mut moves);
    assert_eq!(m.state, State::HalfOpen);
    m
}

#[test]
fn each_probe_times_out_from_its_own_admission() {
    // Probe 1 succeeds, 300 s pass, probe 2 is let in: it has the whole timeout.
    let s = settings(
        BreakerConfig::builder()
            .failure_threshold(1)
            .success_threshold(2)
            .half_open_max_calls(1)
            .reset_timeout(Duration::from_secs(10))
            .half_open_timeout(Duration::from_secs(60)),
    );
    let mut m = half_open(&s, 10_000);
    let mut moves = Moves::default();
    assert_eq!(m.admit(10_000, 10_000 * MS, &s), Admit::Probe);
    let gen = m.gen;
    m.probe_finished(gen, 10_000 * MS, Verdict::Success, 10_001, &s, &mut moves);
    m.advance(310_000, &s, &mut moves);
    assert_eq!(m.admit(310_000, 310_000 * MS, &s), Admit::Probe);
    m.advance(369_999, &s, &mut moves);
    assert_eq!(m.state, State::HalfOpen);
    m.advance(370_000, &s, &mut moves);
    assert_eq!(m.state, State::Open);
}

#[test]
fn a_timed_out_probe_reopens_at_its_deadline_not_when_noticed() {
    let s = settings(
        BreakerConfig::builder()
            .failure_threshold(1)
            .reset_timeout(Duration::from_secs(10))
            .half_open_timeout(Duration::from_secs(1)),
    );
    let mut m = half_open(&s, 10_000);
    assert_eq!(m.admit(10_000, 10_000 * MS, &s), Admit::Probe);
    // An hour later: it re-opened at 11 s, half-opened again at 21 s.
    let mut moves = Moves::default();
    m.advance(3_610_000, &s, &mut moves);
    assert_eq!(m.state, State::HalfOpen);
    let reasons: Vec<_> = moves.iter().map(|m| m.reason).collect();
    assert_eq!(
        reasons,
        [
            TransitionReason::HalfOpenTimeout,
            TransitionReason::ResetTimeoutElapsed
        ]
    );
}

#[test]
fn the_oldest_probe_decides_the_timeout() {
    let s = settings(
        BreakerConfig::builder()
            .failure_threshold(1)
            .success_threshold(3)
            .half_open_max_calls(2)
            .reset_timeout(Duration::from_secs(10))
            .half_open_timeout(Duration::from_secs(60)),
    );
    let mut m = half_open(&s, 10_000);
    let mut moves = Moves::default();
    assert_eq!(m.admit(10_000, 10_000 * MS, &s), Admit::Probe);
    assert_eq!(m.admit(40_000, 40_000 * MS, &s), Admit::Probe);
    let gen = m.gen;
    // The older probe answers; the younger one keeps its own 60 s.
    m.probe_finished(gen, 10_000 * MS, Verdict::Success, 50_000, &s, &mut moves);
    m.advance(99_999, &s, &mut moves);
    assert_eq!(m.state, State::HalfOpen);
    m.advance(100_000, &s, &mut moves);
    assert_eq!(m.state, State::Open);
    assert_eq!(m.until_ms, 110_000);
}

#[test]
fn a_late_verdict_moves_nothing() {
    let s = settings(BreakerConfig::builder().failure_threshold(1));
    let mut m = half_open(&s, 30_000);
    assert_eq!(m.admit(30_000, 30_000 * MS, &s), Admit::Probe);
    let old = m.gen;
    let mut moves = Moves::default();
    m.set_manual(State::ForcedOpen, &mut moves);
    m.set_manual(State::Closed, &mut moves);
    m.probe_finished(old, 30_000 * MS, Verdict::Failure, 30_001, &s, &mut moves);
    m.closed_failure(old, 30_001, &s, &mut moves);
    assert_eq!((m.state, m.streak), (State::Closed, 0));
}

#[test]
fn a_remote_open_or_close_decided_on_an_older_generation_moves_nothing() {
    let s = settings(BreakerConfig::builder().failure_threshold(1));
    let mut m = Machine::new();
    let mut moves = Moves::default();
    let stale = m.gen;
    m.closed_failure(m.gen, 0, &s, &mut moves);
    assert_eq!(m.state, State::Open);
    let (gen, until) = (m.gen, m.until_ms);
    assert!(!m.remote_open(stale, 5, &mut moves));
    assert!(!m.remote_close(stale, &mut moves));
    assert_eq!((m.state, m.gen, m.until_ms), (State::Open, gen, until));
    // Current: an open breaker keeps its generation and takes the new deadline.
    assert!(m.remote_open(gen, 5, &mut moves));
    assert_eq!((m.state, m.gen, m.until_ms), (State::Open, gen, 5));
    assert!(m.remote_close(gen, &mut moves));
    assert_eq!(m.state, State::Closed);
    assert_eq!(
        moves.iter().last().map(|m| m.reason),
        Some(TransitionReason::Remote)
    );
}

#[test]
fn remote_moves_leave_the_manual_states_alone() {
    for manual in [State::ForcedOpen, State::Disabled, State::MetricsOnly] {
        let mut m = Machine::new();
        let mut moves = Moves::default();
        m.set_manual(manual, &mut moves);
        assert!(!m.remote_open(m.gen, 1_000, &mut moves));
        assert!(!m.remote_close(m.gen, &mut moves));
        assert_eq!(m.state, manual);
    }
}

#[test]
fn a_remote_open_from_half_open_grows_the_backoff() {
    let s = settings(BreakerConfig::builder().failure_threshold(1));
    let mut m = half_open(&s, 30_000);
    let mut moves = Moves::default();
    assert!(m.remote_open(m.gen, 90_000, &mut moves));
    assert_eq!((m.state, m.level, m.until_ms), (State::Open, 1, 90_000));
}
