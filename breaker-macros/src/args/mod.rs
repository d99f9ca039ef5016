//! The attribute's arguments: `name = "quotes", failure_threshold = 5, reset_timeout = "30s", …`.
//!
//! Each argument is `key = value`. Values are parsed as Rust expressions first (so a wrong value
//! still parses and gets a precise message), then checked against what the key takes. Parsing
//! never stops at the first problem: every bad argument is reported, each at its own tokens.
//!
//! Which keys there are, what each takes and the checks on the values are
//! `breaker_spec`'s, the rules the config loader applies too; this module reads Rust tokens
//! by them (`value.rs` the single values, `backoff.rs` the backoff).

mod backoff;
mod value;

use crate::diag::Errors;
use breaker_spec::settings::{self, Kind, NAMES};
use breaker_spec::suggest::{did_you_mean, suggestions};
use proc_macro2::{Span, TokenStream, TokenTree};
use std::time::Duration;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Expr, ExprPath, Ident, LitStr, Path, Token};

/// A value together with the key it was given under (errors about the argument point at the key).
pub(crate) struct Arg<T> {
    pub key: Ident,
    pub value: T,
}

/// `window = 100` (the last 100 calls) or `window = "60s"` (the calls of the last minute).
pub(crate) enum WindowArg {
    Calls(u32),
    Time(Duration),
}

/// `backoff = fixed | linear(step = D, max = D) | exponential(multiplier = F, max = D)`, each
/// with an optional `jitter = F`.
pub(crate) struct BackoffArg {
    pub kind: BackoffKind,
    pub max: Option<Duration>,
    pub jitter: Option<f64>,
}

pub(crate) enum BackoffKind {
    Fixed,
    Linear { step: Duration },
    Exponential { multiplier: f64 },
}

/// Every argument the attribute takes; `None` when not given.
#[derive(Default)]
pub(crate) struct Args {
    pub name: Option<Arg<LitStr>>,
    pub failure_threshold: Option<Arg<u32>>,
    pub failure_rate: Option<Arg<f64>>,
    pub minimum_calls: Option<Arg<u32>>,
    pub window: Option<Arg<WindowArg>>,
    pub slow_call: Option<Arg<Duration>>,
    pub slow_call_rate: Option<Arg<f64>>,
    pub success_threshold: Option<Arg<u32>>,
    pub half_open_max_calls: Option<Arg<u32>>,
    pub reset_timeout: Option<Arg<Duration>>,
    pub backoff: Option<Arg<BackoffArg>>,
    pub half_open_timeout: Option<Arg<Duration>>,
    pub call_timeout: Option<Arg<Duration>>,
    pub failure_if: Option<Arg<ExprPath>>,
    pub ignore_if: Option<Arg<ExprPath>>,
    pub classify: Option<Arg<ExprPath>>,
    pub fallback: Option<Arg<ExprPath>>,
    pub krate: Option<Arg<Path>>,
}

/// Parses the attribute's tokens. Returns what could be parsed; every problem is in `errors`.
pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> Args {
    let mut args = Args::default();
    let parser = |input: ParseStream| {
        args.parse_all(input, errors);
        Ok(())
    };
    if let Err(error) = parser.parse2(tokens) {
        errors.push(error);
    }
    args
}

impl Args {
    fn parse_all(&mut self, input: ParseStream, errors: &mut Errors) {
        while !input.is_empty() {
            if let Err(error) = self.parse_one(input, errors) {
                errors.push(error);
                skip_to_comma(input);
            }
            if !input.is_empty() {
                if let Err(error) = input.parse::<Token![,]>() {
                    errors.push(error);
                    skip_to_comma(input);
                    let _ = input.parse::<Option<Token![,]>>();
                }
            }
        }
    }

    /// One `key = value`. Value errors go to `errors` (the tokens are consumed either way);
    /// a syntax error is returned and the caller skips to the next comma.
    fn parse_one(&mut self, input: ParseStream, errors: &mut Errors) -> syn::Result<()> {
        let key = input.call(Ident::parse_any).map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected an argument like `failure_threshold = 5` or `reset_timeout = \"30s\"`",
            )
        })?;
        let key_text = key.to_string();
        let Some(setting) = settings::find(&key_text) else {
            let hint = did_you_mean(&suggestions(&key_text, NAMES));
            let message = if hint.is_empty() {
                format!(
                    "unknown argument `{key_text}`; the arguments are {}",
                    NAMES.join(", ")
                )
            } else {
                format!("unknown argument `{key_text}`: {hint}")
            };
            errors.at(key.span(), message);
            if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
            }
            skip_to_comma(input);
            return Ok(());
        };
        if !input.peek(Token![=]) {
            return Err(syn::Error::new(
                key.span(),
                format!(
                    "`{key_text}` needs a value: `{key_text} = {}`",
                    setting.example
                ),
            ));
        }
        input.parse::<Token![=]>()?;
        if setting.kind == Kind::CratePath {
            let path = input.call(Path::parse_mod_style)?;
            set(&mut self.krate, key, path, errors);
            return Ok(());
        }
        let mut value: Expr = input.parse()?;
        // A `macro_rules!` fragment (`$fb:path`, `$n:expr`) arrives in an invisible group:
        // read what is inside, as if written here.
        while let Expr::Group(group) = value {
            value = *group.expr;
        }
        match setting.kind {
            Kind::Name => {
                if let Some(name) = value::string(&key, &value, errors) {
                    if name.value().is_empty() {
                        errors.at(name.span(), "`name` can't be empty");
                    }
                    set(&mut self.name, key, name, errors);
                }
            }
            Kind::Count { max } => {
                if let Some(n) = value::integer(&key, &value, max, errors) {
                    let slot = match key_text.as_str() {
                        "failure_threshold" => &mut self.failure_threshold,
                        "minimum_calls" => &mut self.minimum_calls,
                        "success_threshold" => &mut self.success_threshold,
                        _ => &mut self.half_open_max_calls,
                    };
                    set(slot, key, n, errors);
                }
            }
            Kind::Rate => {
                if let Some(rate) = value::rate(&key, &value, errors) {
                    let slot = match key_text.as_str() {
                        "failure_rate" => &mut self.failure_rate,
                        _ => &mut self.slow_call_rate,
                    };
                    set(slot, key, rate, errors);
                }
            }
            Kind::Duration { zero_allowed } => {
                if let Some(d) = value::duration(&key, &value, zero_allowed, errors) {
                    let slot = match key_text.as_str() {
                        "slow_call" => &mut self.slow_call,
                        "reset_timeout" => &mut self.reset_timeout,
                        "half_open_timeout" => &mut self.half_open_timeout,
                        _ => &mut self.call_timeout,
                    };
                    set(slot, key, d, errors);
                }
            }
            Kind::Window => {
                if let Some(window) = value::window(&key, &value, errors) {
                    set(&mut self.window, key, window, errors);
                }
            }
            Kind::Backoff => {
                if let Some(backoff) = backoff::backoff(&value, errors) {
                    set(&mut self.backoff, key, backoff, errors);
                }
            }
            Kind::FunctionPath | Kind::CratePath => {
                if let Some(path) = value::path(&key, &value, errors) {
                    let slot = match key_text.as_str() {
                        "failure_if" => &mut self.failure_if,
                        "ignore_if" => &mut self.ignore_if,
                        "classify" => &mut self.classify,
                        _ => &mut self.fallback,
                    };
                    set(slot, key, path, errors);
                }
            }
        }
        Ok(())
    }
}

/// Stores an argument, or reports it as a duplicate (at the second one).
fn set<T>(slot: &mut Option<Arg<T>>, key: Ident, value: T, errors: &mut Errors) {
    if let Some(first) = slot {
        errors.at(
            key.span(),
            format!(
                "duplicate argument `{key}`: it is already given (`{} = …`); keep one",
                first.key
            ),
        );
    } else {
        *slot = Some(Arg { key, value });
    }
}

/// Skips token trees up to (not including) the next top-level comma.
fn skip_to_comma(input: ParseStream) {
    let _ = input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tree, next)) = rest.token_tree() {
            if matches!(&tree, TokenTree::Punct(p) if p.as_char() == ',') {
                break;
            }
            rest = next;
        }
        Ok(((), rest))
    });
}

/// A value to show in "write it like this" messages: the spec's example for the key.
fn example(key: &Ident) -> &'static str {
    settings::find(&key.to_string()).map_or("…", |s| s.example)
}

/// The span of an argument's key, for errors about the argument as a whole.
impl<T> Arg<T> {
    pub(crate) fn span(&self) -> Span {
        self.key.span()
    }
}

#[cfg(test)]
mod tests {
    use breaker_spec::settings::NAMES;

    /// The attribute's rustdoc (in lib.rs) has a row for every argument, in the spec's order.
    #[test]
    fn the_docs_list_every_argument() {
        let rows: Vec<&str> = include_str!("../lib.rs")
            .lines()
            .filter_map(|l| l.strip_prefix("/// | `"))
            .filter_map(|l| l.split('`').next())
            .collect();
        assert_eq!(rows, NAMES);
    }
}
