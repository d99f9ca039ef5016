//! The expansion, token for token, for a few shapes.

use crate::diag::Errors;
use crate::item::{self, Function};
use proc_macro2::TokenStream;
use quote::quote;

fn expand(attr: TokenStream, item: TokenStream) -> String {
    let mut errors = Errors::default();
    let args = crate::args::parse(attr, &mut errors);
    let function: Function = syn::parse2(item).unwrap();
    let shape = function.shape();
    let result = item::result_type(&function.result_type(&shape).unwrap()).unwrap();
    let arguments = if args.fallback.is_some() {
        function.argument_names(&shape).unwrap()
    } else {
        Vec::new()
    };
    assert!(errors.is_empty());
    let plan = super::Plan {
        args: &args,
        function: &function,
        shape,
        result,
        arguments,
    };
    super::expand(plan).to_string()
}

fn normalized(tokens: TokenStream) -> String {
    tokens.to_string()
}

#[test]
fn async_fn_with_a_name() {
    let actual = expand(
        quote!(
            name = "quotes",
            failure_threshold = 3,
            reset_timeout = "30s"
        ),
        quote!(
            pub async fn fetch(id: u32) -> Result<u32, AppError> {
                load(id).await
            }
        ),
    );
    let expected = normalized(quote! {
        pub async fn fetch(id: u32) -> Result<u32, AppError> {
            let __breaker = {
                static __BREAKER: ::breaker_runtime::__private::BreakerCell =
                    ::breaker_runtime::__private::BreakerCell::new();
                ::breaker_runtime::__private::inventory::submit! {
                    ::breaker_runtime::__private::Declared {
                        name: {
                            fn __name() -> ::core::option::Option<&'static str> {
                                ::core::option::Option::Some("quotes")
                            }
                            __name
                        },
                        build: {
                            fn __build(__name: &'static str) -> ::breaker_runtime::__private::std::sync::Arc<::breaker_runtime::__private::CircuitBreaker> {
                                __BREAKER.declared("quotes", || ::breaker_runtime::__private::BreakerConfig::builder()
                                    .failure_threshold(3u32)
                                    .reset_timeout(::core::time::Duration::from_secs(30u64))
                                    .build())
                            }
                            __build
                        },
                    }
                }
                __BREAKER.get_or_register("quotes", || ::breaker_runtime::__private::BreakerConfig::builder()
                    .failure_threshold(3u32)
                    .reset_timeout(::core::time::Duration::from_secs(30u64))
                    .build())
            };
            match ::breaker_runtime::__private::call_async(
                __breaker,
                ::breaker_runtime::__private::Classifier::new(::core::option::Option::None, ::core::option::Option::None),
                async move {
                    if let ::core::option::Option::Some(__ret) = ::core::option::Option::None::<Result<u32, AppError> > {
                        ::breaker_runtime::__private::returns_result(&__ret);
                        #[allow(unreachable_code)]
                        return __ret;
                    }
                    load(id).await
                },
                |__probe| {
                    use ::breaker_runtime::__private::DescribeError as _;
                    __probe.describer()
                }
            ).await {
                ::core::result::Result::Ok(__value) => ::core::result::Result::Ok(__value),
                ::core::result::Result::Err(__error) => ::core::result::Result::Err(
                    ::breaker_runtime::__private::into_error_checked(__error)
                ),
            }
        }
    });
    assert_eq!(actual, expected);
}

#[test]
fn sync_method_with_fallback_and_default_name() {
    let actual = expand(
        quote!(
            fallback = Self::cached,
            failure_if = is_transient,
            crate = ::my::rt
        ),
        quote!(
            fn get(&mut self, key: String) -> Result<u32, AppError> {
                self.lookup(&key)
            }
        ),
    );
    let expected = normalized(quote! {
        fn get(&mut self, key: String) -> Result<u32, AppError> {
            let __failure_if: fn(&<Result<u32, AppError> as ::my::rt::__private::ReturnsResult>::Error) -> bool = is_transient;
            let __fallback = ::my::rt::__private::fallback_taking::<(
                &mut Self,
                String,
                ::my::rt::__private::CallError<<Result<u32, AppError> as ::my::rt::__private::ReturnsResult>::Error>,
            ), _, _>(Self::cached);
            let __breaker = {
                fn __breaker_site() {}
                fn __breaker_path() -> &'static str {
                    ::core::any::type_name_of_val(&__breaker_site)
                }
                static __BREAKER: ::my::rt::__private::MethodBreakerCell = ::my::rt::__private::MethodBreakerCell::new();
                ::my::rt::__private::inventory::submit! {
                    ::my::rt::__private::Declared {
                        name: {
                            fn __name() -> ::core::option::Option<&'static str> {
                                ::my::rt::__private::declared_name(__breaker_path(), false)
                            }
                            __name
                        },
                        build: {
                            fn __build(__name: &'static str) -> ::my::rt::__private::std::sync::Arc<::my::rt::__private::CircuitBreaker> {
                                __BREAKER.declared(
                                    __name,
                                    ::core::concat!(::core::file!(), ":", ::core::line!(), ":", ::core::column!()),
                                    || ::my::rt::__private::judged_in_the_attribute(::my::rt::__private::BreakerConfig::builder().build(), true, false, false)
                                )
                            }
                            __build
                        },
                    }
                }
                __BREAKER.get_or_register::<Self>(
                    __breaker_path,
                    "get",
                    ::core::concat!(::core::file!(), ":", ::core::line!(), ":", ::core::column!()),
                    || ::my::rt::__private::judged_in_the_attribute(::my::rt::__private::BreakerConfig::builder().build(), true, false, false)
                )
            };
            match ::my::rt::__private::call_sync(
                __breaker,
                ::my::rt::__private::Classifier::new(::core::option::Option::Some(__failure_if), ::core::option::Option::None),
                || {
                    if let ::core::option::Option::Some(__ret) = ::core::option::Option::None::<Result<u32, AppError> > {
                        ::my::rt::__private::returns_result(&__ret);
                        #[allow(unreachable_code)]
                        return __ret;
                    }
                    self.lookup(&key)
                },
                |__probe| {
                    use ::my::rt::__private::DescribeError as _;
                    __probe.describer()
                }
            ) {
                ::core::result::Result::Ok(__value) => ::core::result::Result::Ok(__value),
                ::core::result::Result::Err(::my::rt::__private::CallError::Inner(__inner))
                    if !::my::rt::__private::Classifier::new(::core::option::Option::Some(__failure_if), ::core::option::Option::None).records_failure(&__inner)
                    => ::core::result::Result::Err(__inner),
                ::core::result::Result::Err(__error) => ::my::rt::__private::fallback_returned::<Result<u32, AppError>, _>(
                    __fallback.call((self, key, __error,))
                ),
            }
        }
    });
    assert_eq!(actual, expected);
}
