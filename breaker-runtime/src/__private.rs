//! The only items `#[circuit_breaker]`'s generated code names. Not public API: they change
//! without notice.

use crate::error::BreakerError;
use std::future::Future;

mod cells;
mod describe;
mod fallback;
mod method_name;

pub use crate::declared::Declared;
pub use crate::{Backoff, BreakerConfig, CallError, CircuitBreaker, Outcome, Window};
pub use ::core;
pub use ::inventory;
pub use ::std;
pub use cells::{claim_name, declared_name, BreakerCell, MethodBreakerCell};
pub use describe::{Describe, DescribeError, Probe};
pub use fallback::{
    fallback_answer, fallback_returned, fallback_taking, AwaitFallback, CheckedFallback, Fallback,
    FallbackAnswer, FallbackMustBeAsync, FallbackReturns, NotAFuture,
};
pub use method_name::{method_declared_name, method_default_name};

/// The attribute's config, with its `failure_if`, `ignore_if` and `classify` marked given:
/// the expansion asks them per call, and the breaker's settings show them set by the code.
pub fn judged_in_the_attribute(
    config: BreakerConfig,
    failure_if: bool,
    ignore_if: bool,
    classify: bool,
) -> BreakerConfig {
    config.judged_in_the_attribute(failure_if, ignore_if, classify)
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

    /// Whether the breaker recorded `err` as a failure: only then does a fallback answer for
    /// it; an error it ignores or counts as a success goes back to the caller as it is. The
    /// breaker's own verdict (see `ERR_VERDICT`): the predicates are not asked twice.
    #[inline]
    pub fn records_failure(&self, err: &E) -> bool {
        recorded_verdict(|| self.outcome(err)) == Outcome::Failure
    }

    /// The verdict on a whole result: `Ok` is a success, an `Err` as the predicates say
    /// (remembered for [`records_failure`](Self::records_failure)).
    #[inline]
    fn verdict<T>(&self, result: &Result<T, E>) -> Outcome {
        remembered(result, |r| match r {
            Ok(_) => Outcome::Success,
            Err(e) => self.outcome(e),
        })
    }

    fn outcome(&self, err: &E) -> Outcome {
        if self.ignore_if.is_some_and(|f| f(err)) {
            Outcome::Ignored
        } else if self.failure_if.is_none_or(|f| f(err)) {
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
    describe: impl FnOnce(&&Probe<E>) -> Describe<E>,
) -> impl Future<Output = Result<T, CallError<E>>> + 'a
where
    Fut: Future<Output = Result<T, E>> + 'a,
    E: 'a,
{
    crate::call::CallFuture::made(
        breaker,
        move |_: &CircuitBreaker, r: &Result<T, E>| classifier.verdict(r),
        describe(&&Probe::new()),
        fut,
    )
}

/// Runs an annotated async fn's body under its breaker, with the attribute's `classify`.
#[inline]
pub fn call_async_classified<'a, T, E, Fut>(
    breaker: &'a CircuitBreaker,
    classify: fn(&Result<T, E>) -> Outcome,
    fut: Fut,
    describe: impl FnOnce(&&Probe<E>) -> Describe<E>,
) -> impl Future<Output = Result<T, CallError<E>>> + 'a
where
    Fut: Future<Output = Result<T, E>> + 'a,
    T: 'a,
    E: 'a,
{
    crate::call::CallFuture::made(
        breaker,
        move |_: &CircuitBreaker, r: &Result<T, E>| remembered(r, classify),
        describe(&&Probe::new()),
        fut,
    )
}

thread_local! {
    /// The verdict `classify` (or `failure_if` / `ignore_if`) gave the `Err` an annotated call
    /// on this thread returned last, for [`answer_or_outage`] (and
    /// [`Classifier::records_failure`]): the fallback gets exactly the errors the breaker recorded as
    /// failures, even from a `classify` that reads state and would answer otherwise if asked
    /// again. The breaker judges every result it gets (sync: as `f` returns; async: in the
    /// poll that completes the call), and the generated code asks right after, on the same
    /// thread with no other call in between, so what it finds is its own call's verdict.
    static ERR_VERDICT: std::cell::Cell<Option<Outcome>> = const { std::cell::Cell::new(None) };
}

/// `judge(r)`, remembered for the fallback's routing if `r` is an `Err`.
#[inline]
fn remembered<T, E>(r: &Result<T, E>, judge: impl FnOnce(&Result<T, E>) -> Outcome) -> Outcome {
    let verdict = judge(r);
    if r.is_err() {
        ERR_VERDICT.with(|v| v.set(Some(verdict)));
    }
    verdict
}

/// The verdict the breaker gave this call's `Err` (taken, so it serves once), or `ask()`'s
/// should there be none.
#[inline]
fn recorded_verdict(ask: impl FnOnce() -> Outcome) -> Outcome {
    ERR_VERDICT.with(std::cell::Cell::take).unwrap_or_else(ask)
}

/// Runs an annotated fn's body under its breaker.
#[inline]
pub fn call_sync<T, E, F>(
    breaker: &CircuitBreaker,
    classifier: Classifier<E>,
    f: F,
    describe: impl FnOnce(&&Probe<E>) -> Describe<E>,
) -> Result<T, CallError<E>>
where
    F: FnOnce() -> Result<T, E>,
{
    breaker.run_sync(
        move |r: &Result<T, E>| classifier.verdict(r),
        describe(&&Probe::new()),
        f,
    )
}

/// Runs an annotated fn's body under its breaker, with the attribute's `classify`.
#[inline]
pub fn call_sync_classified<T, E, F>(
    breaker: &CircuitBreaker,
    classify: fn(&Result<T, E>) -> Outcome,
    f: F,
    describe: impl FnOnce(&&Probe<E>) -> Describe<E>,
) -> Result<T, CallError<E>>
where
    F: FnOnce() -> Result<T, E>,
{
    breaker.run_sync(
        move |r: &Result<T, E>| remembered(r, classify),
        describe(&&Probe::new()),
        f,
    )
}

/// With `classify` and a fallback: an error the breaker does not record as a failure is an
/// answer and goes back as it is (`Ok`); one it records goes to the fallback (`Err`). The
/// verdict is the one the breaker recorded (`classify` is not asked twice); `classify` is
/// asked only should there be none.
#[inline]
pub fn answer_or_outage<T, E>(
    classify: fn(&Result<T, E>) -> Outcome,
    error: E,
) -> Result<Result<T, E>, CallError<E>> {
    let answer = Err(error);
    let verdict = recorded_verdict(|| classify(&answer));
    if verdict == Outcome::Failure {
        match answer {
            Err(e) => Err(CallError::Inner(e)),
            Ok(_) => unreachable!("an `Err` was made just above"),
        }
    } else {
        Ok(answer)
    }
}

/// The error an annotated fn without a fallback returns.
#[inline]
pub fn into_error<E: From<BreakerError>>(err: CallError<E>) -> E {
    err.flatten()
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
