//! The breaker's configuration as the attribute gives it.

use crate::args::{Args, BackoffKind, WindowArg};
use crate::duration::DurationTokens;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// `BreakerConfig::builder().failure_threshold(5)/* … */.build()`, one call per argument given.
pub(super) fn config(args: &Args, rt: &TokenStream) -> TokenStream {
    let mut calls = TokenStream::new();
    let mut call = |method: &str, value: TokenStream| {
        let method = format_ident!("{}", method);
        calls.extend(quote!(.#method(#value)));
    };
    let count = |n: u32| quote!(#n);
    let rate = |r: f64| {
        let literal = proc_macro2::Literal::f64_suffixed(r);
        quote!(#literal)
    };
    if let Some(a) = &args.failure_threshold {
        call("failure_threshold", count(a.value));
    }
    if let Some(a) = &args.failure_rate {
        call("failure_rate", rate(a.value));
    }
    if let Some(a) = &args.minimum_calls {
        call("minimum_calls", count(a.value));
    }
    if let Some(a) = &args.window {
        let window = match a.value {
            WindowArg::Calls(n) => quote!(#rt::Window::Calls(#n)),
            WindowArg::Time(d) => {
                let d = d.to_tokens();
                quote!(#rt::Window::Time(#d))
            }
        };
        call("window", window);
    }
    if let Some(a) = &args.slow_call {
        call("slow_call", a.value.to_tokens());
    }
    if let Some(a) = &args.slow_call_rate {
        call("slow_call_rate", rate(a.value));
    }
    if let Some(a) = &args.success_threshold {
        call("success_threshold", count(a.value));
    }
    if let Some(a) = &args.half_open_max_calls {
        call("half_open_max_calls", count(a.value));
    }
    if let Some(a) = &args.reset_timeout {
        call("reset_timeout", a.value.to_tokens());
    }
    if let Some(a) = &args.backoff {
        let b = &a.value;
        let mut backoff = match b.kind {
            BackoffKind::Fixed => quote!(#rt::Backoff::fixed()),
            BackoffKind::Linear { step } => {
                let step = step.to_tokens();
                quote!(#rt::Backoff::linear(#step))
            }
            BackoffKind::Exponential { multiplier } => {
                let multiplier = rate(multiplier);
                quote!(#rt::Backoff::exponential(#multiplier))
            }
        };
        if let Some(max) = b.max {
            let max = max.to_tokens();
            backoff.extend(quote!(.max(#max)));
        }
        if let Some(jitter) = b.jitter {
            let jitter = rate(jitter);
            backoff.extend(quote!(.jitter(#jitter)));
        }
        call("backoff", backoff);
    }
    if let Some(a) = &args.half_open_timeout {
        call("half_open_timeout", a.value.to_tokens());
    }
    if let Some(a) = &args.call_timeout {
        call("call_timeout", a.value.to_tokens());
    }
    let config = quote!(#rt::BreakerConfig::builder() #calls .build());
    // The predicates and `classify` are asked per call by the expansion, which knows their
    // types; the config only says they were given, for the breaker's settings.
    let (failure_if, ignore_if, classify) = (
        args.failure_if.is_some(),
        args.ignore_if.is_some(),
        args.classify.is_some(),
    );
    if failure_if || ignore_if || classify {
        quote!(#rt::judged_in_the_attribute(#config, #failure_if, #ignore_if, #classify))
    } else {
        config
    }
}
