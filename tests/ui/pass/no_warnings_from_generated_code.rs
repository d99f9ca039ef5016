// Generated code adds no warnings: bodies that diverge, return early, or never use their
// arguments compile cleanly under deny(warnings) (the user's own warnings still fire).
#![deny(warnings)]
use breaker_runtime::circuit_breaker;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[circuit_breaker]
fn diverges() -> Result<u32, Error> {
    panic!("never returns")
}

#[circuit_breaker]
async fn returns_early(flag: bool) -> Result<u32, Error> {
    if flag {
        return Ok(1);
    }
    Err("no".into())
}

#[circuit_breaker]
fn unfinished(_id: u32) -> Result<u32, Error> {
    todo!()
}

#[circuit_breaker]
fn loops() -> anyhow::Result<u32> {
    loop {
        return Ok(3);
    }
}

// Single-expression bodies (issue 13: the expansion's braces around them drew `unused_braces`).
#[circuit_breaker]
async fn one_expression_async() -> Result<u8, std::io::Error> {
    Ok(1)
}

#[circuit_breaker]
fn one_expression_sync() -> Result<u8, std::io::Error> {
    Ok(1)
}

fn cached(_error: breaker_runtime::CallError<std::io::Error>) -> Result<u8, std::io::Error> {
    Ok(0)
}

#[circuit_breaker(fallback = cached)]
fn one_expression_with_fallback() -> Result<u8, std::io::Error> {
    Ok(1)
}

async fn cached_async(
    _error: breaker_runtime::CallError<std::io::Error>,
) -> Result<u8, std::io::Error> {
    Ok(0)
}

#[circuit_breaker(fallback = cached_async)]
async fn one_expression_async_with_fallback() -> Result<u8, std::io::Error> {
    Ok(1)
}

// A hand-written boxed future, as `#[async_trait]` writes it.
#[circuit_breaker]
fn boxed() -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<u8, std::io::Error>> + Send>> {
    Box::pin(async move { Ok(1) })
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(returns_early(true).await.unwrap(), 1);
    assert!(returns_early(false).await.is_err());
    assert_eq!(loops().unwrap(), 3);
    let _ = (diverges as fn() -> _, unfinished as fn(u32) -> _);
    assert_eq!(one_expression_async().await.unwrap(), 1);
    assert_eq!(one_expression_sync().unwrap(), 1);
    assert_eq!(one_expression_with_fallback().unwrap(), 1);
    assert_eq!(one_expression_async_with_fallback().await.unwrap(), 1);
    assert_eq!(boxed().await.unwrap(), 1);
}
