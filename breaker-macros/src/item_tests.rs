//! Unit tests of `item.rs`.

use super::*;
use quote::quote;

fn function(tokens: TokenStream) -> Function {
    syn::parse2(tokens).unwrap()
}

#[test]
fn shapes() {
    assert!(matches!(
        function(quote!(
            async fn f() -> Result<(), E> {
                Ok(())
            }
        ))
        .shape(),
        Shape::Async
    ));
    assert!(matches!(
        function(quote!(
            fn f() -> Result<(), E> {
                Ok(())
            }
        ))
        .shape(),
        Shape::Sync
    ));
    let async_trait = function(quote! {
        fn get<'life0, 'async_trait>(&'life0 self, key: String)
            -> ::core::pin::Pin<Box<dyn ::core::future::Future<Output = Result<u32, E>> + ::core::marker::Send + 'async_trait>>
        where 'life0: 'async_trait, Self: 'async_trait
        {
            Box::pin(async move {
                if let ::core::option::Option::Some(__ret) = ::core::option::Option::None::<Result<u32, E>> {
                    #[allow(unreachable_code)]
                    return __ret;
                }
                let __self = self;
                let key = key;
                let __ret: Result<u32, E> = { Ok(__self.lookup(&key)) };
                #[allow(unreachable_code)]
                __ret
            })
        }
    });
    let shape = async_trait.shape();
    let Shape::AsyncTrait(body) = &shape else {
        panic!("not recognised")
    };
    assert_eq!(body.body_index, Some(3));
    assert!(async_trait.in_impl(&shape));
    let output = async_trait.result_type(&shape).unwrap();
    assert_eq!(
        output.to_token_stream().to_string(),
        quote!(Result<u32, E>).to_string()
    );
    let names = async_trait.argument_names(&shape).unwrap();
    assert_eq!(
        names.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["__self", "key"]
    );
}

#[test]
fn self_is_detected() {
    let f = function(quote!(
        fn new() -> Result<Self, E> {
            todo!()
        }
    ));
    assert!(f.in_impl(&f.shape()));
    let f = function(quote!(
        fn free(x: u32) -> Result<u32, E> {
            todo!()
        }
    ));
    assert!(!f.in_impl(&f.shape()));
    let f = function(quote!(
        fn m(self: Arc<Self>) -> Result<u32, E> {
            todo!()
        }
    ));
    assert!(f.in_impl(&f.shape()));
}

#[test]
fn patterns_cannot_be_passed_on() {
    let f = function(quote!(
        fn f((a, b): (u32, u32), _: u8, ok: u8) -> Result<u32, E> {
            todo!()
        }
    ));
    let error = f.argument_names(&f.shape()).unwrap_err();
    assert_eq!(error.into_iter().count(), 2);
}

#[test]
fn results_and_not_results() {
    for ok in [
        quote!(Result<u32, E>),
        quote!(io::Result<u32>),
        quote!(anyhow::Result<()>),
        quote!(Fallible<u8>),
    ] {
        assert!(result_type(&syn::parse2(ok).unwrap()).is_ok());
    }
    for bad in [
        quote!(()),
        quote!(u32),
        quote!(Option<u32>),
        quote!(&str),
        quote!(impl Display),
    ] {
        assert!(result_type(&syn::parse2(bad).unwrap()).is_err());
    }
    let r = result_type(&syn::parse2(quote!(Result<impl Display, E>)).unwrap()).unwrap();
    assert_eq!(
        r.inferable.to_token_stream().to_string(),
        quote!(Result<_, E>).to_string()
    );
}

#[test]
fn body_is_kept_as_written() {
    let f = function(quote!(
        #[inline]
        pub fn f() -> Result<u32, E> {
            #![allow(unused)]
            use x::y;
            Ok(1)
        }
    ));
    assert_eq!(f.inner_attrs.len(), 1);
    assert_eq!(f.body.to_string(), quote! { use x::y; Ok(1) }.to_string());
    assert_eq!(
        f.to_token_stream().to_string(),
        quote!(
            #[inline]
            pub fn f() -> Result<u32, E> {
                #![allow(unused)]
                use x::y;
                Ok(1)
            }
        )
        .to_string()
    );
}
