//! The settings table: every argument of `#[circuit_breaker]` in the contract's order, what
//! kind of value it takes, an example for messages, and whether a config file or variable
//! may set it.
//!
//! ```
//! use breaker_spec::settings::find;
//! assert!(find("fallback").unwrap().code_only.is_some());
//! assert!(find("window").unwrap().code_only.is_none());
//! ```

use crate::limits::MAX_CALLS;

/// What kind of value a setting takes; the checks of [`check`](crate::check) go by it.
///
/// ```
/// use breaker_spec::settings::{find, Kind};
/// assert_eq!(find("reset_timeout").unwrap().kind, Kind::Duration { zero_allowed: true });
/// assert_eq!(find("success_threshold").unwrap().kind, Kind::Count { max: 65_535 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A whole number in `1..=max` ([`check::count`](crate::check::count)).
    Count {
        /// The largest value allowed.
        max: u64,
    },
    /// A fraction in (0, 1] ([`check::rate`](crate::check::rate)).
    Rate,
    /// A duration string, at most a year ([`check::duration`](crate::check::duration)).
    Duration {
        /// Whether zero is allowed: only for `reset_timeout`, where it means "probe at once".
        zero_allowed: bool,
    },
    /// A call count or a duration ([`check::window_calls`](crate::check::window_calls),
    /// [`check::window_time`](crate::check::window_time)).
    Window,
    /// A backoff ([`backoff`](crate::backoff)).
    Backoff,
    /// The path of a function.
    FunctionPath,
    /// The breaker's name, a string.
    Name,
    /// The path of the runtime crate.
    CratePath,
}

/// One setting.
///
/// ```
/// let name = breaker_spec::settings::find("name").unwrap();
/// assert_eq!(name.example, "\"quotes\"");
/// assert!(name.code_only.unwrap().contains("[breakers.\"name\"]"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// Its name: the attribute's argument, the builder's method, the config key.
    pub name: &'static str,
    /// The kind of value it takes.
    pub kind: Kind,
    /// A value to show in "write it like this" messages, as the attribute writes it.
    pub example: &'static str,
    /// `None` when a config file or variable may set it; otherwise why only code can.
    pub code_only: Option<&'static str>,
}

const fn setting(name: &'static str, kind: Kind, example: &'static str) -> Setting {
    Setting {
        name,
        kind,
        example,
        code_only: None,
    }
}

const fn in_code(
    name: &'static str,
    kind: Kind,
    example: &'static str,
    why: &'static str,
) -> Setting {
    Setting {
        name,
        kind,
        example,
        code_only: Some(why),
    }
}

/// Every setting, in the contract's order.
///
/// ```
/// use breaker_spec::settings::{Kind, SETTINGS};
///
/// assert_eq!(SETTINGS.len(), 18);
/// assert_eq!(SETTINGS[0].name, "name");
/// assert_eq!(SETTINGS[1].kind, Kind::Count { max: u64::from(u32::MAX) });
/// ```
pub const SETTINGS: &[Setting] = &[
    in_code(
        "name",
        Kind::Name,
        "\"quotes\"",
        "is set in code only; a file names a breaker by its table, `[breakers.\"name\"]`",
    ),
    // Stored as `u32`; nothing else bounds how many failures a breaker may wait for.
    setting("failure_threshold", Kind::Count { max: u32::MAX as u64 }, "5"),
    setting("failure_rate", Kind::Rate, "0.5"),
    setting("minimum_calls", Kind::Count { max: u32::MAX as u64 }, "10"),
    setting("window", Kind::Window, "100"),
    setting("slow_call", Kind::Duration { zero_allowed: false }, "\"2s\""),
    setting("slow_call_rate", Kind::Rate, "0.5"),
    setting("success_threshold", Kind::Count { max: MAX_CALLS as u64 }, "2"),
    setting("half_open_max_calls", Kind::Count { max: MAX_CALLS as u64 }, "2"),
    setting("reset_timeout", Kind::Duration { zero_allowed: true }, "\"30s\""),
    setting(
        "backoff",
        Kind::Backoff,
        "exponential(multiplier = 2.0, max = \"5m\")",
    ),
    setting("half_open_timeout", Kind::Duration { zero_allowed: false }, "\"60s\""),
    setting("call_timeout", Kind::Duration { zero_allowed: false }, "\"5s\""),
    in_code(
        "failure_if",
        Kind::FunctionPath,
        "is_transient",
        "is a function, so it is set in code only (the attribute's `failure_if = path` or the builder)",
    ),
    in_code(
        "ignore_if",
        Kind::FunctionPath,
        "is_not_found",
        "is a function, so it is set in code only (the attribute's `ignore_if = path` or the builder)",
    ),
    in_code(
        "classify",
        Kind::FunctionPath,
        "is_server_error",
        "is a function, so it is set in code only (the attribute's `classify = path` or the builder)",
    ),
    in_code(
        "fallback",
        Kind::FunctionPath,
        "cached_value",
        "is a function, so it is set in code only (the attribute's `fallback = path`)",
    ),
    in_code(
        "crate",
        Kind::CratePath,
        "my_crate::breaker",
        "is a path in code, set on the attribute only",
    ),
];

/// The setting called `name`.
///
/// ```
/// let reset = breaker_spec::settings::find("reset_timeout").unwrap();
/// assert_eq!(reset.example, "\"30s\"");
/// assert!(breaker_spec::settings::find("timeout").is_none());
/// ```
pub fn find(name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.name == name)
}

/// Every setting's name, in the contract's order.
///
/// ```
/// assert_eq!(breaker_spec::settings::NAMES.last(), Some(&"crate"));
/// ```
pub const NAMES: &[&str] = &[
    "name",
    "failure_threshold",
    "failure_rate",
    "minimum_calls",
    "window",
    "slow_call",
    "slow_call_rate",
    "success_threshold",
    "half_open_max_calls",
    "reset_timeout",
    "backoff",
    "half_open_timeout",
    "call_timeout",
    "failure_if",
    "ignore_if",
    "classify",
    "fallback",
    "crate",
];

macro_rules! names {
    ($($name:ident: $kind:ident),* $(,)?) => {
        &[$(stringify!($name)),*]
    };
}

/// The names a config file or variable may set, in the contract's order: the settings
/// [`for_each_setting!`](crate::for_each_setting) lists.
///
/// ```
/// assert_eq!(breaker_spec::settings::FILE_KEYS.len(), 12);
/// assert!(!breaker_spec::settings::FILE_KEYS.contains(&"fallback"));
/// ```
pub const FILE_KEYS: &[&str] = crate::for_each_setting!(names);

/// Calls `$callback!` with every setting a config file or variable may set, in the
/// contract's order, as `name: kind` pairs; the kind is `count`, `rate`, `duration`,
/// `window` or `backoff`. The runtime uses it wherever it needs the fields one by one
/// (overlaying layers, reading a key, checking a value), so a new setting is listed once.
///
/// ```
/// macro_rules! count_them {
///     ($($name:ident: $kind:ident),*) => { [$(stringify!($name)),*].len() };
/// }
/// assert_eq!(breaker_spec::for_each_setting!(count_them), 12);
/// ```
#[macro_export]
macro_rules! for_each_setting {
    ($callback:ident) => {
        $callback! {
            failure_threshold: count,
            failure_rate: rate,
            minimum_calls: count,
            window: window,
            slow_call: duration,
            slow_call_rate: rate,
            success_threshold: count,
            half_open_max_calls: count,
            reset_timeout: duration,
            backoff: backoff,
            half_open_timeout: duration,
            call_timeout: duration
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_agree_with_the_table() {
        let names: Vec<&str> = SETTINGS.iter().map(|s| s.name).collect();
        assert_eq!(names, NAMES);
        let file: Vec<&str> = SETTINGS
            .iter()
            .filter(|s| s.code_only.is_none())
            .map(|s| s.name)
            .collect();
        assert_eq!(file, FILE_KEYS);
    }

    #[test]
    fn the_macro_gives_each_setting_its_kind() {
        macro_rules! kinds {
            ($($name:ident: $kind:ident),*) => { [$((stringify!($name), stringify!($kind))),*] };
        }
        for (name, kind) in crate::for_each_setting!(kinds) {
            let expected = match find(name).unwrap().kind {
                Kind::Count { .. } => "count",
                Kind::Rate => "rate",
                Kind::Duration { .. } => "duration",
                Kind::Window => "window",
                Kind::Backoff => "backoff",
                other => panic!("{name} is {other:?}, which no file can set"),
            };
            assert_eq!(kind, expected, "{name}");
        }
    }
}
