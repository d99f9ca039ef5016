//! The attribute's arguments: `name = "quotes", failure_threshold = 5, reset_timeout = "30s", …`.
//!
//! Each argument is `key = value`. Values are parsed as Rust expressions first (so a wrong value
//! still parses and gets a precise message), then checked against what the key takes. Parsing
//! never stops at the first problem: every bad argument is reported, each at its own tokens.

use crate::diag::{did_you_mean, suggestions, Errors};
use crate::duration::{self, Nanos};
use proc_macro2::{Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ExprPath, Ident, Lit, LitStr, Path, Token, UnOp};

/// The most calls `half_open_max_calls`, `success_threshold` and a count `window` may hold.
pub(crate) const MAX_CALLS: u64 = 65_535;

/// The longest duration the runtime takes (it caps waits at a year).
pub(crate) const MAX_DURATION: Nanos = Nanos(365 * 24 * 3600 * 1_000_000_000);

/// The shortest time window the runtime takes.
pub(crate) const MIN_TIME_WINDOW: Nanos = Nanos(10_000_000);

/// A value together with the key it was given under (errors about the argument point at the key).
pub(crate) struct Arg<T> {
    pub key: Ident,
    pub value: T,
}

/// `window = 100` (the last 100 calls) or `window = "60s"` (the calls of the last minute).
pub(crate) enum WindowArg {
    Calls(u32),
    Time(Nanos),
}

/// `backoff = fixed | linear(step = D, max = D) | exponential(multiplier = F, max = D)`, each
/// with an optional `jitter = F`.
pub(crate) struct BackoffArg {
    pub kind: BackoffKind,
    pub max: Option<Nanos>,
    pub jitter: Option<f64>,
}

pub(crate) enum BackoffKind {
    Fixed,
    Linear { step: Nanos },
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
    pub slow_call: Option<Arg<Nanos>>,
    pub slow_call_rate: Option<Arg<f64>>,
    pub success_threshold: Option<Arg<u32>>,
    pub half_open_max_calls: Option<Arg<u32>>,
    pub reset_timeout: Option<Arg<Nanos>>,
    pub backoff: Option<Arg<BackoffArg>>,
    pub half_open_timeout: Option<Arg<Nanos>>,
    pub call_timeout: Option<Arg<Nanos>>,
    pub failure_if: Option<Arg<ExprPath>>,
    pub ignore_if: Option<Arg<ExprPath>>,
    pub fallback: Option<Arg<ExprPath>>,
    pub krate: Option<Arg<Path>>,
}

/// The argument names, in the contract's order (also the order suggestions are drawn from).
pub(crate) const NAMES: &[&str] = &[
    "name",
    "failure_threshold",
    "failure_rate",
    "minimum_calls",
    "window",
    "slow_call",
    "slow_call_rate",
    "success_threshold",
    "half_open_max_calls",
    "reset_timeout",
    "backoff",
    "half_open_timeout",
    "call_timeout",
    "failure_if",
    "ignore_if",
    "fallback",
    "crate",
];

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
        if !NAMES.contains(&key_text.as_str()) {
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
        }
        if !input.peek(Token![=]) {
            return Err(syn::Error::new(
                key.span(),
                format!(
                    "`{key_text}` needs a value: `{key_text} = {}`",
                    example(&key_text)
                ),
            ));
        }
        input.parse::<Token![=]>()?;
        if key_text == "crate" {
            let path = input.call(Path::parse_mod_style)?;
            set(&mut self.krate, key, path, errors);
            return Ok(());
        }
        let value: Expr = input.parse()?;
        match key_text.as_str() {
            "name" => {
                if let Some(name) = string(&key, &value, errors) {
                    if name.value().is_empty() {
                        errors.at(name.span(), "`name` can't be empty");
                    }
                    set(&mut self.name, key, name, errors);
                }
            }
            "failure_threshold" | "minimum_calls" | "success_threshold" | "half_open_max_calls" => {
                let max = match key_text.as_str() {
                    "success_threshold" | "half_open_max_calls" => MAX_CALLS,
                    _ => u64::from(u32::MAX),
                };
                if let Some(n) = integer(&key, &value, max, errors) {
                    let slot = match key_text.as_str() {
                        "failure_threshold" => &mut self.failure_threshold,
                        "minimum_calls" => &mut self.minimum_calls,
                        "success_threshold" => &mut self.success_threshold,
                        _ => &mut self.half_open_max_calls,
                    };
                    set(slot, key, n, errors);
                }
            }
            "failure_rate" | "slow_call_rate" => {
                if let Some(rate) = rate(&key, &value, errors) {
                    let slot = if key_text == "failure_rate" {
                        &mut self.failure_rate
                    } else {
                        &mut self.slow_call_rate
                    };
                    set(slot, key, rate, errors);
                }
            }
            "slow_call" | "reset_timeout" | "half_open_timeout" | "call_timeout" => {
                if let Some(d) = duration_value(&key, &value, errors) {
                    let slot = match key_text.as_str() {
                        "slow_call" => &mut self.slow_call,
                        "reset_timeout" => &mut self.reset_timeout,
                        "half_open_timeout" => &mut self.half_open_timeout,
                        _ => &mut self.call_timeout,
                    };
                    set(slot, key, d, errors);
                }
            }
            "window" => {
                if let Some(window) = window(&key, &value, errors) {
                    set(&mut self.window, key, window, errors);
                }
            }
            "backoff" => {
                if let Some(backoff) = backoff(&value, errors) {
                    set(&mut self.backoff, key, backoff, errors);
                }
            }
            _ => {
                if let Some(path) = path(&key, &value, errors) {
                    let slot = match key_text.as_str() {
                        "failure_if" => &mut self.failure_if,
                        "ignore_if" => &mut self.ignore_if,
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

/// A value to show in "write it like this" messages.
fn example(key: &str) -> &'static str {
    match key {
        "name" => "\"quotes\"",
        "failure_threshold" => "5",
        "failure_rate" => "0.5",
        "minimum_calls" => "10",
        "window" => "100",
        "slow_call" => "\"2s\"",
        "slow_call_rate" => "0.5",
        "success_threshold" => "2",
        "half_open_max_calls" => "2",
        "reset_timeout" => "\"30s\"",
        "backoff" => "exponential(multiplier = 2.0, max = \"5m\")",
        "half_open_timeout" => "\"60s\"",
        "call_timeout" => "\"5s\"",
        "failure_if" => "is_transient",
        "ignore_if" => "is_not_found",
        "fallback" => "cached_value",
        _ => "my_crate::breaker",
    }
}

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

fn string(key: &Ident, value: &Expr, errors: &mut Errors) -> Option<LitStr> {
    if let Some(Lit::Str(s)) = literal(value) {
        return Some(s.clone());
    }
    errors.at(
        value.span(),
        format!(
            "`{key}` takes a string: `{key} = {}`",
            example(&key.to_string())
        ),
    );
    None
}

/// An integer in `1..=max`.
fn integer(key: &Ident, value: &Expr, max: u64, errors: &mut Errors) -> Option<u32> {
    let span = value.span();
    match literal(value) {
        Some(Lit::Int(int)) => match int.base10_parse::<u64>() {
            Ok(0) => errors.at(span, format!("`{key}` must be at least 1")),
            Ok(n) if n > max => errors.at(span, format!("`{key}` must be at most {max}, not {n}")),
            Ok(n) => return u32::try_from(n).ok(),
            Err(_) => errors.at(span, format!("`{key}` must be at most {max}")),
        },
        Some(Lit::Str(s)) => {
            let text = s.value();
            let written = if text.trim().parse::<u64>().is_ok() {
                text.trim().to_owned()
            } else {
                example(&key.to_string()).to_owned()
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
                example(&key.to_string())
            ),
        ),
        _ if is_negative(value) => errors.at(span, format!("`{key}` must be at least 1")),
        _ => errors.at(
            span,
            format!(
                "`{key}` takes an integer literal, e.g. `{key} = {}`",
                example(&key.to_string())
            ),
        ),
    }
    None
}

/// A number as `f64`, from an integer or float literal.
fn number(value: &Expr) -> Option<f64> {
    match literal(value)? {
        Lit::Float(f) => f.base10_parse().ok(),
        Lit::Int(i) => i.base10_parse().ok(),
        _ => None,
    }
}

/// A fraction in (0, 1].
fn rate(key: &Ident, value: &Expr, errors: &mut Errors) -> Option<f64> {
    let span = value.span();
    if is_negative(value) {
        errors.at(
            span,
            format!("`{key}` is a fraction in (0, 1], so it can't be negative"),
        );
        return None;
    }
    match number(value) {
        Some(r) if r > 0.0 && r <= 1.0 => return Some(r),
        Some(r) if (2.0..=100.0).contains(&r) => errors.at(
            span,
            format!(
                "`{key}` is a fraction in (0, 1], not a percentage: for {r}% write `{key} = {}`",
                r / 100.0
            ),
        ),
        Some(r) if r > 1.0 => errors.at(
            span,
            format!("`{key}` is a fraction in (0, 1]; {r} is above 1"),
        ),
        Some(_) => errors.at(
            span,
            format!("`{key}` is a fraction in (0, 1]; it must be above 0"),
        ),
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

/// A duration string, longer than zero.
fn duration_value(key: &Ident, value: &Expr, errors: &mut Errors) -> Option<Nanos> {
    let span = value.span();
    match literal(value) {
        Some(Lit::Str(s)) => match duration::parse(&s.value()) {
            Ok(Nanos(0)) => errors.at(span, format!("`{key}` must be longer than zero")),
            Ok(d) if d.0 > MAX_DURATION.0 => errors.at(span, format!("`{key}` must be at most a year (\"365d\")")),
            Ok(d) => return Some(d),
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

fn window(key: &Ident, value: &Expr, errors: &mut Errors) -> Option<WindowArg> {
    match literal(value) {
        Some(Lit::Str(_)) => match duration_value(key, value, errors)? {
            d if d.0 < MIN_TIME_WINDOW.0 => {
                errors.at(value.span(), "a time `window` must be at least \"10ms\"");
                None
            }
            d => Some(WindowArg::Time(d)),
        },
        Some(Lit::Int(_)) => integer(key, value, MAX_CALLS, errors).map(WindowArg::Calls),
        _ if is_negative(value) => {
            errors.at(value.span(), "`window` must be at least 1 call");
            None
        }
        _ => {
            errors.at(
                value.span(),
                "`window` takes a number of calls (`window = 100`) or a duration string (`window = \"60s\"`)",
            );
            None
        }
    }
}

fn path(key: &Ident, value: &Expr, errors: &mut Errors) -> Option<ExprPath> {
    match value {
        Expr::Path(path) => return Some(path.clone()),
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => {
            let text = s.value();
            let written = if syn::parse_str::<Path>(&text).is_ok() {
                text
            } else {
                example(&key.to_string()).to_owned()
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
                example(&key.to_string())
            ),
        ),
    }
    None
}

const BACKOFF_HINT: &str =
    "write `backoff = fixed`, `backoff = linear(step = \"1s\", max = \"5m\")` or `backoff = exponential(multiplier = 2.0, max = \"5m\")`, each with an optional `jitter = 0.1`";

fn backoff(value: &Expr, errors: &mut Errors) -> Option<BackoffArg> {
    let (kind, call_args): (&Ident, Vec<&Expr>) = match value {
        Expr::Path(p) if p.path.get_ident().is_some() => (p.path.get_ident()?, Vec::new()),
        Expr::Call(call) => match &*call.func {
            Expr::Path(p) if p.path.get_ident().is_some() => {
                (p.path.get_ident()?, call.args.iter().collect())
            }
            other => {
                errors.at(other.span(), format!("unknown backoff: {BACKOFF_HINT}"));
                return None;
            }
        },
        Expr::Lit(ExprLit {
            lit: Lit::Str(_), ..
        }) => {
            errors.at(
                value.span(),
                format!("`backoff` is not a string: {BACKOFF_HINT}"),
            );
            return None;
        }
        _ => {
            errors.at(value.span(), format!("unknown backoff: {BACKOFF_HINT}"));
            return None;
        }
    };
    let kind_text = kind.to_string();
    let (allowed, required): (&[&str], Option<&str>) = match kind_text.as_str() {
        "fixed" => (&["jitter"], None),
        "linear" => (&["step", "max", "jitter"], Some("step")),
        "exponential" => (&["multiplier", "max", "jitter"], Some("multiplier")),
        _ => {
            let hint = did_you_mean(&suggestions(
                &kind_text,
                &["fixed", "linear", "exponential"],
            ));
            errors.at(
                kind.span(),
                format!("unknown backoff `{kind_text}`: {hint} {BACKOFF_HINT}")
                    .replace(":  ", ": "),
            );
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
            positional if position == 0 && required.is_some() => {
                (Ident::new(required?, positional.span()), positional)
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
        if !allowed.contains(&name_text.as_str()) {
            let hint = did_you_mean(&suggestions(&name_text, allowed));
            errors.at(
                name.span(),
                format!(
                    "`{kind_text}` backoff has no `{name_text}`; it takes {}. {hint}",
                    allowed.join(", ")
                )
                .trim_end()
                .to_owned(),
            );
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
        max = duration_value(key, value, errors);
    }
    let mut jitter = None;
    if let Some((key, value)) = get("jitter") {
        match number(value) {
            Some(j) if (0.0..=1.0).contains(&j) => jitter = Some(j),
            _ => errors.at(
                value.span(),
                format!("`{key}` is a fraction in [0, 1], e.g. `jitter = 0.1`"),
            ),
        }
    }
    let kind = match kind_text.as_str() {
        "fixed" => BackoffKind::Fixed,
        "linear" => match get("step") {
            Some((key, value)) => BackoffKind::Linear {
                step: duration_value(key, value, errors)?,
            },
            None => {
                errors.at(
                    kind.span(),
                    "`linear` backoff needs a `step`: `linear(step = \"10s\", max = \"5m\")`",
                );
                return None;
            }
        },
        _ => match get("multiplier") {
            Some((_, value)) => match number(value) {
                Some(m) if m >= 1.0 && m.is_finite() => BackoffKind::Exponential { multiplier: m },
                _ => {
                    errors.at(
                        value.span(),
                        "`multiplier` must be a number of at least 1.0, e.g. `multiplier = 2.0`",
                    );
                    return None;
                }
            },
            None => {
                errors.at(kind.span(), "`exponential` backoff needs a `multiplier`: `exponential(multiplier = 2.0, max = \"5m\")`");
                return None;
            }
        },
    };
    (errors.count() == before).then_some(BackoffArg { kind, max, jitter })
}

/// The span of an argument's key, for errors about the argument as a whole.
impl<T> Arg<T> {
    pub(crate) fn span(&self) -> Span {
        self.key.span()
    }
}
