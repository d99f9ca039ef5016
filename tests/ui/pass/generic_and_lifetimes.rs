// Generic functions with lifetimes, `where` clauses, `impl Trait` arguments and an
// `impl Trait` in the `Result` keep their signatures and compile.
#![deny(warnings)]
use breaker_runtime::{circuit_breaker, BreakerError};
use std::fmt::Display;

#[circuit_breaker(failure_threshold = 2)]
async fn longest<'a, 'b: 'a, T>(a: &'a T, b: &'b T, label: impl Display) -> Result<&'a T, BreakerError>
where
    T: PartialOrd + ?Sized,
{
    let _ = label.to_string();
    Ok(if a >= b { a } else { b })
}

#[circuit_breaker]
fn render<I>(items: I) -> Result<impl Display, BreakerError>
where
    I: IntoIterator,
    I::Item: Display,
{
    Ok(items.into_iter().map(|i| i.to_string()).collect::<Vec<_>>().join(","))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(longest("a", "b", 1).await.unwrap(), "b");
    assert_eq!(render([1, 2]).unwrap().to_string(), "1,2");
}
