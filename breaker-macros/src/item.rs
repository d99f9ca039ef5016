//! The annotated function: its signature as written, its body as tokens, and which shape it is.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{
    braced, token, Attribute, Block, Expr, FnArg, GenericArgument, Ident, Pat, PathArguments,
    ReturnType, Signature, Stmt, Type, TypeParamBound, Visibility,
};

/// A function with a body. The body stays tokens (it is re-emitted as written, spans and all)
/// except for `#[async_trait]` output, whose boxed future is opened up.
pub(crate) struct Function {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub sig: Signature,
    pub brace: token::Brace,
    /// `#![…]` at the top of the body; they stay at the top of the rewritten body.
    pub inner_attrs: Vec<Attribute>,
    pub body: TokenStream,
}

impl Parse for Function {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let start = input.span();
        let sig: Signature = input.parse().map_err(|_| {
            syn::Error::new(
                start,
                "`#[circuit_breaker]` goes on a function (`fn` or `async fn`) that returns `Result<T, E>`",
            )
        })?;
        if input.peek(syn::Token![;]) {
            return Err(syn::Error::new(
                sig.ident.span(),
                "`#[circuit_breaker]` needs a function with a body: put it on the method in the `impl`, not on the trait's declaration",
            ));
        }
        let content;
        let brace = braced!(content in input);
        let inner_attrs = content.call(Attribute::parse_inner)?;
        let body: TokenStream = content.parse()?;
        Ok(Function {
            attrs,
            vis,
            sig,
            brace,
            inner_attrs,
            body,
        })
    }
}

impl ToTokens for Function {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        for attr in &self.attrs {
            attr.to_tokens(tokens);
        }
        self.vis.to_tokens(tokens);
        self.sig.to_tokens(tokens);
        self.brace.surround(tokens, |inner| {
            for attr in &self.inner_attrs {
                attr.to_tokens(inner);
            }
            inner.extend(self.body.clone());
        });
    }
}

/// How the function runs, and so how the body is wrapped.
pub(crate) enum Shape {
    /// `async fn`: the body becomes a future run under the breaker.
    Async,
    /// `fn`: the body becomes a closure run under the breaker.
    Sync,
    /// A method already rewritten by `#[async_trait]`: a plain `fn` whose body is
    /// `Box::pin(async move { … })`. The wrapped part is the user's original body inside it.
    AsyncTrait(AsyncTraitBody),
}

/// The statements inside `Box::pin(async move { … })`, split around the user's body.
///
/// async-trait writes `let __ret: R = { <user body> };` after re-binding the arguments
/// (`let __self = self;`); `body_index` is that statement, or `None` when the shape is not
/// recognised, in which case the whole async block is the body.
pub(crate) struct AsyncTraitBody {
    pub box_pin: Expr,
    pub body_index: Option<usize>,
}

impl Shape {
    pub(crate) fn is_async(&self) -> bool {
        !matches!(self, Shape::Sync)
    }
}

impl Function {
    /// Which shape this is; `#[async_trait]` output is recognised by its body and signature.
    pub(crate) fn shape(&self) -> Shape {
        if self.sig.asyncness.is_some() {
            return Shape::Async;
        }
        if boxed_future_output(&self.sig.output).is_some() {
            if let Some(body) = async_trait_body(&self.body) {
                return Shape::AsyncTrait(body);
            }
        }
        Shape::Sync
    }

    /// Whether `Self` can be named in the body: a receiver, `Self` in the signature, or
    /// async-trait output (which only exists inside impls).
    pub(crate) fn in_impl(&self, shape: &Shape) -> bool {
        self.sig.receiver().is_some()
            || (matches!(shape, Shape::AsyncTrait(_)) && self.written_by_async_trait())
            || mentions_self(self.sig.to_token_stream())
    }

    /// Whether `#[async_trait]` wrote this signature: it adds the lifetime `'async_trait`. A
    /// hand-written `fn f() -> Pin<Box<dyn Future<…>>>` may be a free function.
    fn written_by_async_trait(&self) -> bool {
        self.sig
            .generics
            .lifetimes()
            .any(|l| l.lifetime.ident == "async_trait")
            || self.sig.generics.where_clause.as_ref().is_some_and(|w| {
                w.to_token_stream()
                    .into_iter()
                    .any(|t| matches!(t, TokenTree::Ident(i) if i == "async_trait"))
            })
    }

    /// The type the caller gets: the return type, or for async-trait output the future's `Output`.
    pub(crate) fn result_type(&self, shape: &Shape) -> Option<Type> {
        match (shape, &self.sig.output) {
            (Shape::AsyncTrait(_), output) => boxed_future_output(output).cloned(),
            (_, ReturnType::Type(_, ty)) => Some((**ty).clone()),
            (_, ReturnType::Default) => None,
        }
    }

    /// The names the fallback is called with: each parameter by name, `self` for the receiver
    /// (`__self` inside async-trait output). Errors for parameters written as patterns.
    pub(crate) fn argument_names(&self, shape: &Shape) -> Result<Vec<Ident>, syn::Error> {
        let mut names = Vec::new();
        let mut error: Option<syn::Error> = None;
        for input in &self.sig.inputs {
            match input {
                FnArg::Receiver(receiver) => {
                    let name = if matches!(shape, Shape::AsyncTrait(_)) {
                        "__self"
                    } else {
                        "self"
                    };
                    names.push(Ident::new(name, receiver.self_token.span));
                }
                FnArg::Typed(typed) => match &*typed.pat {
                    Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                        names.push(p.ident.clone());
                    }
                    pat => {
                        let e = syn::Error::new(
                            pat.span(),
                            "`fallback` gets every argument by name, so this parameter needs a plain name: write `arg: Type` and destructure it in the body",
                        );
                        match &mut error {
                            Some(all) => all.combine(e),
                            None => error = Some(e),
                        }
                    }
                },
            }
        }
        error.map_or(Ok(names), Err)
    }
}

/// `R` in `Pin<Box<dyn Future<Output = R> + Send + 'async_trait>>`.
fn boxed_future_output(output: &ReturnType) -> Option<&Type> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let pinned = single_type_argument(ty, "Pin")?;
    let boxed = single_type_argument(pinned, "Box")?;
    let Type::TraitObject(object) = boxed else {
        return None;
    };
    object.bounds.iter().find_map(|bound| {
        let TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let last = bound.path.segments.last()?;
        if last.ident != "Future" {
            return None;
        }
        let PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        args.args.iter().find_map(|arg| match arg {
            GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(&assoc.ty),
            _ => None,
        })
    })
}

/// `T` in `…::Name<T>`.
fn single_type_argument<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    })
}

/// `Box::pin(async move { … })` as the whole body.
fn async_trait_body(body: &TokenStream) -> Option<AsyncTraitBody> {
    let block: Block = syn::parse2(quote::quote!({ #body })).ok()?;
    let [Stmt::Expr(expr @ Expr::Call(call), None)] = block.stmts.as_slice() else {
        return None;
    };
    let Expr::Path(func) = &*call.func else {
        return None;
    };
    let mut segments = func.path.segments.iter().rev();
    if segments.next()?.ident != "pin" || segments.next()?.ident != "Box" || call.args.len() != 1 {
        return None;
    }
    let Expr::Async(async_block) = &call.args[0] else {
        return None;
    };
    async_block.capture?;
    let body_index = async_block.block.stmts.iter().position(|stmt| {
        let Stmt::Local(local) = stmt else {
            return false;
        };
        let Pat::Type(typed) = &local.pat else {
            return false;
        };
        let is_ret = matches!(&*typed.pat, Pat::Ident(p) if p.ident == "__ret");
        is_ret && matches!(&local.init, Some(init) if matches!(&*init.expr, Expr::Block(_)))
    });
    Some(AsyncTraitBody {
        box_pin: expr.clone(),
        body_index,
    })
}

fn mentions_self(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tree| match tree {
        TokenTree::Ident(ident) => ident == "Self",
        TokenTree::Group(group) => mentions_self(group.stream()),
        _ => false,
    })
}

/// What the macro needs to know about `Result<T, E>`.
pub(crate) struct ResultType {
    /// The type as written, `impl Trait` replaced by `_` so it can annotate a value in the body.
    pub inferable: Type,
    /// The type with `impl Trait` replaced by `()`: names `E` through
    /// `<Self as ReturnsResult>::Error` where `_` would leave the `T` uninferred.
    pub with_unit_impls: Type,
    /// Where to point errors about `E` (the `E` of `Result<T, E>`, or the whole type for aliases).
    pub error_span: Span,
}

/// Checks that `ty` can be a `Result` and says why not when it can't. Aliases (`io::Result<T>`,
/// `anyhow::Result<T>`, `MyResult<T>`) pass; the type checker has the last word on those.
pub(crate) fn result_type(ty: &Type) -> Result<ResultType, String> {
    let not = |what: &str| {
        Err(format!(
            "`#[circuit_breaker]` needs a function that returns `Result<T, E>`, and {what} is not a `Result`; \
             a breaker records `Ok` as a success and `Err` as a failure"
        ))
    };
    match ty {
        Type::Path(path) if path.qself.is_none() => {
            let last = path
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default();
            const NOT_RESULTS: &[&str] = &[
                "Option", "String", "Vec", "Box", "Arc", "Rc", "HashMap", "BTreeMap", "HashSet",
                "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16",
                "i32", "i64", "i128", "isize", "f32", "f64",
            ];
            if NOT_RESULTS.contains(&last.as_str()) {
                return not(&format!("`{last}`"));
            }
        }
        Type::Paren(inner) => return result_type(&inner.elem),
        Type::Group(inner) => return result_type(&inner.elem),
        Type::Path(_) | Type::Macro(_) | Type::Verbatim(_) => {}
        Type::Tuple(tuple) if tuple.elems.is_empty() => return not("`()`"),
        Type::Never(_) => return not("`!`"),
        Type::ImplTrait(_) => return not("`impl Trait`"),
        _ => return not("this type"),
    }
    let error_span = match ty {
        Type::Path(path) => match path.path.segments.last() {
            Some(last) => match &last.arguments {
                PathArguments::AngleBracketed(args) if args.args.len() == 2 => args.args[1].span(),
                _ => last.ident.span(),
            },
            None => ty.span(),
        },
        _ => ty.span(),
    };
    let mut inferable = ty.clone();
    ImplToInfer { unit: false }.visit_type_mut(&mut inferable);
    let mut with_unit_impls = ty.clone();
    ImplToInfer { unit: true }.visit_type_mut(&mut with_unit_impls);
    Ok(ResultType {
        inferable,
        with_unit_impls,
        error_span,
    })
}

/// Replaces `impl Trait` by `_` (so `Result<impl Display, E>` can annotate a `let`), or by
/// `()` when only `E` matters.
struct ImplToInfer {
    unit: bool,
}

impl VisitMut for ImplToInfer {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::ImplTrait(imp) = ty {
            let span = imp.impl_token.span;
            *ty = if self.unit {
                Type::Tuple(syn::TypeTuple {
                    paren_token: syn::token::Paren(span),
                    elems: Default::default(),
                })
            } else {
                Type::Infer(syn::TypeInfer {
                    underscore_token: syn::Token![_](span),
                })
            };
        } else {
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
}

#[cfg(test)]
#[path = "item_tests.rs"]
mod tests;
