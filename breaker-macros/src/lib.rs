//! The `#[circuit_breaker]` attribute. Use it through `breaker_runtime::circuit_breaker`; see
//! [`macro@circuit_breaker`] for its arguments, its diagnostics and what an annotated function
//! becomes.
//!
//! The crate is laid out one job per file: `args` parses the arguments, `validate` checks
//! the rules between them, `item` reads the function and tells its shape (async, sync,
//! `#[async_trait]` output), `expand` writes the new body; `duration` writes durations as
//! code and `diag` collects the errors. The rules themselves (the arguments, their limits,
//! defaults and checks, duration strings, "did you mean") are `breaker_spec`'s, shared with
//! the runtime's config loader so both say the same thing.

mod args;
mod diag;
mod duration;
mod expand;
mod item;
mod validate;

use proc_macro::TokenStream;

/// Puts a function behind a circuit breaker.
///
/// Write it on a function or method that returns `Result<T, E>` (under any alias):
///
/// ```
/// use breaker_runtime::{circuit_breaker, BreakerError};
///
/// #[derive(Debug)]
/// enum AppError {
///     Down,
///     Breaker(BreakerError),
/// }
///
/// impl From<BreakerError> for AppError {
///     fn from(e: BreakerError) -> Self {
///         AppError::Breaker(e)
///     }
/// }
///
/// #[circuit_breaker(name = "quotes", failure_threshold = 2, reset_timeout = "30s")]
/// async fn fetch_quote(symbol: &str) -> Result<f64, AppError> {
///     if symbol == "ACME" { Ok(101.5) } else { Err(AppError::Down) }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// assert_eq!(fetch_quote("ACME").await.unwrap(), 101.5);
/// assert!(fetch_quote("?").await.is_err());
/// assert!(fetch_quote("?").await.is_err());
/// // Two failures in a row: the breaker is open and the body does not run.
/// assert!(matches!(fetch_quote("ACME").await, Err(AppError::Breaker(BreakerError::Open { .. }))));
/// # }
/// ```
///
/// The function gets one breaker, created on its first call, registered in
/// `breaker_runtime::registry()` under its name and kept in a `static` inside the function,
/// so later calls reach it with one atomic load. Functions with the same `name` share a
/// breaker. A rejected call never runs the body.
///
/// # Arguments
///
/// All optional; each is also a method of `BreakerConfig::builder()` and a key in config files.
///
/// | argument | value | meaning | default |
/// |---|---|---|---|
/// | `name` | string | registry key | the function's path (below) |
/// | `failure_threshold` | integer ≥ 1 | consecutive failures that open the breaker | 5 when no `failure_rate` |
/// | `failure_rate` | float in (0, 1] | open when failures / calls in the window reach it | off |
/// | `minimum_calls` | integer ≥ 1 | calls in the window before a rate can open it | 10 |
/// | `window` | integer ≤ 65535, or duration | the last N calls, or the calls of the last duration | 100 |
/// | `slow_call` | duration | a call taking at least this long is slow | off |
/// | `slow_call_rate` | float in (0, 1] | open when slow calls / calls reach it; needs `slow_call` | 1.0 |
/// | `success_threshold` | integer in 1..=65535 | half-open successes that close it | 2 |
/// | `half_open_max_calls` | integer in 1..=65535 | calls let through at once in half-open | `success_threshold` |
/// | `reset_timeout` | duration | how long it stays open before probing | `"30s"` |
/// | `backoff` | `fixed`, `linear(step = D, max = D)`, `exponential(multiplier = F, max = D)`, each with optional `jitter = F` | how `reset_timeout` grows on each re-open | `fixed` |
/// | `half_open_timeout` | duration | half-open with no verdict this long re-opens | `"60s"` |
/// | `call_timeout` | duration | cut a call running this long (`async fn` only) | off |
/// | `failure_if` | path to `fn(&E) -> bool` | which errors count as failures (the rest as successes) | every `Err` |
/// | `ignore_if` | path to `fn(&E) -> bool` | errors not recorded at all | none |
/// | `classify` | path to `fn(&Result<T, E>) -> Outcome` | the whole verdict, so an `Ok` can be a failure (an `Ok(response)` with status 503); not with `failure_if` / `ignore_if` | none |
/// | `fallback` | path | called instead of returning a breaker error or a failure | none |
/// | `crate` | path | where the runtime is, for crates that re-export it | `::breaker_runtime` |
///
/// Durations are string literals checked when the macro expands: `"250ms"`, `"30s"`, `"5m"`,
/// `"1h"`, `"1m30s"`, `"1.5s"` (units `ns`, `us`/`µs`, `ms`, `s`, `m`, `h`, `d`; longer than
/// zero and at most a year, a time `window` at least 10ms; `reset_timeout = "0s"` probes at
/// once). Integers, floats and paths are Rust tokens. The same rules and messages apply to
/// config files (they are `breaker-spec`'s, which both crates read). Every
/// misuse is a compile error at the token that is wrong, and the function is still emitted
/// as written, so the rest of the crate keeps type-checking.
///
/// # Default name
///
/// The function's path:
///
/// - a free function: `module::path::function` (from `module_path!()`);
/// - a method, or an associated function whose signature mentions `Self`: its path with the
///   impl around it, `app::Client::fetch` in an inherent impl and
///   `<app::Client as app::Api>::get` in a trait impl (the attribute sees only the function,
///   but an item it nests in the body has the method's full path as its `type_name`).
///   Type parameters of a generic inherent impl are left out, so all its instantiations
///   share one name and one breaker (`app::Repo::get` for `Repo<A>` and `Repo<B>`); concrete
///   ones stay (`impl Repo<u8>` is another function than `impl Repo<u16>`). A trait's default
///   method, a blanket impl's method and a generic trait impl's get one breaker per
///   implementing type, `<app::Db as app::Store>::get`, `<app::W<u8> as app::Api>::get`.
///
/// A breaker whose name is known when the program starts is listed by the registry from
/// then on (see the runtime's docs): a `name`, a free function, a trait impl's method for a
/// type without type parameters, a method with a visibility (`pub`, `pub(crate)`: only an
/// inherent impl has one). A private method of an inherent impl, a default method and a
/// blanket impl's method are registered at their first call, when `Self` tells their name:
/// a private method's path reads like a trait's default method's.
///
/// Types are told apart by `core::any::type_name`, which has limits: two types that print
/// alike (two closures under a blanket impl, two local types of one name) share a breaker,
/// a generic trait's default method has one breaker per implementing type, not one per
/// trait instantiation (`Api<u8>` and `Api<u16>` for one type share it), and a method of
/// an impl on a trait object (`impl dyn Api`) is registered at its first call, named
/// `dyn app::Api::method`. Give such methods a `name` where that matters.
///
/// An associated function with no `Self` in its signature (no receiver, no `Self` type) is
/// named like a free function, `module::path::function`: the attribute cannot tell it is in
/// an impl. In a trait's default method of that kind the one breaker serves every
/// implementor, since nothing at run time says which type called; give it a `name` per
/// implementor (override the method) or a receiver.
///
/// If two different functions end up with the same default name (an associated function
/// without `Self` in its signature next to a free function of the same name, two functions
/// one outer macro invocation wrote), the first one to be called keeps the name and the
/// other gets its source location appended, `app::Client::get@src/client.rs:42:14`, with a
/// warning in the log. Give such functions a `name` to choose the name yourself.
///
/// # What the function becomes
///
/// The signature, attributes and docs stay exactly as written; only the body is replaced.
/// For
///
/// ```text
/// #[circuit_breaker(failure_threshold = 3)]
/// async fn fetch(id: u32) -> Result<Item, AppError> { load(id).await }
/// ```
///
/// the body becomes (paths shortened; the real ones are absolute):
///
/// ```text
/// async fn fetch(id: u32) -> Result<Item, AppError> {
///     let __breaker = {
///         static __BREAKER: BreakerCell = BreakerCell::new();
///         __BREAKER.get_or_register_default(
///             || concat!(module_path!(), "::", "fetch"),   // the default name
///             concat!(file!(), ":", line!(), ":", column!()),
///             || BreakerConfig::builder().failure_threshold(3u32).build(),
///         )
///     };
///     match call_async(__breaker, Classifier::new(None, None), async move {
///         if let Some(__ret) = None::<Result<Item, AppError>> {   // gives `?` its type
///             returns_result(&__ret);
///             return __ret;
///         }
///         { load(id).await }                                      // the body, as written
///     }, |__probe| {             // how an error that opens the breaker is written as its cause:
///         use DescribeError as _;        // `AppError`'s `Display`, or nothing if it has none
///         __probe.describer()            // (checked after the body, which fixes `AppError`)
///     }).await {
///         Ok(__value) => Ok(__value),
///         Err(__error) => Err(into_error_checked(__error)),       // E::from(BreakerError)
///     }
/// }
/// ```
///
/// Next to the `static`, `inventory::submit!` declares the breaker (its name, and a function
/// that registers it through `__BREAKER`), so the registry lists it from program start and a
/// look before the first call builds it exactly as the call would. (A method without a
/// `name` is not declared: its name comes from its `Self`, which only a call knows.)
/// With `name = "…"` the registration is `__BREAKER.get_or_register("…", || …)`. With
/// `failure_if = f` / `ignore_if = g`, `let __failure_if: fn(&E) -> bool = f;` comes first (so
/// a predicate of the wrong type is an error at its path) and the classifier is
/// `Classifier::new(Some(__failure_if), …)`. With `fallback = f`, the async block is not
/// `move` (the body borrows what it does not consume) and the error arm is
/// `Err(__error) => f(id, __error).await`. The `static` lives in the function, so every
/// instantiation of a generic function shares it.
///
/// A plain `fn` gets `call_sync` and a closure instead of `call_async` and an async block. An
/// `#[async_trait]` method (whose expansion this attribute sees) keeps async-trait's
/// `Box::pin(async move { … })` and has the same code in place of the user's body inside it.
/// Generated locals use `Span::mixed_site()`, so they can't clash with the body's names, and
/// the body sits in its own block, so its `use`s can't shadow anything generated.
///
/// # Errors and fallbacks
///
/// Without `fallback`, a rejected or timed-out call returns `Err(E::from(breaker_error))`, so
/// `E: From<BreakerError>` is required (thiserror's `#[from]`, `anyhow::Error` and
/// `Box<dyn Error + Send + Sync>` have it); otherwise the compile error points at the return
/// type and says what to implement.
///
/// With `fallback = f` (a free function, `Self::method` or `Type::method`), a rejected,
/// timed-out or failed call returns `f(arguments…, CallError<E>)` (`.await`ed when the
/// function is async), where the arguments are the function's own, receiver included. `f`
/// returns the function's return type. The body then only borrows the arguments it does not
/// consume, so they can be handed on; a body that consumes an argument is a compile error
/// ("use of moved value") pointing at the `fallback` path. Parameters written as patterns
/// (`(a, b): (u8, u8)`) can't be handed on and are an error with `fallback`.
///
/// The future of an annotated `async fn` is `Send` whenever the original one was.
#[proc_macro_attribute]
pub fn circuit_breaker(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = diag::Errors::default();
    let args = args::parse(args.into(), &mut errors);
    let item2: proc_macro2::TokenStream = item.clone().into();
    let function: item::Function = match syn::parse2(item2) {
        Ok(function) => function,
        Err(error) => {
            errors.push(error);
            let mut out: proc_macro2::TokenStream = item.into();
            out.extend(errors.to_compile_errors());
            return out.into();
        }
    };
    let shape = function.shape();
    validate::check(&args, &function, &shape, &mut errors);
    let result = function.result_type(&shape).ok_or_else(|| {
        syn::Error::new(
            function.sig.ident.span(),
            format!(
                "`#[circuit_breaker]` needs a function that returns `Result<T, E>`; `{}` returns `()`",
                function.sig.ident
            ),
        )
    });
    let result = result.and_then(|ty| {
        item::result_type(&ty)
            .map_err(|message| syn::Error::new(syn::spanned::Spanned::span(&ty), message))
    });
    let arguments = if args.fallback.is_some() {
        function.argument_names(&shape).unwrap_or_default()
    } else {
        Vec::new()
    };
    match result {
        Ok(result) if errors.is_empty() => expand::expand(expand::Plan {
            args: &args,
            function: &function,
            shape,
            result,
            arguments,
        })
        .into(),
        other => {
            if let Err(error) = other {
                errors.push(error);
            }
            let mut out: proc_macro2::TokenStream = item.into();
            out.extend(errors.to_compile_errors());
            out.into()
        }
    }
}
