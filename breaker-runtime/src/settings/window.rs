//! [`Window`]: what the failure and slow-call rates are measured over.

use crate::error::HumanDuration;
use std::fmt;
use std::time::Duration;

/// The window the failure and slow-call rates are measured over.
///
/// ```
/// use breaker_runtime::Window;
/// use std::time::Duration;
///
/// assert_eq!(Window::from(100), Window::Calls(100));
/// assert_eq!(Window::from(Duration::from_secs(60)), Window::Time(Duration::from_secs(60)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Window {
    /// The last `n` recorded calls (at most 65,535).
    Calls(u32),
    /// The calls recorded in the last duration, kept in ten buckets of a tenth each.
    Time(Duration),
}

impl From<u32> for Window {
    fn from(n: u32) -> Window {
        Window::Calls(n)
    }
}

impl From<Duration> for Window {
    fn from(d: Duration) -> Window {
        Window::Time(d)
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Window::Calls(n) => write!(f, "{n}"),
            Window::Time(d) => write!(f, "\"{}\"", HumanDuration(*d)),
        }
    }
}
