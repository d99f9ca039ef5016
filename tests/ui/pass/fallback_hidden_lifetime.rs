// A return type that borrows through a hidden lifetime (`Cow<str>` with the lifetime elided)
// with a fallback, on a method with more than one borrowed input: compiles as without the
// attribute.
use breaker_runtime::{circuit_breaker, CallError};
use std::borrow::Cow;

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Repo {
    base: String,
}

impl Repo {
    fn stale(&self, _key: &str, _e: CallError<Error>) -> Result<Cow<str>, Error> {
        Ok(Cow::Borrowed(&self.base))
    }

    #[circuit_breaker(fallback = Self::stale)]
    fn get(&self, key: &str) -> Result<Cow<str>, Error> {
        if key.is_empty() {
            return Err("empty".into());
        }
        Ok(Cow::Borrowed(&self.base))
    }
}

fn main() {
    let repo = Repo { base: "b".into() };
    assert_eq!(repo.get("k").unwrap(), "b");
    assert_eq!(repo.get("").unwrap(), "b");
}
