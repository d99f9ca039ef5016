//! Single values: strings, counts, rates, durations, windows and paths, read from their
//! Rust literals and checked by `breaker_spec::check`. Each message is "`key` <the spec's
//! reason>" at the value, the reason the config loader gives for the same value.

use super::{example, WindowArg};
use crate::diag::Errors;
use breaker_spec::{check, duration as spec_duration};
use std::time::Duration;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ExprPath, Ident, Lit, LitStr, Path, UnOp};

fn literal(value: &Expr) -> Option<&Lit> {
    match value {
        Expr::Lit(ExprLit { lit, .. }) => Some(lit),
        Expr::Group(group) => literal(&group.expr),
        _ => None,
    }
}

/// A negative literal: `-1`, `-0.5`.
fn is_negative(value: &Expr) -> bool {
    matches!(value, Expr::Unary(unary) if matches!(unary.op, UnOp::Neg(_)) && literal(&unary.expr).is_some())
}

pub(super) fn string(key: &Ident, value: &Expr, errors: &mut Errors) -> Option<LitStr> {
    if let Some(Lit::Str(s)) = literal(value) {
        return Some(s.clone());
    }
    errors.at(
        value.span(),
        format!("`{key}` takes a string: `{key} = {}`", example(key)),
    );
    None
}

/// A count in `1..=max`.
pub(super) fn integer(key: &Ident, value: &Expr, max: u64, errors: &mut Errors) -> Option<u32> {
    let span = value.span();
    match literal(value) {
        Some(Lit::Int(int)) => {
            // Past u64 is past any limit: check it as the largest u64.
            let n = int.base10_parse::<u64>().unwrap_or(u64::MAX);
            match check::count(n, max) {
                Ok(()) => return u32::try_from(n).ok(),
                Err(reason) => errors.at(span, format!("`{key}` {reason}")),
            }
        }
        Some(Lit::Str(s)) => {
            let text = s.value();
            let written = if text.trim().parse::<u64>().is_ok() {
                text.trim().to_owned()
            } else {
                example(key).to_owned()
            };
            errors.at(
                span,
                format!("`{key}` takes an integer, not a string: write `{key} = {written}`"),
            );
        }
        Some(Lit::Float(_)) => errors.at(
            span,
            format!(
                "`{key}` takes a whole number, e.g. `{key} = {}`",
                example(key)
            ),
        ),
        // A negative count is below 1.
        _ if is_negative(value) => errors.at(
            span,
            format!("`{key}` {}", check::count(0, max).unwrap_err()),
        ),
        _ => errors.at(
            span,
            format!(
                "`{key}` takes an integer literal, e.g. `{key} = {}`",
                example(key)
            ),
        ),
    }
    None
}

/// A number as `f64`, from an integer or float literal, negative ones included.
pub(super) fn number(value: &Expr) -> Option<f64> {
    if let Expr::Unary(unary) = value {
        if matches!(unary.op, UnOp::Neg(_)) {
            return number(&unary.expr).map(|n| -n);
        }
    }
    match literal(value)? {
        Lit::Float(f) => f.base10_parse().ok(),
        Lit::Int(i) => i.base10_parse().ok(),
        _ => None,
    }
}

/// A rate: a fraction in (0, 1].
pub(super) fn rate(key: &Ident, value: &Expr, errors: &mut Errors) -> Option<f64> {
    let span = value.span();
    match number(value) {
        Some(r) => match check::rate(r) {
            Ok(()) => return Some(r),
            Err(reason) => errors.at(span, format!("`{key}` {reason}")),
        },
        None => match literal(value) {
            Some(Lit::Str(_)) => errors.at(
                span,
                format!("`{key}` takes a number, not a string: write `{key} = 0.5`"),
            ),
            _ => errors.at(
                span,
                format!("`{key}` takes a number in (0, 1], e.g. `{key} = 0.5`"),
            ),
        },
    }
    None
}

/// A duration string, at most a year and, unless `zero_allowed`, longer than zero.
pub(super) fn duration(
    key: &Ident,
    value: &Expr,
    zero_allowed: bool,
    errors: &mut Errors,
) -> Option<Duration> {
    let span = value.span();
    match literal(value) {
        Some(Lit::Str(s)) => match spec_duration::parse(&s.value()) {
            Ok(d) => match check::duration(d, zero_allowed) {
                Ok(()) => return Some(d),
                Err(reason) => errors.at(span, format!("`{key}` {reason}")),
            },
            Err(message) => errors.at(span, format!("bad duration for `{key}`: {message}")),
        },
        Some(Lit::Int(i)) => errors.at(
            span,
            format!(
                "`{key}` takes a duration string with a unit: write `{key} = \"{n}s\"` or `{key} = \"{n}ms\"`",
                n = i.base10_digits()
            ),
        ),
        _ => errors.at(
            span,
            format!("`{key}` takes a duration string, e.g. `{key} = \"30s\"`"),
        ),
    }
    None
}

/// A count window (`100`) or a time window (`"60s"`).
pub(super) fn window(key: &Ident, value: &Expr, errors: &mut Errors) -> Option<WindowArg> {
    let span = value.span();
    let refused =
        |errors: &mut Errors, reason: String| errors.at(span, format!("`{key}` {reason}"));
    match literal(value) {
        Some(Lit::Str(s)) => match spec_duration::parse(&s.value()) {
            Ok(d) => match check::window_time(d) {
                Ok(()) => return Some(WindowArg::Time(d)),
                Err(reason) => refused(errors, reason),
            },
            Err(message) => errors.at(span, format!("bad duration for `{key}`: {message}")),
        },
        Some(Lit::Int(int)) => {
            let n = int.base10_parse::<u64>().unwrap_or(u64::MAX);
            match check::window_calls(n) {
                Ok(()) => return u32::try_from(n).ok().map(WindowArg::Calls),
                Err(reason) => refused(errors, reason),
            }
        }
        _ if is_negative(value) => refused(errors, check::window_calls(0).unwrap_err()),
        _ => errors.at(
            span,
            "`window` takes a number of calls (`window = 100`) or a duration string (`window = \"60s\"`)",
        ),
    }
    None
}

/// The path of a function.
pub(super) fn path(key: &Ident, value: &Expr, errors: &mut Errors) -> Option<ExprPath> {
    match value {
        Expr::Path(path) => return Some(path.clone()),
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => {
            let text = s.value();
            let written = if syn::parse_str::<Path>(&text).is_ok() {
                text
            } else {
                example(key).to_owned()
            };
            errors.at(
                value.span(),
                format!("`{key}` takes a path, not a string: write `{key} = {written}`"),
            );
        }
        _ => errors.at(
            value.span(),
            format!(
                "`{key}` takes the path of a function, e.g. `{key} = {}`",
                example(key)
            ),
        ),
    }
    None
}
