//! Why a fleet could not start.

/// Why [`FleetBuilder::start`](super::FleetBuilder::start) refused: only a bad URL or
/// option. An unreachable Redis is no error: the fleet starts and connects when it can.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let err = breaker_runtime::fleet::Fleet::builder("not a url")
///     .start(breaker_runtime::registry())
///     .await
///     .unwrap_err();
/// assert!(err.to_string().contains("Redis URL"));
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FleetError {
    /// The URL is not a Redis URL the client understands.
    #[error("fleet: bad Redis URL: {0}")]
    Url(#[source] redis::RedisError),
    /// An option is out of range; the message names it. (Not named `Option`: a public item
    /// of that name makes rustc spell `std::option::Option` out in every user's errors.)
    #[error("fleet: {0}")]
    Invalid(String),
    /// `start` was not awaited on a tokio runtime, where the syncer must run.
    #[error("fleet: start must run on a tokio runtime")]
    NoRuntime,
}
