//! How the attribute writes its function's error as the cause of an open (see
//! [`CircuitBreaker::open_cause`](crate::CircuitBreaker::open_cause)): with `E`'s `Display`
//! when `E` has one, as nothing otherwise. Chosen at compile time by method lookup, since
//! the attribute cannot see whether `E` is `Display`: on a `&&Probe<E>`, lookup tries the
//! receiver as it is first, whose impl needs `E: Display`, then `&Probe<E>`, whose impl
//! needs nothing. (The probe is handed over as `&&Probe<E>` rather than borrowed twice in
//! the generated code, which clippy would call a needless borrow.)
//!
//! ```text
//! call_sync(breaker, verdict, || body, |probe| {
//!     use __private::DescribeError as _;
//!     probe.describer()
//! })
//! ```
//!
//! The closure comes last, so the compiler checks it once the body has fixed `E`.

use std::fmt;
use std::marker::PhantomData;

/// Writes an error as an open's cause; writing nothing means no cause.
pub type Describe<E> = fn(&E, &mut fmt::Formatter<'_>) -> fmt::Result;

/// A type to look the method up on; holds nothing.
pub struct Probe<E: ?Sized>(PhantomData<fn(&E)>);

impl<E> Probe<E> {
    /// The probe.
    #[allow(clippy::new_without_default)] // made only by generated code, never defaulted
    pub const fn new() -> Self {
        Probe(PhantomData)
    }
}

/// The writer of an `E`, picked by which receiver lookup reaches first.
pub trait DescribeError<E> {
    /// `E`'s `Display`, or nothing.
    fn describer(self) -> Describe<E>;
}

impl<E: fmt::Display> DescribeError<E> for &&Probe<E> {
    #[inline(always)]
    fn describer(self) -> Describe<E> {
        crate::call::display::<E>
    }
}

impl<E> DescribeError<E> for &Probe<E> {
    #[inline(always)]
    fn describer(self) -> Describe<E> {
        crate::call::nothing::<E>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Written<E>(E, Describe<E>);

    impl<E> fmt::Display for Written<E> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            (self.1)(&self.0, f)
        }
    }

    struct NoDisplay;

    /// What the generated closure does, for a type known here.
    macro_rules! describer {
        ($e:ty) => {{
            let probe: &&Probe<$e> = &&Probe::new();
            probe.describer()
        }};
    }

    fn in_generic_code<E>(err: E) -> String {
        Written(err, describer!(E)).to_string()
    }

    fn in_code_bound_by_error<E: std::error::Error>(err: E) -> String {
        Written(err, describer!(E)).to_string()
    }

    #[test]
    fn a_display_type_is_written_and_any_other_is_not() {
        let d = describer!(String);
        assert_eq!(Written("refused".to_owned(), d).to_string(), "refused");
        let d = describer!(NoDisplay);
        assert_eq!(Written(NoDisplay, d).to_string(), "");
        let d = describer!(&str);
        assert_eq!(Written("borrowed", d).to_string(), "borrowed");
    }

    #[test]
    fn generic_code_uses_display_only_where_its_bounds_promise_it() {
        assert_eq!(in_generic_code("unbounded".to_owned()), "");
        let io = std::io::Error::other("bounded");
        assert_eq!(in_code_bound_by_error(io), "bounded");
    }
}
