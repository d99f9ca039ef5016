//! What `#[circuit_breaker]`'s `fallback = …` calls go through: checks that put the error for a
//! fallback of the wrong shape at its path, saying what it must look like.

/// A fallback's answer, checked to be of the function's return type `R`: the compile error
/// says what a fallback must look like, at the fallback's path.
#[diagnostic::on_unimplemented(
    message = "this fallback returns `{Self}`, but the function returns `{R}`",
    label = "a fallback must return `{R}`",
    note = "a fallback takes the function's arguments (the receiver included), then a `CallError<E>`, and returns the function's return type; it is `async` exactly when the function is"
)]
pub trait FallbackReturns<R> {
    /// `self`, as the function's return type.
    fn into_return(self) -> R;
}

impl<R> FallbackReturns<R> for R {
    #[inline(always)]
    fn into_return(self) -> R {
        self
    }
}

/// What the fallback returned, as the function's return type `R` (see [`FallbackReturns`]).
#[inline(always)]
pub fn fallback_returned<R, T: FallbackReturns<R>>(answer: T) -> R {
    answer.into_return()
}

/// An async function's fallback's answer, on its way to be awaited. Method lookup on
/// `&&FallbackAnswer<O>` (see [`AwaitFallback`]) gives the future itself when `O` is one, and
/// a [`NotAFuture`] otherwise, whose `.await` fails with a message that says the fallback must
/// be `async`, at the fallback's path (rather than "is not a future" at the attribute).
pub struct FallbackAnswer<O>(std::cell::Cell<Option<O>>);

/// Wraps an async function's fallback's answer for [`AwaitFallback`].
#[inline(always)]
pub fn fallback_answer<O>(answer: O) -> FallbackAnswer<O> {
    FallbackAnswer(std::cell::Cell::new(Some(answer)))
}

impl<O> FallbackAnswer<O> {
    fn take(&self) -> O {
        match self.0.take() {
            Some(answer) => answer,
            None => unreachable!("a fallback's answer is taken once"),
        }
    }
}

/// What to await for an async function's fallback's answer (see [`FallbackAnswer`]).
pub trait AwaitFallback {
    /// The future, or a [`NotAFuture`].
    type Awaitable;
    /// Takes the answer out.
    fn awaitable(self) -> Self::Awaitable;
}

impl<O: std::future::IntoFuture> AwaitFallback for &&FallbackAnswer<O> {
    type Awaitable = O::IntoFuture;
    #[inline(always)]
    fn awaitable(self) -> O::IntoFuture {
        self.take().into_future()
    }
}

impl<O> AwaitFallback for &FallbackAnswer<O> {
    type Awaitable = NotAFuture<O>;
    #[inline(always)]
    fn awaitable(self) -> NotAFuture<O> {
        NotAFuture(self.take())
    }
}

/// A plain fallback's answer where an `async fn` awaits one: awaiting it is the compile error
/// [`FallbackMustBeAsync`] words.
pub struct NotAFuture<O>(O);

/// Implemented by nothing: the error a plain fallback of an `async fn` gets.
#[diagnostic::on_unimplemented(
    message = "this fallback returns `{Self}`, which is not a future, but the function is `async`",
    label = "the fallback of an `async fn` must be `async` too",
    note = "a fallback takes the function's arguments (the receiver included), then a `CallError<E>`, and returns the function's return type; it is `async` exactly when the function is"
)]
pub trait FallbackMustBeAsync {}

// Through `Future` (not `IntoFuture` directly), so the bound rustc reports as unmet is
// `FallbackMustBeAsync`, with its message, rather than "is not a future". No type implements
// `FallbackMustBeAsync`: this never runs.
impl<O: FallbackMustBeAsync> std::future::Future for NotAFuture<O> {
    type Output = O;
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<O> {
        std::task::Poll::Pending
    }
}

/// A fallback called with `Args`: the function's arguments, then a `CallError<E>`. The
/// attribute names `Args` from the function's signature, so a fallback that takes something
/// else is an error at its path that shows the signature expected.
pub trait Fallback<Args> {
    /// What the fallback returns (a future, for an async fallback).
    type Output;
    /// Calls the fallback.
    fn call_fallback(self, args: Args) -> Self::Output;
}

macro_rules! fallback_arity {
    ($($arg:ident)*) => {
        impl<F, Out, $($arg,)*> Fallback<($($arg,)*)> for F
        where
            F: FnOnce($($arg),*) -> Out,
        {
            type Output = Out;
            #[inline(always)]
            #[allow(non_snake_case)]
            fn call_fallback(self, ($($arg,)*): ($($arg,)*)) -> Out {
                self($($arg),*)
            }
        }
    };
}

fallback_arity!(A);
fallback_arity!(A B);
fallback_arity!(A B C);
fallback_arity!(A B C D);
fallback_arity!(A B C D G);
fallback_arity!(A B C D G H);
fallback_arity!(A B C D G H I);
fallback_arity!(A B C D G H I J);
fallback_arity!(A B C D G H I J K);
fallback_arity!(A B C D G H I J K L);
fallback_arity!(A B C D G H I J K L M);
fallback_arity!(A B C D G H I J K L M N);
fallback_arity!(A B C D G H I J K L M N O);
fallback_arity!(A B C D G H I J K L M N O P);
fallback_arity!(A B C D G H I J K L M N O P Q);
fallback_arity!(A B C D G H I J K L M N O P Q S);

/// `fallback`, checked to take `Args` (see [`Fallback`]), ready to call with the tuple of them.
/// The check is made here, once: calling the result checks nothing again, so a fallback of the
/// wrong shape is one error, at its path.
#[inline(always)]
pub fn fallback_taking<Args, Out, F>(fallback: F) -> CheckedFallback<F, Args, Out>
where
    F: Fallback<Args, Output = Out>,
{
    CheckedFallback {
        fallback,
        call: <F as Fallback<Args>>::call_fallback,
    }
}

/// A fallback that [`fallback_taking`] checked.
pub struct CheckedFallback<F, Args, Out> {
    fallback: F,
    call: fn(F, Args) -> Out,
}

impl<F, Args, Out> CheckedFallback<F, Args, Out> {
    /// Calls the fallback with `args`.
    #[inline(always)]
    pub fn call(self, args: Args) -> Out {
        (self.call)(self.fallback, args)
    }
}
