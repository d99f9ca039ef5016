//! Rules that need more than one argument, or the arguments and the function together.
//! Every broken rule is reported; none stops the others from being checked.

use crate::args::{Args, WindowArg};
use crate::diag::Errors;
use crate::item::{Function, Shape};
use breaker_spec::{check, defaults};

pub(crate) fn check(args: &Args, function: &Function, shape: &Shape, errors: &mut Errors) {
    check_arguments(args, errors);

    if let Some(constness) = &function.sig.constness {
        errors.at(
            constness.span,
            "`#[circuit_breaker]` can't go on a `const fn`: a breaker is runtime state; remove `const`",
        );
    }
    if let (Some(timeout), Shape::Sync) = (&args.call_timeout, shape) {
        errors.at(
            timeout.span(),
            "`call_timeout` needs an `async fn`: a blocking call can't be cut short; make the function `async` or remove `call_timeout`",
        );
    }
    if let Some(variadic) = &function.sig.variadic {
        errors.at(
            variadic.dots.spans[0],
            "`#[circuit_breaker]` can't go on a variadic function",
        );
    }
    if args.fallback.is_some() {
        if let Err(error) = function.argument_names(shape) {
            errors.push(error);
        }
    }
}

fn check_arguments(args: &Args, errors: &mut Errors) {
    if let Some(classify) = &args.classify {
        if args.failure_if.is_some() || args.ignore_if.is_some() {
            errors.at(
                classify.span(),
                format!("`classify` {}", check::CLASSIFY_WITH_PREDICATES),
            );
        }
    }
    if let (Some(rate), None) = (&args.slow_call_rate, &args.slow_call) {
        errors.at(
            rate.span(),
            format!("`slow_call_rate` {}", check::SLOW_CALL_RATE_ALONE),
        );
    }
    // As the runtime: the window exists only when a rate needs one.
    let uses_window = args.failure_rate.is_some() || args.slow_call.is_some();
    if let Some(minimum) = args.minimum_calls.as_ref().filter(|_| uses_window) {
        let window_calls = match &args.window {
            Some(window) => match window.value {
                WindowArg::Calls(n) => Some(n),
                WindowArg::Time(_) => None,
            },
            // The runtime's default window, when a rate needs one and none is given.
            None => Some(defaults::WINDOW_CALLS),
        };
        if let Some(calls) = window_calls {
            if let Err(reason) =
                check::minimum_calls_within(minimum.value, calls, args.window.is_some())
            {
                errors.at(
                    minimum.span(),
                    format!("`minimum_calls = {}` {reason}", minimum.value),
                );
            }
        }
    }
    if let (Some(backoff), Some(reset)) = (&args.backoff, &args.reset_timeout) {
        if backoff.value.max.is_some_and(|max| max < reset.value) {
            errors.at(
                backoff.span(),
                "the backoff's `max` is shorter than `reset_timeout`, so it could never grow: raise `max` or lower `reset_timeout`",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::args;
    use crate::diag::Errors;
    use crate::item::Function;
    use proc_macro2::TokenStream;
    use quote::quote;

    /// The messages for `#[circuit_breaker(#attr)] #item`.
    fn messages(attr: TokenStream, item: TokenStream) -> Vec<String> {
        let mut errors = Errors::default();
        let args = args::parse(attr, &mut errors);
        let function: Function = syn::parse2(item).unwrap();
        super::check(&args, &function, &function.shape(), &mut errors);
        errors.into_messages()
    }

    fn for_async(attr: TokenStream) -> Vec<String> {
        messages(
            attr,
            quote!(
                async fn f() -> Result<(), E> {
                    Ok(())
                }
            ),
        )
    }

    #[test]
    fn good_arguments_pass() {
        let all = quote!(
            name = "quotes",
            failure_threshold = 5,
            failure_rate = 0.5,
            minimum_calls = 10,
            window = "60s",
            slow_call = "2s",
            slow_call_rate = 1,
            success_threshold = 2,
            half_open_max_calls = 3,
            reset_timeout = "30s",
            backoff = exponential(multiplier = 2.0, max = "5m", jitter = 0.1),
            half_open_timeout = "1m",
            call_timeout = "250ms",
            failure_if = is_transient,
            ignore_if = errors::is_not_found,
            fallback = Self::cached,
            crate = ::my::rt,
        );
        assert_eq!(for_async(all), Vec::<String>::new());
        assert_eq!(
            for_async(quote!(backoff = linear(step = "1s"))),
            Vec::<String>::new()
        );
        assert_eq!(
            for_async(quote!(backoff = exponential(3))),
            Vec::<String>::new()
        );
        assert_eq!(
            for_async(quote!(backoff = fixed(jitter = 0.5), window = 65535)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn unknown_and_duplicate_arguments() {
        let found = for_async(quote!(
            timeout = "5s",
            failure_threshold = 1,
            failure_threshold = 2,
            colour = 1
        ));
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(
            found[0],
            "unknown argument `timeout`: did you mean `call_timeout`, `reset_timeout` or `half_open_timeout`?"
        );
        assert!(
            found[1].starts_with("duplicate argument `failure_threshold`"),
            "{found:?}"
        );
        assert!(
            found[2].starts_with("unknown argument `colour`; the arguments are name, "),
            "{found:?}"
        );
    }

    #[test]
    fn wrong_types_and_ranges() {
        let found = for_async(quote!(
            failure_threshold = "5",
            failure_rate = 1.5,
            minimum_calls = 0,
            reset_timeout = "30 parsecs",
            half_open_max_calls = 70000,
            success_threshold = -1,
            window = 0,
            slow_call = 2,
            fallback = "cached",
            failure_rate = 50,
            name = 3,
        ));
        let expected = [
            "`failure_threshold` takes an integer, not a string: write `failure_threshold = 5`",
            "`failure_rate` must be a fraction in (0, 1]; 1.5 is above 1",
            "`minimum_calls` must be at least 1",
            "bad duration for `reset_timeout`: unknown unit `parsecs` in \"30 parsecs\"",
            "`half_open_max_calls` must be at most 65535",
            "`success_threshold` must be at least 1",
            "`window` must hold at least 1 call",
            "`slow_call` takes a duration string with a unit: write `slow_call = \"2s\"`",
            "`fallback` takes a path, not a string: write `fallback = cached`",
            "`failure_rate` must be a fraction in (0, 1], not a percentage: for 50% write 0.5",
            "`name` takes a string",
        ];
        assert_eq!(found.len(), expected.len(), "{found:#?}");
        for (message, start) in found.iter().zip(expected) {
            assert!(
                message.starts_with(start),
                "{message:?} should start with {start:?}"
            );
        }
    }

    #[test]
    fn only_the_reset_timeout_may_be_zero() {
        // As the runtime: an open breaker with a zero reset timeout probes at once.
        assert!(for_async(quote!(reset_timeout = "0s")).is_empty());
        let found = for_async(quote!(
            slow_call = "0s",
            window = "5ms",
            reset_timeout = "400d"
        ));
        assert_eq!(
            found,
            [
                "`slow_call` must be longer than zero",
                "`window` must be at least \"10ms\" as a time window: it keeps ten buckets of at least a millisecond each",
                "`reset_timeout` must be at most a year (\"365d\")",
            ]
        );
    }

    #[test]
    fn syntax_errors_do_not_hide_the_rest() {
        let found = for_async(quote!(
            fallback,
            failure_threshold = 0,
            5 = 5,
            reset_timeout = "1s"
        ));
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(found[0].starts_with("`fallback` needs a value: `fallback = cached_value`"));
        assert!(found[1].starts_with("`failure_threshold` must be at least 1"));
        assert!(found[2].starts_with("expected an argument like"));
    }

    #[test]
    fn backoff_forms() {
        let found = for_async(quote!(backoff = exponentail(multiplier = 2.0)));
        assert!(
            found[0].starts_with(
                "unknown backoff kind `exponentail` (did you mean `exponential`?): write `fixed`"
            ),
            "{found:?}"
        );
        let found = for_async(quote!(backoff = linear(max = "1m")));
        assert!(
            found[0].starts_with("`linear` backoff needs a `step`"),
            "{found:?}"
        );
        let found = for_async(quote!(backoff = exponential(multiplier = 0.5)));
        assert!(
            found[0].starts_with("`multiplier` must be a finite number of at least 1"),
            "{found:?}"
        );
        let found = for_async(quote!(backoff = exponential(multiplier = 2.0, jiter = 0.1)));
        assert!(
            found[0].contains("has no `jiter`") && found[0].contains("did you mean `jitter`?"),
            "{found:?}"
        );
        let found = for_async(quote!(backoff = fixed(max = "1m")));
        assert!(
            found[0].starts_with("`fixed` backoff has no `max`; it takes `jitter`"),
            "{found:?}"
        );
        let found = for_async(quote!(backoff = "exponential"));
        assert!(
            found[0].starts_with("`backoff` is not a string"),
            "{found:?}"
        );
    }

    #[test]
    fn cross_argument_rules() {
        let found = for_async(quote!(slow_call_rate = 0.5));
        assert_eq!(found, ["`slow_call_rate` needs `slow_call`, the duration that makes a call slow: add `slow_call = \"2s\"`"]);
        let found = for_async(quote!(minimum_calls = 20, window = 10, failure_rate = 0.5));
        assert!(found[0].starts_with(
            "`minimum_calls = 20` can never be reached: `window` holds only the last 10 calls"
        ));
        let found = for_async(quote!(minimum_calls = 200, failure_rate = 0.5));
        assert!(
            found[0].contains("the default `window` holds only the last 100 calls"),
            "{found:?}"
        );
        assert!(for_async(quote!(minimum_calls = 200, window = "1m", slow_call = "1s")).is_empty());
        assert!(for_async(quote!(minimum_calls = 200)).is_empty());
        let found = for_async(quote!(
            reset_timeout = "1m",
            backoff = linear(step = "1s", max = "30s")
        ));
        assert!(
            found[0].contains("shorter than `reset_timeout`"),
            "{found:?}"
        );
    }

    #[test]
    fn rules_about_the_function() {
        let found = messages(
            quote!(call_timeout = "1s"),
            quote!(
                fn f() -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        assert!(
            found[0].starts_with("`call_timeout` needs an `async fn`"),
            "{found:?}"
        );
        let found = messages(
            quote!(),
            quote!(
                const fn f() -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        assert!(
            found[0].starts_with("`#[circuit_breaker]` can't go on a `const fn`"),
            "{found:?}"
        );
        let found = messages(
            quote!(fallback = g),
            quote!(
                fn f((a, b): (u8, u8)) -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        assert!(
            found[0].starts_with("`fallback` gets every argument by name"),
            "{found:?}"
        );
        assert!(messages(
            quote!(),
            quote!(
                fn f((a, b): (u8, u8)) -> Result<(), E> {
                    Ok(())
                }
            )
        )
        .is_empty());
    }
}
