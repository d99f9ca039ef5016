//! The only items `#[circuit_breaker]`'s generated code names. Not public API: they change
//! without notice.

use crate::error::BreakerError;
use std::future::Future;
use std::sync::{Arc, OnceLock};

mod describe;
mod fallback;

pub use crate::declared::Declared;
pub use crate::{Backoff, BreakerConfig, CallError, CircuitBreaker, Outcome, Window};
pub use ::core;
pub use ::inventory;
pub use ::std;
pub use describe::{Describe, DescribeError, Probe};
pub use fallback::{
    fallback_answer, fallback_returned, fallback_taking, AwaitFallback, CheckedFallback, Fallback,
    FallbackAnswer, FallbackMustBeAsync, FallbackReturns, NotAFuture,
};

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

impl BreakerCell {
    /// For a [`Declared`] breaker: registers it as [`get_or_register`](Self::get_or_register)
    /// does (or finds it) and returns it.
    pub fn declared(
        &'static self,
        name: &'static str,
        config: fn() -> BreakerConfig,
    ) -> Arc<CircuitBreaker> {
        self.get_or_register(name, config);
        self.arc()
    }

    /// For a [`Declared`] breaker without a `name`: registers it as
    /// [`get_or_register_default`](Self::get_or_register_default) does (or finds it) and
    /// returns it.
    pub fn declared_default(
        &'static self,
        name: fn() -> &'static str,
        site: &'static str,
        config: fn() -> BreakerConfig,
    ) -> Arc<CircuitBreaker> {
        self.get_or_register_default(name, site, config);
        self.arc()
    }

    fn arc(&'static self) -> Arc<CircuitBreaker> {
        match self.cell.get() {
            Some(b) => b.clone(),
            None => unreachable!("registered just before"),
        }
    }
}

/// The breakers of one annotated method without a `name`: one per implementing type. A
/// `static` in a trait's default method, or in a blanket or generic impl, is one for every
/// `Self`, so a plain [`BreakerCell`] would hand every implementor the breaker of the first
/// type that called: `B` rejected because `A` failed. Types are told apart by
/// `type_name::<Self>()` without generic arguments (`Repo<A>` and `Repo<B>` share
/// `…::Repo::get`, as all instantiations of one method do).
#[derive(Debug)]
pub struct MethodBreakerCell {
    /// The first type's full `type_name` and breaker: the one lookup on the hot path.
    first: OnceLock<(&'static str, &'static CircuitBreaker)>,
    /// Every type seen, by full `type_name`.
    all: std::sync::Mutex<Vec<(&'static str, &'static CircuitBreaker)>>,
}

impl Default for MethodBreakerCell {
    fn default() -> Self {
        Self::new()
    }
}

impl MethodBreakerCell {
    /// An empty cell, for a `static`.
    pub const fn new() -> Self {
        MethodBreakerCell {
            first: OnceLock::new(),
            all: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The breaker of `method` for the type `T` (the method's `Self`), named
    /// `path::Type::method`; `site` is the method's `file:line:column`.
    #[inline]
    pub fn get_or_register<T: ?Sized>(
        &'static self,
        method: &'static str,
        site: &'static str,
        config: fn() -> BreakerConfig,
    ) -> &'static CircuitBreaker {
        let ty = ::core::any::type_name::<T>();
        match self.first.get() {
            // One type (the common case: a concrete impl): the same string, the same address.
            Some(&(first, b)) if first.as_ptr() == ty.as_ptr() && first.len() == ty.len() => b,
            _ => self.for_type(ty, || method_name::<T>(method), site, config),
        }
    }

    #[cold]
    #[inline(never)]
    fn for_type(
        &'static self,
        ty: &'static str,
        name: impl FnOnce() -> &'static str,
        site: &'static str,
        config: fn() -> BreakerConfig,
    ) -> &'static CircuitBreaker {
        let mut all = self.all.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&(_, b)) = all.iter().find(|(t, _)| *t == ty) {
            return b;
        }
        let name = claim_name(name(), self as *const Self as usize, site);
        let breaker =
            crate::registry().get_or_create_named(&crate::Name::from_static(name), config());
        // Leaked once per method and type, like the method's name: bounded by the program's
        // code, and a `&'static` keeps the hot path free of reference counts.
        let breaker: &'static CircuitBreaker = Box::leak(Box::new(breaker));
        all.push((ty, breaker));
        let _ = self.first.set((ty, breaker));
        breaker
    }
}

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
            // The cell's address is the function's identity: every annotated function has a
            // cell of its own, even two that one outer macro invocation wrote at one site.
            None => self.register(
                claim_name(name(), self as *const Self as usize, site),
                config,
            ),
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

/// Reserves a default name for the function whose cell is at `identity` (written at
/// `site`). Two different functions that derive the same default name (say an inherent and a
/// trait method of one type, both `get`, perhaps written by one macro invocation, so at one
/// site) must not share a breaker by accident: the first keeps the name, the later one gets
/// `name@site` (or `name@site#2`, …) and a warning. The renamed name is leaked for the reason
/// [`method_name`] gives: once per annotated function at most.
pub fn claim_name(name: &'static str, identity: usize, site: &'static str) -> &'static str {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static CLAIMED: Mutex<Option<HashMap<&'static str, usize>>> = Mutex::new(None);
    let mut claimed = CLAIMED.lock().unwrap_or_else(|e| e.into_inner());
    let claimed = claimed.get_or_insert_with(HashMap::new);
    match claimed.get(name) {
        None => {
            claimed.insert(name, identity);
            name
        }
        Some(&owner) if owner == identity => name,
        Some(_) => {
            let mut unique = format!("{name}@{site}");
            let mut n = 1;
            while claimed.contains_key(unique.as_str()) {
                n += 1;
                unique = format!("{name}@{site}#{n}");
            }
            let unique: &'static str = Box::leak(unique.into_boxed_str());
            tracing::warn!(
                target: "breaker_runtime",
                name,
                site,
                renamed = unique,
                "two functions have the same default circuit breaker name; give them `name = \"…\"`"
            );
            claimed.insert(unique, identity);
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
