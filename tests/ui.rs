//! Compile-time behaviour of `#[circuit_breaker]`: what must compile (`tests/ui/pass`) and
//! what must fail, with which message at which token (`tests/ui/fail/*.stderr`).
//! `TRYBUILD=overwrite cargo test --test ui` regenerates the expectations; read the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
