//! The call of a `fallback = path`, written so that a fallback of the wrong shape is an error
//! at the path that says what it must look like. A plain fn whose return type names no
//! lifetime binds the path as a `fn` pointer of the signature expected:
//!
//! ```text
//! let __fallback: fn(ARGUMENT TYPES…, CallError<E>) -> _ = path;
//! …  Err(__error) => fallback_returned::<RETURN_TYPE, _>(__fallback(ARGS…, __error)),
//! ```
//!
//! ("expected fn pointer `fn(u32, CallError<AppError>) -> _`, found fn item `fn(u32) -> …`").
//! Elsewhere (an async fn, whose fallback's future may borrow its arguments, which a `fn`
//! pointer's `_` cannot express) the argument types go to a trait:
//!
//! ```text
//! let __fallback = fallback_taking::<(ARGUMENT TYPES…, CallError<E>,), _, _>(path);
//! …  Err(__error) => fallback_returned::<RETURN_TYPE, _>(
//!        __fallback.call((ARGS…, __error,)).await),
//! ```
//!
//! ("type mismatch in function arguments: expected function signature `fn(&str, u32,
//! CallError<_>) -> _`, found `fn(u32, &str, …)`", or "expected to take 3 arguments"). Either
//! way rustc has no call of the path to rewrite, so it suggests no edit of the attribute's
//! text, and a missing `Self::` draws "not found in this scope" rather than a `self.`
//! suggestion. `fallback_returned` says what the fallback must return, async or not.

use super::Plan;
use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{FnArg, ReturnType, Type};

/// The binding of the fallback (statements before the call) and the expression that calls
/// it with the arguments and `error`.
pub(super) fn fallback_call(
    plan: &Plan,
    rt: &TokenStream,
    path: &syn::ExprPath,
    error: &Ident,
) -> (TokenStream, TokenStream) {
    let span = path.span();
    let binding = Ident::new("__fallback", Span::mixed_site().located_at(span));
    let is_async = plan.shape.is_async();
    let inputs = &plan.function.sig.inputs;
    let result = &plan.result.with_unit_impls;
    let types: Vec<Type> = inputs
        .iter()
        .map(|input| {
            let mut ty = match input {
                FnArg::Receiver(receiver) => (*receiver.ty).clone(),
                FnArg::Typed(typed) => (*typed.ty).clone(),
            };
            ImplToInfer.visit_type_mut(&mut ty);
            ty
        })
        .collect();
    let error_type = quote!(#rt::CallError<<#result as #rt::ReturnsResult>::Error>);
    // A plain fn that borrows nothing: a `fn` pointer, the clearest message. Not when any
    // input borrows (a receiver `&self` included): the result may borrow from it, and a
    // pointer's `-> _` cannot name that lifetime (`Cow<str>` hides one).
    let pointer = !is_async
        && match &plan.function.sig.output {
            ReturnType::Type(_, ty) => !names_a_lifetime(ty.to_token_stream()),
            ReturnType::Default => false,
        }
        && !inputs
            .iter()
            .any(|input| names_a_lifetime(input.to_token_stream()));
    let arguments = plan
        .arguments
        .iter()
        .map(|name| Ident::new(&name.to_string(), name.span().located_at(span)));
    let awaited = is_async.then(|| quote_spanned!(span=> .await));
    let inferable = respan(plan.result.inferable.to_token_stream(), span);
    if pointer {
        let pointer = respan(quote!(fn(#(#types,)* #error_type) -> _), span);
        let setup = quote_spanned!(span=> let #binding: #pointer = #path;);
        let call = quote_spanned! {span=>
            #rt::fallback_returned::<#inferable, _>(#binding(#(#arguments,)* #error))
        };
        return (setup, call);
    }
    let args = respan(quote!((#(#types,)* #error_type,)), span);
    let setup = quote_spanned! {span=>
        let #binding = #rt::fallback_taking::<#args, _, _>(#path);
    };
    let answer = quote_spanned!(span=> #binding.call((#(#arguments,)* #error,)));
    // An async function awaits its fallback: checked to be a future first, so a plain
    // fallback is an error at its path that says it must be `async`.
    let answer = match awaited {
        Some(awaited) => {
            let awaitable = Ident::new("__awaitable", Span::mixed_site());
            // A `let`, so the wrapper's borrow ends before the `.await` (a temporary of the
            // block's tail would live across it and cost the future its `Send`).
            quote_spanned! {span=>
                {
                    use #rt::AwaitFallback as _;
                    let #awaitable = (&&#rt::fallback_answer(#answer)).awaitable();
                    #awaitable
                } #awaited
            }
        }
        None => answer,
    };
    let call = quote_spanned! {span=>
        #rt::fallback_returned::<#inferable, _>(#answer)
    };
    (setup, call)
}

/// Whether the tokens hold a reference or a lifetime.
fn names_a_lifetime(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tree| match tree {
        TokenTree::Punct(p) => p.as_char() == '&' || p.as_char() == '\'',
        TokenTree::Group(g) => names_a_lifetime(g.stream()),
        _ => false,
    })
}

/// `impl Trait` (an argument's anonymous type parameter) becomes `_`.
struct ImplToInfer;

impl VisitMut for ImplToInfer {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::ImplTrait(imp) = ty {
            *ty = Type::Infer(syn::TypeInfer {
                underscore_token: syn::Token![_](imp.impl_token.span),
            });
        } else {
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
}

fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    super::respan(tokens, span)
}
