//! The rewrite: the signature stays as written, the body becomes
//!
//! ```text
//! {
//!     let __breaker = {
//!         static __BREAKER: BreakerCell = BreakerCell::new();
//!         __BREAKER.get_or_register(NAME, || BreakerConfig::builder()/* … */.build())
//!     };
//!     match call_async(__breaker, Classifier::new(FAILURE_IF, IGNORE_IF), async move {
//!         if let Some(__ret) = None::<RETURN_TYPE> { return __ret; }   // fixes the type for `?`
//!         { BODY }
//!     }, DESCRIBE).await {
//!         Ok(__value) => Ok(__value),
//!         Err(__error) => Err(into_error(__error)),   // or: FALLBACK(ARGS…, __error).await
//!     }
//! }
//! ```
//!
//! (`DESCRIBE` writes an error that opens the breaker as the open's cause: `E`'s `Display`,
//! or nothing; `call_sync` and a closure for a plain `fn`; every runtime path is absolute, through
//! `::breaker_runtime::__private` or the `crate = …` argument.)

mod config;
mod fallback;

use crate::args::Args;
use crate::item::{AsyncTraitBody, Function, ResultType, Shape};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Expr, Stmt};

/// Everything the rewrite needs, checked already.
pub(crate) struct Plan<'a> {
    pub args: &'a Args,
    pub function: &'a Function,
    pub shape: Shape,
    pub result: ResultType,
    /// The fallback's arguments: the function's parameters by name (empty without fallback).
    pub arguments: Vec<Ident>,
}

pub(crate) fn expand(plan: Plan) -> TokenStream {
    let function = plan.function;
    let rt = runtime(plan.args);
    match &plan.shape {
        Shape::AsyncTrait(boxed) => {
            let body = async_trait_body(&plan, &rt, boxed);
            let attrs = &function.attrs;
            let vis = &function.vis;
            let sig = &function.sig;
            let brace = function.brace;
            let mut tokens = quote!(#(#attrs)* #vis #sig);
            brace.surround(&mut tokens, |inner| {
                for attr in &function.inner_attrs {
                    attr.to_tokens(inner);
                }
                body.to_tokens(inner);
            });
            tokens
        }
        Shape::Async | Shape::Sync => {
            // A lone expression goes in as it is, as in `async_trait_body`: a one-line
            // `{ Ok(1) }` in braces of its own would draw `unused_braces` in the user's crate
            // (whose suggestion, applied by `cargo fix`, would break the function).
            let user_body = if is_lone_expression(&function.body) {
                function.body.clone()
            } else {
                user_block(function.brace, &function.body)
            };
            let body = wrapped_body(&plan, &rt, user_body);
            let attrs = &function.attrs;
            let vis = &function.vis;
            let sig = &function.sig;
            let mut tokens = quote!(#(#attrs)* #vis #sig);
            function.brace.surround(&mut tokens, |inner| {
                for attr in &function.inner_attrs {
                    attr.to_tokens(inner);
                }
                inner.extend(body);
            });
            tokens
        }
    }
}

/// `::breaker_runtime::__private`, or `<crate = …>::__private`.
fn runtime(args: &Args) -> TokenStream {
    match &args.krate {
        Some(krate) => {
            let path = &krate.value;
            quote!(#path::__private)
        }
        None => quote!(::breaker_runtime::__private),
    }
}

/// Whether `body` is one expression and nothing else: no statement, no trailing `;`.
fn is_lone_expression(body: &TokenStream) -> bool {
    use syn::parse::Parser;
    matches!(
        syn::Block::parse_within.parse2(body.clone()).as_deref(),
        Ok([Stmt::Expr(_, None)])
    )
}

/// The user's body in its own block, with its own braces (so errors about the block point there).
fn user_block(brace: syn::token::Brace, body: &TokenStream) -> TokenStream {
    let mut tokens = TokenStream::new();
    brace.surround(&mut tokens, |inner| inner.extend(body.clone()));
    tokens
}

/// The breaker, the guarded call, and what happens on an error; `user_body` is a block.
fn wrapped_body(plan: &Plan, rt: &TokenStream, user_body: TokenStream) -> TokenStream {
    let breaker_ident = Ident::new("__breaker", Span::mixed_site());
    let ret_ident = Ident::new("__ret", Span::mixed_site());
    let value = Ident::new("__value", Span::mixed_site());
    let error = Ident::new("__error", Span::mixed_site());

    let breaker = breaker_expr(plan, rt);
    let (classifier_setup, classifier) = classifier(plan, rt);
    let inferable = &plan.result.inferable;
    let check_result = respan(
        quote!(#rt::returns_result(&#ret_ident)),
        plan.result.error_span,
    );
    let guard = quote! {
        if let ::core::option::Option::Some(#ret_ident) = ::core::option::Option::None::<#inferable> {
            #check_result;
            #[allow(unreachable_code)]
            return #ret_ident;
        }
    };
    let has_fallback = plan.args.fallback.is_some();
    let move_kw = (!has_fallback).then(|| quote!(move));
    let is_async = plan.shape.is_async();
    // With `classify`, the verdict is the user's function of the whole result; otherwise
    // `Ok` is a success and `failure_if` / `ignore_if` judge an `Err`.
    let (call_async, call_sync, verdict) = match &plan.args.classify {
        Some(classify) => {
            let path = &classify.value;
            (
                quote!(call_async_classified),
                quote!(call_sync_classified),
                quote_spanned!(path.span()=> #path),
            )
        }
        None => (quote!(call_async), quote!(call_sync), classifier.clone()),
    };
    // With a fallback the body's block borrows the arguments (they stay for the fallback).
    // An argument borrowed shared would make the future `Send` only for a `Sync` argument,
    // so each is re-bound `mut` and borrowed uniquely: a `&mut T` is `Send` for any `Send`
    // `T`, and the future is `Send` whenever the function's own would be. (`self` by value
    // cannot be re-bound; a by-reference receiver is `Send` as it is.)
    let (rebind, borrow_unique) = if has_fallback && is_async {
        let names: Vec<&Ident> = plan.arguments.iter().filter(|n| *n != "self").collect();
        // At the parameter: a "moved" error names it and points there.
        let rebind = names
            .iter()
            .map(|name| quote_spanned!(name.span()=> let mut #name = #name;));
        (quote!(#(#rebind)*), quote!(#(let _ = &mut #names;)*))
    } else {
        (TokenStream::new(), TokenStream::new())
    };
    // How an error that opens the breaker is written as the open's cause: `E`'s `Display`
    // if it has one, picked by method lookup (see `__private::describe`). A closure, and the
    // last argument, so that it is checked once the body has fixed `E`: a return type that
    // is not a `Result` is then one error (the body's), not one more here.
    let probe = Ident::new("__probe", Span::mixed_site());
    let describe = quote!(|#probe| {
        use #rt::DescribeError as _;
        #probe.describer()
    });
    let call = if is_async {
        quote! {
            #rt::#call_async(#breaker_ident, #verdict, async #move_kw {
                #borrow_unique
                #guard
                #user_body
            }, #describe).await
        }
    } else {
        quote! {
            #rt::#call_sync(#breaker_ident, #verdict, #move_kw || {
                #guard
                #user_body
            }, #describe)
        }
    };
    let (fallback_setup, on_error) = match &plan.args.fallback {
        Some(fallback) => fallback::fallback_call(plan, rt, &fallback.value, &error),
        None => {
            // Every token at the return type: the missing-`From` error points there.
            let into_error = respan(
                quote!(#rt::into_error_checked(#error)),
                plan.result.error_span,
            );
            (
                TokenStream::new(),
                quote!(::core::result::Result::Err(#into_error)),
            )
        }
    };
    // With a fallback and a predicate, an error the breaker does not record as a failure
    // (ignored, or counted a success) is an answer, not an outage: it goes back as it is.
    let inner = Ident::new("__inner", Span::mixed_site());
    let not_a_failure = match &plan.args.classify {
        Some(classify) if has_fallback => {
            let path = &classify.value;
            let answer = Ident::new("__answer", Span::mixed_site());
            Some(quote! {
                ::core::result::Result::Err(#rt::CallError::Inner(#inner)) => {
                    match #rt::answer_or_outage(#path, #inner) {
                        ::core::result::Result::Ok(#answer) => #answer,
                        ::core::result::Result::Err(#error) => #on_error,
                    }
                }
            })
        }
        _ => (has_fallback
            && (plan.args.failure_if.is_some() || plan.args.ignore_if.is_some()))
        .then(|| {
            quote! {
                ::core::result::Result::Err(#rt::CallError::Inner(#inner))
                    if !#classifier.records_failure(&#inner) => ::core::result::Result::Err(#inner),
            }
        }),
    };
    quote! {
        #classifier_setup
        #rebind
        #fallback_setup
        let #breaker_ident = #breaker;
        match #call {
            ::core::result::Result::Ok(#value) => ::core::result::Result::Ok(#value),
            #not_a_failure
            ::core::result::Result::Err(#error) => #on_error,
        }
    }
}

/// Inside `Box::pin(async move { … })`: the statement holding the user's body becomes a block
/// that runs it under the breaker (async-trait's argument re-bindings before it stay as they are).
fn async_trait_body(plan: &Plan, rt: &TokenStream, boxed: &AsyncTraitBody) -> TokenStream {
    let mut box_pin = boxed.box_pin.clone();
    let Expr::Call(call) = &mut box_pin else {
        unreachable!("checked in item.rs")
    };
    let Some(Expr::Async(async_block)) = call.args.first_mut() else {
        unreachable!("checked in item.rs")
    };
    let stmts = &mut async_block.block.stmts;
    match boxed.body_index {
        Some(index) => {
            let Stmt::Local(local) = &mut stmts[index] else {
                unreachable!("checked in item.rs")
            };
            let init = local.init.as_mut().expect("checked in item.rs");
            // async-trait's `{ Ok(7) }` of a one-line body: its lone expression goes in as
            // it is, as below, or the braces would draw `unused_braces` in the user's crate.
            let user_body = match &*init.expr {
                Expr::Block(block) if block.attrs.is_empty() && block.label.is_none() => {
                    match block.block.stmts.as_slice() {
                        [Stmt::Expr(expr, None)] => expr.to_token_stream(),
                        _ => init.expr.to_token_stream(),
                    }
                }
                other => other.to_token_stream(),
            };
            let wrapped = wrapped_body(plan, rt, user_body);
            *init.expr = Expr::Verbatim(quote!({ #wrapped }));
        }
        None => {
            let brace = async_block.block.brace_token;
            // A lone expression goes in as it is: in braces of its own it would draw
            // `unused_braces` in the user's crate; with statements, the braces scope them.
            let user_body = match stmts.as_slice() {
                [Stmt::Expr(expr, None)] => expr.to_token_stream(),
                _ => user_block(brace, &quote!(#(#stmts)*)),
            };
            let wrapped = wrapped_body(plan, rt, user_body);
            *stmts = vec![Stmt::Expr(Expr::Verbatim(quote!({ #wrapped })), None)];
        }
    }
    box_pin.to_token_stream()
}

/// `tokens` with every span set to `span` (keeping identifiers' hygiene), so that an error
/// about the expression they make points at `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let proc_macro2::TokenTree::Group(group) = &tree {
                let mut respanned =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                respanned.set_span(span);
                tree = respanned.into();
            } else {
                let located = tree.span().located_at(span);
                tree.set_span(located);
            }
            tree
        })
        .collect()
}

/// `{ static __BREAKER: BreakerCell = …; __BREAKER.get_or_register…(…) }`
fn breaker_expr(plan: &Plan, rt: &TokenStream) -> TokenStream {
    let cell = Ident::new("__BREAKER", Span::mixed_site());
    let config = config::config(plan.args, rt);
    let ident = &plan.function.sig.ident;
    // Declared up front, so the registry knows the breaker before the first call; a look
    // builds it through this function's own cell, as its first call would.
    // `name` gives an `Option<&'static str>`; `build` makes the breaker from `__name`.
    let declare = |name: &TokenStream, build: TokenStream| {
        quote! {
            #rt::inventory::submit! {
                #rt::Declared {
                    name: {
                        fn __name() -> ::core::option::Option<&'static str> {
                            #name
                        }
                        __name
                    },
                    build: {
                        fn __build(__name: &'static str) -> #rt::std::sync::Arc<#rt::CircuitBreaker> {
                            #build
                        }
                        __build
                    },
                }
            }
        }
    };
    let some = |name: &TokenStream| quote!(::core::option::Option::Some(#name));
    let register = match &plan.args.name {
        Some(name) => {
            let name = &name.value;
            let declared = declare(
                &some(&quote!(#name)),
                quote!(#cell.declared(#name, || #config)),
            );
            quote! {
                #declared
                #cell.get_or_register(#name, || #config)
            }
        }
        None => {
            let fn_name = ident.to_string();
            let fn_name = fn_name.strip_prefix("r#").unwrap_or(&fn_name);
            let site = quote_spanned! {ident.span()=>
                ::core::concat!(::core::file!(), ":", ::core::line!(), ":", ::core::column!())
            };
            if plan.function.in_impl(&plan.shape) {
                // A method: one breaker per `Self`, since a default or blanket method's one
                // `static` serves every implementor. Its name comes from the path of an item
                // nested here, which names the impl the attribute cannot see; a method with
                // a visibility is in an inherent impl, so that path alone decides its name.
                let marker = Ident::new("__breaker_site", Span::mixed_site());
                let path = Ident::new("__breaker_path", Span::mixed_site());
                let inherent = !matches!(plan.function.vis, syn::Visibility::Inherited);
                let declared = declare(
                    &quote!(#rt::declared_name(#path(), #inherent)),
                    quote!(#cell.declared(__name, #site, || #config)),
                );
                return quote! {{
                    fn #marker() {}
                    fn #path() -> &'static str {
                        ::core::any::type_name_of_val(&#marker)
                    }
                    static #cell: #rt::MethodBreakerCell = #rt::MethodBreakerCell::new();
                    #declared
                    #cell.get_or_register::<Self>(#path, #fn_name, #site, || #config)
                }};
            }
            let name = quote!(::core::concat!(::core::module_path!(), "::", #fn_name));
            let declared = declare(
                &some(&name),
                quote!(#cell.declared_default(|| #name, #site, || #config)),
            );
            quote! {
                #declared
                #cell.get_or_register_default(|| #name, #site, || #config)
            }
        }
    };
    quote! {{
        static #cell: #rt::BreakerCell = #rt::BreakerCell::new();
        #register
    }}
}

/// `Classifier::new(Some(__failure_if), None)`, after statements that give each predicate the
/// type `fn(&E) -> bool` for the function's own `E` (so a predicate of the wrong type is an
/// error at its path, not a confusing mismatch elsewhere).
fn classifier(plan: &Plan, rt: &TokenStream) -> (TokenStream, TokenStream) {
    let result = &plan.result.with_unit_impls;
    let mut setup = TokenStream::new();
    let mut predicate = |arg: &Option<crate::args::Arg<syn::ExprPath>>, name: &str| match arg {
        Some(arg) => {
            let path = &arg.value;
            let binding = Ident::new(name, Span::mixed_site());
            setup.extend(quote! {
                let #binding: fn(&<#result as #rt::ReturnsResult>::Error) -> bool = #path;
            });
            quote!(::core::option::Option::Some(#binding))
        }
        None => quote!(::core::option::Option::None),
    };
    let failure_if = predicate(&plan.args.failure_if, "__failure_if");
    let ignore_if = predicate(&plan.args.ignore_if, "__ignore_if");
    (setup, quote!(#rt::Classifier::new(#failure_if, #ignore_if)))
}

#[cfg(test)]
mod tests;
