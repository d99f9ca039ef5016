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
