//! How a finished request counts: the [`Classify`] trait and the default, HTTP and gRPC
//! classifiers.

use crate::permit::Outcome;
use std::fmt;

/// Decides how a finished request counts: a success, a failure, or not at all.
///
/// Implemented by [`DefaultClassifier`] (every `Err` fails), [`HttpClassifier`] (errors and
/// 5xx responses fail), [`GrpcClassifier`] (errors, 5xx and failing `grpc-status` codes) and
/// by any `Fn(&Result<T, E>) -> Outcome`:
///
/// ```
/// use breaker_runtime::tower::{CircuitBreakerLayer, Classify};
/// use breaker_runtime::{CircuitBreaker, Outcome};
///
/// // Timeouts fail; other errors mean the dependency answered.
/// let classify = |r: &Result<u32, std::io::Error>| match r {
///     Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Outcome::Failure,
///     _ => Outcome::Success,
/// };
/// assert_eq!(classify.classify(&Err(std::io::ErrorKind::NotFound.into())), Outcome::Success);
/// let layer = CircuitBreakerLayer::new(CircuitBreaker::builder("docs-classify").build())
///     .classifier(classify);
/// # let _ = layer;
/// ```
pub trait Classify<T, E> {
    /// The outcome to record for `result`.
    fn classify(&self, result: &Result<T, E>) -> Outcome;
}

impl<T, E, F> Classify<T, E> for F
where
    F: Fn(&Result<T, E>) -> Outcome,
{
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        self(result)
    }
}

/// `Ok` is a success and every `Err` a failure, as for `#[circuit_breaker]` without
/// `failure_if`.
///
/// ```
/// use breaker_runtime::tower::{Classify, DefaultClassifier};
/// use breaker_runtime::Outcome;
///
/// assert_eq!(DefaultClassifier.classify(&Ok::<_, ()>(1)), Outcome::Success);
/// assert_eq!(DefaultClassifier.classify(&Err::<u8, _>(())), Outcome::Failure);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefaultClassifier;

impl<T, E> Classify<T, E> for DefaultClassifier {
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        match result {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        }
    }
}

/// For HTTP services: every `Err` (connection refused, reset, …) is a failure, and so is a
/// response whose status the predicate picks: by default every `5xx`. Other responses,
/// `4xx` included, are successes: the dependency answered.
///
/// The verdict is given when the response head arrives; a body that fails later is not seen.
///
/// ```
/// use breaker_runtime::tower::{Classify, HttpClassifier};
/// use breaker_runtime::Outcome;
/// use http::{Response, StatusCode};
///
/// let status = |s: u16| Ok::<_, ()>(Response::builder().status(s).body(()).unwrap());
/// let http = HttpClassifier::default();
/// assert_eq!(http.classify(&status(503)), Outcome::Failure);
/// assert_eq!(http.classify(&status(404)), Outcome::Success);
///
/// // Rate limiting counts as a failure too.
/// let strict = HttpClassifier::new(|s| s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS);
/// assert_eq!(strict.classify(&status(429)), Outcome::Failure);
/// ```
#[derive(Clone, Copy)]
pub struct HttpClassifier {
    is_failure: fn(http::StatusCode) -> bool,
}

impl fmt::Debug for HttpClassifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClassifier").finish_non_exhaustive()
    }
}

impl HttpClassifier {
    /// Errors and responses whose status `is_failure` picks are failures.
    ///
    /// ```
    /// let only_503 = breaker_runtime::tower::HttpClassifier::new(|s| s.as_u16() == 503);
    /// # let _ = only_503;
    /// ```
    pub fn new(is_failure: fn(http::StatusCode) -> bool) -> HttpClassifier {
        HttpClassifier { is_failure }
    }

    /// Errors and `5xx` responses are failures (the default).
    ///
    /// ```
    /// let http = breaker_runtime::tower::HttpClassifier::server_errors();
    /// # let _ = http;
    /// ```
    pub fn server_errors() -> HttpClassifier {
        HttpClassifier::new(|s| s.is_server_error())
    }
}

impl Default for HttpClassifier {
    fn default() -> HttpClassifier {
        HttpClassifier::server_errors()
    }
}

impl<B, E> Classify<http::Response<B>, E> for HttpClassifier {
    fn classify(&self, result: &Result<http::Response<B>, E>) -> Outcome {
        match result {
            Ok(response) if !(self.is_failure)(response.status()) => Outcome::Success,
            _ => Outcome::Failure,
        }
    }
}

/// For gRPC clients (a tonic `Channel`, or any gRPC-over-HTTP/2 service): every `Err`, every
/// `5xx`, and every response whose `grpc-status` the predicate picks are failures. By default
/// those are the codes that say the server could not serve the call: `DEADLINE_EXCEEDED` (4),
/// `RESOURCE_EXHAUSTED` (8), `INTERNAL` (13) and `UNAVAILABLE` (14). Other codes
/// (`NOT_FOUND`, `INVALID_ARGUMENT`, …) are answers, so successes.
///
/// A server puts `grpc-status` in the response head when it fails a call before sending any
/// message ("trailers-only"), which is how most errors arrive. A status sent in the trailers,
/// after streamed messages, comes after the head and is not seen here.
///
/// A response that is not `200` and has no `grpc-status` (a proxy or load balancer answered)
/// gets the code gRPC clients give it, and the predicate decides on that code: `400` is
/// `INTERNAL`, `401` `UNAUTHENTICATED`, `403` `PERMISSION_DENIED`, `404` `UNIMPLEMENTED`,
/// `429`, `502`, `503` and `504` `UNAVAILABLE`, any other `UNKNOWN`. By default `400` and
/// `429` are failures then, as every `5xx` is.
///
/// ```
/// use breaker_runtime::tower::{Classify, GrpcClassifier};
/// use breaker_runtime::Outcome;
/// use http::Response;
///
/// let grpc = |code: &str| {
///     Ok::<_, ()>(Response::builder().header("grpc-status", code).body(()).unwrap())
/// };
/// let classifier = GrpcClassifier::default();
/// assert_eq!(classifier.classify(&grpc("14")), Outcome::Failure); // UNAVAILABLE
/// assert_eq!(classifier.classify(&grpc("5")), Outcome::Success); // NOT_FOUND
/// let no_status = Ok::<_, ()>(Response::new(())); // the status comes in the trailers
/// assert_eq!(classifier.classify(&no_status), Outcome::Success);
/// let throttled = Ok::<_, ()>(Response::builder().status(429).body(()).unwrap());
/// assert_eq!(classifier.classify(&throttled), Outcome::Failure); // UNAVAILABLE
/// ```
#[derive(Clone, Copy)]
pub struct GrpcClassifier {
    is_failure: fn(i32) -> bool,
}

impl fmt::Debug for GrpcClassifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrpcClassifier").finish_non_exhaustive()
    }
}

impl GrpcClassifier {
    /// Errors, `5xx`, and responses whose `grpc-status` code `is_failure` picks are failures.
    ///
    /// ```
    /// // Only UNAVAILABLE.
    /// let strict = breaker_runtime::tower::GrpcClassifier::new(|code| code == 14);
    /// # let _ = strict;
    /// ```
    pub fn new(is_failure: fn(i32) -> bool) -> GrpcClassifier {
        GrpcClassifier { is_failure }
    }
}

impl Default for GrpcClassifier {
    /// `DEADLINE_EXCEEDED`, `RESOURCE_EXHAUSTED`, `INTERNAL` and `UNAVAILABLE` are failures.
    fn default() -> GrpcClassifier {
        GrpcClassifier::new(|code| matches!(code, 4 | 8 | 13 | 14))
    }
}

impl<B, E> Classify<http::Response<B>, E> for GrpcClassifier {
    fn classify(&self, result: &Result<http::Response<B>, E>) -> Outcome {
        let Ok(response) = result else {
            return Outcome::Failure;
        };
        if response.status().is_server_error() {
            return Outcome::Failure;
        }
        let code = response
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i32>().ok())
            .or_else(|| grpc_code_of_http(response.status()));
        match code {
            Some(code) if (self.is_failure)(code) => Outcome::Failure,
            _ => Outcome::Success,
        }
    }
}

/// The gRPC code a client gives a response that carries no `grpc-status`, from its HTTP
/// status, as gRPC's "HTTP to gRPC status code mapping" says; `None` for `200`, whose status
/// comes in the trailers.
fn grpc_code_of_http(status: http::StatusCode) -> Option<i32> {
    Some(match status.as_u16() {
        200 => return None,
        400 => 13,             // INTERNAL
        401 => 16,             // UNAUTHENTICATED
        403 => 7,              // PERMISSION_DENIED
        404 => 12,             // UNIMPLEMENTED
        429 | 502..=504 => 14, // UNAVAILABLE
        _ => 2,                // UNKNOWN
    })
}
