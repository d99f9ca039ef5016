//! The text a failed call leaves as the cause of an open (see
//! [`CircuitBreaker::open_cause`](crate::CircuitBreaker::open_cause)): how a call's error is
//! written, chosen where its type is known, and used only if that failure opens the breaker.

use crate::permit::{Outcome, Permit};
use std::error::Error;
use std::fmt;

/// Writes an error as an open's cause. Writing nothing means the error has no text to give.
pub(crate) type Describe<E> = fn(&E, &mut fmt::Formatter<'_>) -> fmt::Result;

/// `E`'s own `Display`: for the attribute, which knows when `E` has one.
pub(crate) fn display<E: fmt::Display>(err: &E, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    err.fmt(f)
}

/// No text: an error type without `Display`.
pub(crate) fn nothing<E>(_: &E, _: &mut fmt::Formatter<'_>) -> fmt::Result {
    Ok(())
}

/// For [`call`](crate::CircuitBreaker::call) and
/// [`call_sync`](crate::CircuitBreaker::call_sync) (and their `_classified` twins), whose
/// `E` need not be `Display`: the standard library's error types (`std::io::Error`,
/// `String`, `&str`, boxed errors) are written with their `Display`; any other type has no
/// text. Looked up only when a failure opens the breaker.
pub(crate) fn known_std<E: 'static>(err: &E, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let any: &dyn std::any::Any = err;
    if let Some(e) = any.downcast_ref::<std::io::Error>() {
        fmt::Display::fmt(e, f)
    } else if let Some(e) = any.downcast_ref::<String>() {
        f.write_str(e)
    } else if let Some(e) = any.downcast_ref::<&'static str>() {
        f.write_str(e)
    } else if let Some(e) = any.downcast_ref::<Box<dyn Error + Send + Sync>>() {
        fmt::Display::fmt(e, f)
    } else if let Some(e) = any.downcast_ref::<Box<dyn Error + Send>>() {
        fmt::Display::fmt(e, f)
    } else if let Some(e) = any.downcast_ref::<Box<dyn Error>>() {
        fmt::Display::fmt(e, f)
    } else {
        Ok(())
    }
}

/// An error and how to write it: formatted by the breaker only if its failure opens it.
struct Cause<'e, E>(&'e E, Describe<E>);

impl<E> fmt::Display for Cause<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.1)(self.0, f)
    }
}

/// Records a finished call's `outcome`; a failure with an `Err` carries that error as the
/// cause, should it open the breaker.
#[inline]
pub(crate) fn finish<T, E>(
    permit: Permit<'_>,
    outcome: Outcome,
    result: &Result<T, E>,
    describe: Describe<E>,
) {
    match result {
        Err(err) if outcome == Outcome::Failure => {
            permit.finish_because(outcome, &Cause(err, describe));
        }
        _ => permit.finish(outcome, false),
    }
}
