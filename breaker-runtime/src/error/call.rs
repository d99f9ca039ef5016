//! [`CallError`]: a call's own error, or the breaker's.

use super::breaker::BreakerError;

/// The error of a call made through a breaker: the breaker's own, or the call's.
///
/// ```
/// use breaker_runtime::{BreakerError, CallError};
///
/// let inner: CallError<std::io::Error> = CallError::Inner(std::io::Error::other("boom"));
/// assert!(!inner.is_circuit_open());
/// assert_eq!(inner.into_inner().unwrap().to_string(), "boom");
///
/// let rejected: CallError<std::io::Error> = BreakerError::ForcedOpen { name: "db".into() }.into();
/// assert!(rejected.is_circuit_open());
/// ```
///
/// A rejection stays recognisable once the error is boxed (behind tower's `Buffer` or
/// `Timeout`, as a `BoxError`) without naming `E`: `CallError::Breaker` shows the
/// [`BreakerError`]'s message and gives the [`BreakerError`] itself as its
/// [`source`](std::error::Error::source), which [`BreakerError::find_in`] looks for.
///
/// ```
/// use breaker_runtime::{BreakerError, CallError};
/// use std::error::Error;
///
/// let boxed: Box<dyn Error + Send + Sync> =
///     Box::new(CallError::<std::io::Error>::Breaker(BreakerError::ForcedOpen { name: "db".into() }));
/// assert_eq!(boxed.to_string(), "circuit breaker `db` is forced open; it stays open until closed or reset");
/// assert!(boxed.source().unwrap().is::<BreakerError>());
/// assert!(BreakerError::find_in(&*boxed).unwrap().is_circuit_open());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError<E> {
    /// The breaker rejected the call or cut it short.
    #[error("{0}")]
    Breaker(#[source] BreakerError),
    /// The call ran and returned this error.
    #[error(transparent)]
    Inner(E),
}

impl<E> CallError<E> {
    /// Whether the breaker rejected the call without running it.
    ///
    /// ```
    /// let err: breaker_runtime::CallError<()> = breaker_runtime::CallError::Inner(());
    /// assert!(!err.is_circuit_open());
    /// ```
    pub fn is_circuit_open(&self) -> bool {
        matches!(self, CallError::Breaker(b) if b.is_circuit_open())
    }

    /// The call's own error, if it ran and failed.
    ///
    /// ```
    /// let err: breaker_runtime::CallError<u8> = breaker_runtime::CallError::Inner(7);
    /// assert_eq!(err.into_inner(), Some(7));
    /// ```
    pub fn into_inner(self) -> Option<E> {
        match self {
            CallError::Inner(e) => Some(e),
            CallError::Breaker(_) => None,
        }
    }

    /// The breaker's error, if the breaker rejected or cut the call.
    ///
    /// ```
    /// let err: breaker_runtime::CallError<u8> = breaker_runtime::CallError::Inner(7);
    /// assert!(err.breaker_error().is_none());
    /// ```
    pub fn breaker_error(&self) -> Option<&BreakerError> {
        match self {
            CallError::Breaker(b) => Some(b),
            CallError::Inner(_) => None,
        }
    }

    /// Turns the error into the call's own error type, converting a breaker error with `From`.
    ///
    /// ```
    /// use breaker_runtime::{BreakerError, CallError};
    /// let err: CallError<Box<dyn std::error::Error + Send + Sync>> =
    ///     CallError::Breaker(BreakerError::ForcedOpen { name: "db".into() });
    /// assert!(err.flatten().to_string().contains("forced open"));
    /// ```
    pub fn flatten(self) -> E
    where
        E: From<BreakerError>,
    {
        match self {
            CallError::Breaker(b) => E::from(b),
            CallError::Inner(e) => e,
        }
    }
}

impl<E> From<BreakerError> for CallError<E> {
    fn from(err: BreakerError) -> Self {
        CallError::Breaker(err)
    }
}
