//! The one Lua script (`sync.lua`): its keys, the report an instance sends and the fleet's
//! answer.

use redis::{Cmd, Script};
use std::sync::OnceLock;

/// The script, hashed once.
pub(super) fn script() -> &'static Script {
    static SCRIPT: OnceLock<Script> = OnceLock::new();
    SCRIPT.get_or_init(|| Script::new(include_str!("sync.lua")))
}

/// The keys of one breaker, all under one hash tag so that Redis Cluster keeps them in one
/// slot (a script may only touch keys of one slot).
pub(super) fn keys(namespace: &str, name: &str) -> [String; 4] {
    let tag = format!("{{{namespace}:{name}}}");
    ["state", "window", "opens", "lease"].map(|k| format!("{tag}:{k}"))
}

/// What an instance tells the fleet about one breaker.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Report {
    /// The fleet generation the event was decided on.
    pub(super) seen: u64,
    pub(super) event: Event,
    pub(super) successes: u64,
    pub(super) failures: u64,
    pub(super) slow: u64,
    /// Whether the instance's breaker follows a fleet open and waits for its turn to probe.
    pub(super) wants_lease: bool,
}

/// What happened on an instance since its last report, or a fleet-wide control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Event {
    None,
    /// Its breaker opened by itself, with this many ms of its open period left.
    Opened {
        left_ms: u64,
    },
    /// It held the probe lease and its probes closed the breaker.
    Closed,
    /// It held the probe lease and its probe re-opened the breaker for this long.
    Reopened {
        left_ms: u64,
    },
    Force,
    /// Its breaker is still forced by a fleet force Redis lost: the force again, fenced.
    Reforce,
    Close,
    Reset,
}

impl Event {
    fn wire(self) -> (&'static str, u64) {
        match self {
            Event::None => ("", 0),
            Event::Opened { left_ms } => ("open", left_ms),
            Event::Closed => ("closed", 0),
            Event::Reopened { left_ms } => ("reopen", left_ms),
            Event::Force => ("force", 0),
            Event::Reforce => ("reforce", 0),
            Event::Close => ("close", 0),
            Event::Reset => ("reset", 0),
        }
    }
}

/// The breaker's rules the script judges by, and the fleet's timings, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Rules {
    pub(super) minimum_calls: u32,
    pub(super) failure_rate: Option<f64>,
    pub(super) slow_call_rate: Option<f64>,
    /// 0: no pooled window (a consecutive-failure breaker).
    pub(super) span_ms: u64,
    pub(super) bucket_ms: u64,
    pub(super) min_instances: u32,
    pub(super) open_window_ms: u64,
    pub(super) open_ms: u64,
    pub(super) ttl_ms: u64,
    pub(super) lease_ms: u64,
}

/// The `EVALSHA` of one report.
pub(super) fn command(
    instance: &str,
    keys: &[String; 4],
    report: &Report,
    rules: &Rules,
    channel: &str,
) -> Cmd {
    let (event, left) = report.event.wire();
    let rate = |r: Option<f64>| r.map_or_else(|| "-1".to_owned(), |r| r.to_string());
    let mut cmd = redis::cmd("EVALSHA");
    cmd.arg(script().get_hash())
        .arg(keys.len())
        .arg(keys.as_slice())
        .arg(instance)
        .arg(report.seen)
        .arg(event)
        .arg(left)
        .arg(report.successes)
        .arg(report.failures)
        .arg(report.slow)
        .arg(rules.minimum_calls)
        .arg(rate(rules.failure_rate))
        .arg(rate(rules.slow_call_rate))
        .arg(rules.span_ms)
        .arg(rules.bucket_ms.max(1))
        .arg(rules.min_instances)
        .arg(rules.open_window_ms)
        .arg(rules.open_ms)
        .arg(rules.ttl_ms.max(1))
        .arg(rules.lease_ms.max(1))
        .arg(if report.wants_lease { "1" } else { "0" })
        .arg(channel);
    cmd
}

/// The fleet's state of one breaker, as the script answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reply {
    pub(super) generation: u64,
    pub(super) state: FleetState,
    /// Open: ms until the fleet probes.
    pub(super) left_ms: u64,
    /// Whether this instance holds the probe lease.
    pub(super) holder: bool,
    pub(super) lease_left_ms: u64,
    /// The control that made this generation, if one did.
    pub(super) control: Option<Event>,
    /// The state was made afresh (first use, expired, or Redis lost its keys): its
    /// `Closed` is nobody's verdict.
    pub(super) fresh: bool,
}

/// A breaker's state as the fleet keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FleetState {
    Closed,
    Open,
    Forced,
}

impl Reply {
    /// Reads the script's answer; `None` for anything else (a script of another version).
    pub(super) fn parse(raw: (u64, String, u64, u64, u64, String)) -> Option<Reply> {
        let (generation, state, left_ms, holder, lease_left_ms, control) = raw;
        Some(Reply {
            generation,
            state: match state.as_str() {
                "closed" => FleetState::Closed,
                "open" => FleetState::Open,
                "forced" => FleetState::Forced,
                _ => return None,
            },
            left_ms,
            holder: holder == 1,
            lease_left_ms,
            fresh: control == "fresh",
            control: match control.as_str() {
                "force" => Some(Event::Force),
                "close" => Some(Event::Close),
                "reset" => Some(Event::Reset),
                _ => None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_a_breaker_shares_one_hash_tag() {
        let keys = keys("checkout", "payments");
        assert_eq!(keys[0], "{checkout:payments}:state");
        assert!(keys.iter().all(|k| k.starts_with("{checkout:payments}:")));
    }
}
