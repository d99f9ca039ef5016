// Fallbacks of every shape the attribute takes: generic, `impl Trait` arguments, borrowed
// results, `&mut` arguments, receivers of every kind, no arguments at all.
use breaker_runtime::{circuit_breaker, BreakerError, CallError};
use std::fmt::Display;
use std::sync::Arc;

#[derive(Debug)]
struct AppError;

impl From<BreakerError> for AppError {
    fn from(_: BreakerError) -> Self {
        AppError
    }
}

#[circuit_breaker(fallback = shown_again)]
fn shown(value: impl Display, width: usize) -> Result<String, AppError> {
    Ok(format!("{value:width$}"))
}

fn shown_again<T: Display>(
    value: T,
    width: usize,
    _: CallError<AppError>,
) -> Result<String, AppError> {
    Ok(format!("{value:width$}"))
}

#[circuit_breaker(fallback = first_again)]
fn first<T: Clone>(items: &[T]) -> Result<T, AppError>
where
    T: std::fmt::Debug,
{
    items.first().cloned().ok_or(AppError)
}

fn first_again<T: Clone>(items: &[T], _: CallError<AppError>) -> Result<T, AppError> {
    items.last().cloned().ok_or(AppError)
}

#[circuit_breaker(fallback = none_again)]
fn none() -> Result<u8, AppError> {
    Ok(1)
}

fn none_again(_: CallError<AppError>) -> Result<u8, AppError> {
    Ok(0)
}

#[circuit_breaker(fallback = push_again)]
async fn push(into: &mut Vec<u8>, value: impl Into<u8> + Copy) -> Result<usize, AppError> {
    into.push(value.into());
    Ok(into.len())
}

async fn push_again(
    into: &mut Vec<u8>,
    _: impl Into<u8>,
    _: CallError<AppError>,
) -> Result<usize, AppError> {
    Ok(into.len())
}

struct Repo {
    name: String,
}

impl Repo {
    #[circuit_breaker(fallback = Self::name_again)]
    fn name(&self, suffix: &str) -> Result<&str, AppError> {
        let _ = suffix;
        Ok(&self.name)
    }

    fn name_again<'a>(&'a self, _: &str, _: CallError<AppError>) -> Result<&'a str, AppError> {
        Ok(&self.name)
    }

    #[circuit_breaker(fallback = Self::name_async_again)]
    async fn name_async(&self) -> Result<&str, AppError> {
        Ok(&self.name)
    }

    async fn name_async_again(&self, _: CallError<AppError>) -> Result<&str, AppError> {
        Ok(&self.name)
    }

    #[circuit_breaker(fallback = Self::shared_again)]
    async fn shared(self: Arc<Self>, n: u32) -> Result<u32, AppError> {
        Ok(n + self.name.len() as u32)
    }

    async fn shared_again(
        self: Arc<Self>,
        n: u32,
        _: CallError<AppError>,
    ) -> Result<u32, AppError> {
        Ok(n)
    }

    #[circuit_breaker(fallback = Self::rename_again)]
    fn rename(&mut self, to: String) -> Result<(), AppError> {
        self.name.clone_from(&to);
        Ok(())
    }

    fn rename_again(&mut self, to: String, _: CallError<AppError>) -> Result<(), AppError> {
        self.name = to;
        Ok(())
    }
}

fn main() {
    let _ = shown(1, 3);
    let _ = first(&[1, 2]);
    let _ = none();
    let mut repo = Repo { name: "a".into() };
    let _ = repo.rename("b".into());
    let _ = repo.name("c");
    let _ = push(&mut Vec::new(), 1u8);
    let _ = repo.name_async();
    let _ = Arc::new(repo).shared(1);
}
