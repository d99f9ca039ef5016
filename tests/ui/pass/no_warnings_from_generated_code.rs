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

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(returns_early(true).await.unwrap(), 1);
    assert!(returns_early(false).await.is_err());
    assert_eq!(loops().unwrap(), 3);
    let _ = (diverges as fn() -> _, unfinished as fn(u32) -> _);
}
