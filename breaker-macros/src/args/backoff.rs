//! `backoff = fixed | linear(step = D, max = D) | exponential(multiplier = F, max = D)`, each
//! with an optional `jitter = F`: read from Rust tokens by the grammar of
//! `breaker_spec::backoff`, which the config loader reads its strings and tables by.

use super::value::{duration, number};
use super::{BackoffArg, BackoffKind};
use crate::diag::Errors;
use breaker_spec::backoff::{self as grammar, HINT};
use breaker_spec::check;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Ident, Lit};

pub(super) fn backoff(value: &Expr, errors: &mut Errors) -> Option<BackoffArg> {
    let (kind, call_args): (&Ident, Vec<&Expr>) = match value {
        Expr::Path(p) if p.path.get_ident().is_some() => (p.path.get_ident()?, Vec::new()),
        Expr::Call(call) => match &*call.func {
            Expr::Path(p) if p.path.get_ident().is_some() => {
                (p.path.get_ident()?, call.args.iter().collect())
            }
            other => {
                errors.at(other.span(), format!("unknown backoff: {HINT}"));
                return None;
            }
        },
        Expr::Lit(ExprLit {
            lit: Lit::Str(_), ..
        }) => {
            errors.at(value.span(), format!("`backoff` is not a string: {HINT}"));
            return None;
        }
        _ => {
            errors.at(value.span(), format!("unknown backoff: {HINT}"));
            return None;
        }
    };
    let kind_text = kind.to_string();
    let spec = match grammar::kind(&kind_text) {
        Ok(spec) => spec,
        Err(message) => {
            errors.at(kind.span(), message);
            return None;
        }
    };
    let before = errors.count();
    let mut found: Vec<(String, Ident, &Expr)> = Vec::new();
    for (position, arg) in call_args.into_iter().enumerate() {
        let (name, value) = match arg {
            Expr::Assign(assign) => match &*assign.left {
                Expr::Path(p) if p.path.get_ident().is_some() => {
                    (p.path.get_ident()?.clone(), &*assign.right)
                }
                other => {
                    errors.at(
                        other.span(),
                        format!("expected `name = value` in `{kind_text}(…)`"),
                    );
                    continue;
                }
            },
            // `linear("1s")`, `exponential(2.0)`: the one required argument, by position.
            positional if position == 0 && spec.required.is_some() => {
                (Ident::new(spec.required?, positional.span()), positional)
            }
            other => {
                errors.at(
                    other.span(),
                    format!("expected `name = value` in `{kind_text}(…)`"),
                );
                continue;
            }
        };
        let name_text = name.to_string();
        if let Err(message) = spec.takes(&name_text) {
            errors.at(name.span(), message);
        } else if found.iter().any(|(n, ..)| *n == name_text) {
            errors.at(
                name.span(),
                format!("duplicate `{name_text}` in `{kind_text}(…)`; keep one"),
            );
        } else {
            found.push((name_text, name, value));
        }
    }
    let get = |n: &str| {
        found
            .iter()
            .find(|(name, ..)| name == n)
            .map(|(_, key, value)| (key, *value))
    };
    let mut max = None;
    if let Some((key, value)) = get("max") {
        max = duration(key, value, false, errors);
    }
    // Something other than a number is checked as NaN, which every rule refuses, so the
    // message is the spec's reason all the same.
    let mut jitter = None;
    if let Some((key, value)) = get("jitter") {
        let j = number(value).unwrap_or(f64::NAN);
        match check::jitter(j) {
            Ok(()) => jitter = Some(j),
            Err(reason) => errors.at(value.span(), format!("`{key}` {reason}")),
        }
    }
    let kind = match spec.name {
        "fixed" => BackoffKind::Fixed,
        "linear" => match get("step") {
            Some((key, value)) => BackoffKind::Linear {
                step: duration(key, value, false, errors)?,
            },
            None => {
                errors.at(kind.span(), spec.missing_required());
                return None;
            }
        },
        _ => match get("multiplier") {
            Some((key, value)) => {
                let m = number(value).unwrap_or(f64::NAN);
                match check::multiplier(m) {
                    Ok(()) => BackoffKind::Exponential { multiplier: m },
                    Err(reason) => {
                        errors.at(value.span(), format!("`{key}` {reason}"));
                        return None;
                    }
                }
            }
            None => {
                errors.at(kind.span(), spec.missing_required());
                return None;
            }
        },
    };
    (errors.count() == before).then_some(BackoffArg { kind, max, jitter })
}
