//! The only items `#[circuit_breaker]`'s generated code names. Not public API: they change
//! without notice.

use crate::breaker::CircuitBreaker;
use crate::error::{BreakerError, CallError};
use crate::permit::Outcome;
use std::future::Future;
use std::sync::{Arc, OnceLock};

pub use crate::{Backoff, BreakerConfig, Window};
pub use ::core;
pub use ::std;

/// The breaker of one annotated function, in a `static` inside its body.
#[derive(Debug)]
pub struct BreakerCell {
    cell: OnceLock<Arc<CircuitBreaker>>,
}

impl Default for BreakerCell {
    fn default() -> Self {
        Self::new()
    }
}

impl BreakerCell {
    /// An empty cell, for a `static`.
    pub const fn new() -> Self {
        BreakerCell {
            cell: OnceLock::new(),
        }
    }

    /// The breaker: registered on the first call, one atomic load after that.
    #[inline]
    pub fn get_or_register(
        &'static self,
        name: &'static str,
        config: fn() -> BreakerConfig,
    ) -> &'static CircuitBreaker {
        match self.cell.get() {
            Some(b) => b,
            None => self.register(name, config),
        }
    }

    #[cold]
    #[inline(never)]
    fn register(
        &'static self,
        name: &'static str,
        config: fn() -> BreakerConfig,
    ) -> &'static CircuitBreaker {
        // The name is a literal, `concat!` or a default name from below: kept as it is, with
        // no copy, so errors and events carry it at no cost.
        self.cell.get_or_init(|| {
            crate::registry().get_or_create_named(&crate::Name::from_static(name), config())
        })
    }
}

/// `failure_if` and `ignore_if`, as the attribute wrote them.
pub struct Classifier<E> {
    /// Errors for which this returns false count as successes.
    pub failure_if: Option<fn(&E) -> bool>,
    /// Errors for which this returns true are not recorded.
    pub ignore_if: Option<fn(&E) -> bool>,
}

impl<E> Clone for Classifier<E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for Classifier<E> {}

impl<E> Classifier<E> {
    /// Both predicates, either optional.
    pub const fn new(
        failure_if: Option<fn(&E) -> bool>,
        ignore_if: Option<fn(&E) -> bool>,
    ) -> Self {
        Classifier {
            failure_if,
            ignore_if,
        }
    }

    fn outcome(&self, err: &E) -> Outcome {
        if self.ignore_if.is_some_and(|f| f(err)) {
            Outcome::Ignored
        } else if self.failure_if.map_or(true, |f| f(err)) {
            Outcome::Failure
        } else {
            Outcome::Success
        }
    }
}

/// Runs an annotated async fn's body under its breaker.
#[inline]
pub fn call_async<'a, T, E, Fut>(
    breaker: &'a CircuitBreaker,
    classifier: Classifier<E>,
    fut: Fut,
) -> impl Future<Output = Result<T, CallError<E>>> + 'a
where
    Fut: Future<Output = Result<T, E>> + 'a,
    E: 'a,
{
    crate::call::CallFuture::made(
        breaker,
        move |_: &CircuitBreaker, e: &E| classifier.outcome(e),
        fut,
    )
}

/// Runs an annotated fn's body under its breaker.
#[inline]
pub fn call_sync<T, E, F>(
    breaker: &CircuitBreaker,
    classifier: Classifier<E>,
    f: F,
) -> Result<T, CallError<E>>
where
    F: FnOnce() -> Result<T, E>,
{
    breaker.run_sync(move |e: &E| classifier.outcome(e), f)
}

/// The error an annotated fn without a fallback returns.
#[inline]
pub fn into_error<E: From<BreakerError>>(err: CallError<E>) -> E {
    err.flatten()
}

// ---- Added for `#[circuit_breaker]`'s default names and diagnostics (breaker-macros). ----

impl BreakerCell {
    /// Like [`get_or_register`](Self::get_or_register) for a function without a `name`: the
    /// default name is computed only on the first call, and kept unique (see [`claim_name`]).
    /// `site` is the function's `file:line:column`.
    #[inline]
    pub fn get_or_register_default(
        &'static self,
        name: impl FnOnce() -> &'static str,
        site: &'static str,
        config: fn() -> BreakerConfig,
    ) -> &'static CircuitBreaker {
        match self.cell.get() {
            Some(b) => b,
            None => self.register(claim_name(name(), site), config),
        }
    }
}

/// The default name of a method: `type::path::Type::method`, from `type_name::<T>()` without
/// generic arguments (all instantiations share one breaker, so they share one name).
/// Allocates once per function, on its first call.
///
/// The name is leaked on purpose: it is made at most once per annotated method (the
/// `BreakerCell` caches the breaker after the first call), so what stays is bounded by the
/// program's code, not by what it does at run time, and a `&'static str` keeps the name free
/// to hand out in every error and event, like a literal's. Breakers a program makes at run
/// time never come here; their names are [`Name`](crate::Name)s and are freed with them.
pub fn method_name<T: ?Sized>(method: &'static str) -> &'static str {
    let type_name = ::core::any::type_name::<T>();
    let path = type_name.split('<').next().unwrap_or(type_name);
    Box::leak(format!("{path}::{method}").into_boxed_str())
}

/// Reserves a default name for the function at `site`. Two different functions that derive
/// the same default name (say an inherent and a trait method of one type, both `get`) must
/// not share a breaker by accident: the first keeps the name, the later one gets
/// `name@site` and a warning. The renamed `name@site` is leaked for the reason
/// [`method_name`] gives: once per annotated function at most.
pub fn claim_name(name: &'static str, site: &'static str) -> &'static str {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static CLAIMED: Mutex<Option<HashMap<&'static str, &'static str>>> = Mutex::new(None);
    let mut claimed = CLAIMED.lock().unwrap_or_else(|e| e.into_inner());
    let claimed = claimed.get_or_insert_with(HashMap::new);
    match claimed.get(name) {
        None => {
            claimed.insert(name, site);
            name
        }
        Some(&owner) if owner == site => name,
        Some(&owner) => {
            let unique: &'static str = Box::leak(format!("{name}@{site}").into_boxed_str());
            tracing::warn!(
                target: "breaker_runtime",
                name,
                first = owner,
                second = site,
                renamed = unique,
                "two functions have the same default circuit breaker name; give them `name = \"…\"`"
            );
            claimed.insert(unique, site);
            unique
        }
    }
}

/// `E: From<BreakerError>`, with a compile error that says what to do when it is missing.
#[diagnostic::on_unimplemented(
    message = "`#[circuit_breaker]` turns a rejected call into `Err({Self}::from(BreakerError))`, but `{Self}` has no `From<BreakerError>`",
    label = "`{Self}` can't hold a `BreakerError`",
    note = "implement `From<breaker_runtime::BreakerError>` for `{Self}` (with thiserror: a variant `#[error(transparent)] Breaker(#[from] BreakerError)`), or give the attribute a `fallback = …`"
)]
pub trait ErrorFromBreaker {
    /// `Self::from(error)`.
    fn from_breaker(error: BreakerError) -> Self;
}

impl<E: From<BreakerError>> ErrorFromBreaker for E {
    #[inline]
    fn from_breaker(error: BreakerError) -> Self {
        E::from(error)
    }
}

/// [`into_error`] with [`ErrorFromBreaker`]'s message when the conversion is missing.
#[inline]
pub fn into_error_checked<E: ErrorFromBreaker>(err: CallError<E>) -> E {
    match err {
        CallError::Breaker(b) => E::from_breaker(b),
        CallError::Inner(e) => e,
    }
}

/// Implemented by `Result` only: the compile error for an annotated function that returns
/// something else (through an alias the macro could not see through).
#[diagnostic::on_unimplemented(
    message = "`#[circuit_breaker]` needs a function that returns `Result<T, E>`, not `{Self}`",
    label = "not a `Result`",
    note = "a breaker records `Ok` as a success and `Err` as a failure"
)]
pub trait ReturnsResult {
    /// `E`: what `failure_if` and `ignore_if` look at.
    type Error;
}

impl<T, E> ReturnsResult for Result<T, E> {
    type Error = E;
}

/// Compiles only for a `Result`; never called at run time (it sits in a dead branch).
#[inline(always)]
pub fn returns_result<R: ReturnsResult>(_: &R) {}

/// Starts `breaker`'s generation counter at `bits` (its low 58 bits, the generation's width),
/// so tests can drive it across its whole range and past the wrap without 2^58 transitions.
#[cfg(feature = "test-util")]
pub fn start_generation_at(breaker: &CircuitBreaker, bits: u64) {
    breaker.start_generation_at(bits);
}

/// Sets loom's clock to `ms` after the start (loom models only: outside the racing threads).
#[cfg(loom)]
pub fn loom_set_clock_ms(ms: u64) {
    crate::clock::set_now_ms(crate::clock::START_MS + ms);
}
