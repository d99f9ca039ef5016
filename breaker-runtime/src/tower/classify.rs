//! How a finished request counts: the [`Classify`] trait and the default, HTTP and gRPC
//! classifiers.

use crate::permit::Outcome;
use std::fmt;
use std::time::{Duration, SystemTime};

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

    /// How long the dependency asked to be left alone, if `result` says so: the layer then
    /// opens the breaker for that long ([`open_for`](crate::CircuitBreaker::open_for)), after
    /// recording the call. `None` (the default) leaves the breaker to its own rules; an
    /// [`HttpClassifier`] with [`honour_retry_after`](HttpClassifier::honour_retry_after)
    /// reads `Retry-After`.
    ///
    /// ```
    /// use breaker_runtime::tower::{Classify, DefaultClassifier};
    /// assert_eq!(DefaultClassifier.retry_after(&Ok::<_, ()>(1)), None);
    /// ```
    fn retry_after(&self, result: &Result<T, E>) -> Option<Duration> {
        let _ = result;
        None
    }

    /// Writes what went wrong with `result`, a failure, for the breaker's
    /// [`open_cause`](crate::CircuitBreaker::open_cause); called only when that failure opens
    /// the breaker. Writing nothing (the default) leaves no cause. [`HttpClassifier`] writes
    /// the status (`HTTP 503 Service Unavailable`), [`GrpcClassifier`] the status or the
    /// `grpc-status` code.
    ///
    /// ```
    /// use breaker_runtime::tower::{Classify, HttpClassifier};
    /// use std::fmt;
    ///
    /// struct Shown<'a>(&'a HttpClassifier, &'a Result<http::Response<()>, ()>);
    /// impl fmt::Display for Shown<'_> {
    ///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    ///         self.0.write_cause(self.1, f)
    ///     }
    /// }
    /// let down = Ok(http::Response::builder().status(503).body(()).unwrap());
    /// assert_eq!(Shown(&HttpClassifier::default(), &down).to_string(), "HTTP 503 Service Unavailable");
    /// ```
    fn write_cause(&self, result: &Result<T, E>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let _ = (result, f);
        Ok(())
    }
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
    retry_after: bool,
}

impl fmt::Debug for HttpClassifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClassifier")
            .field("retry_after", &self.retry_after)
            .finish_non_exhaustive()
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
        HttpClassifier {
            is_failure,
            retry_after: false,
        }
    }

    /// The longest a `Retry-After` may open the breaker for: one hour. A larger value (a
    /// misconfigured server, a date far ahead) opens it for one hour.
    pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(60 * 60);

    /// Honours `Retry-After` (opt-in): a `429 Too Many Requests` or `503 Service
    /// Unavailable` response carrying `Retry-After: <seconds>` or `Retry-After: <HTTP-date>`
    /// opens the breaker for that long, at most [`RETRY_AFTER_CAP`](Self::RETRY_AFTER_CAP),
    /// with [`open_for`](crate::CircuitBreaker::open_for): calls are rejected until then, and
    /// the breaker half-opens afterwards. The response is still classified as before (a `429`
    /// stays a success unless the predicate picks it). A value of zero, a date in the past
    /// or a header that does not parse opens nothing; nor does any header while the breaker
    /// is forced open, disabled or in metrics-only mode.
    ///
    /// ```
    /// use breaker_runtime::tower::{Classify, HttpClassifier};
    /// use http::Response;
    /// use std::time::Duration;
    ///
    /// let http = HttpClassifier::default().honour_retry_after();
    /// let busy = Ok::<_, ()>(Response::builder().status(429).header("retry-after", "120").body(()).unwrap());
    /// assert_eq!(http.retry_after(&busy), Some(Duration::from_secs(120)));
    /// let huge = Ok::<_, ()>(Response::builder().status(503).header("retry-after", "99999999").body(()).unwrap());
    /// assert_eq!(http.retry_after(&huge), Some(HttpClassifier::RETRY_AFTER_CAP));
    /// // Without the opt-in, the header is not read.
    /// assert_eq!(HttpClassifier::default().retry_after(&busy), None);
    /// ```
    pub fn honour_retry_after(self) -> HttpClassifier {
        HttpClassifier {
            retry_after: true,
            ..self
        }
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

    fn write_cause(
        &self,
        result: &Result<http::Response<B>, E>,
        f: &mut fmt::Formatter<'_>,
    ) -> fmt::Result {
        match result {
            Ok(response) => write!(f, "HTTP {}", response.status()),
            Err(_) => Ok(()),
        }
    }

    fn retry_after(&self, result: &Result<http::Response<B>, E>) -> Option<Duration> {
        let response = result.as_ref().ok().filter(|_| self.retry_after)?;
        let status = response.status().as_u16();
        if status != 429 && status != 503 {
            return None;
        }
        let value = response.headers().get(http::header::RETRY_AFTER)?;
        parse_retry_after(value.to_str().ok()?.trim(), SystemTime::now())
            .filter(|wait| !wait.is_zero())
            .map(|wait| wait.min(HttpClassifier::RETRY_AFTER_CAP))
    }
}

/// A `Retry-After` value: delay-seconds, or an HTTP-date (a wait counted from `now`).
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than a u64 holds is still "a very long time".
        return Some(value.parse().map_or(Duration::MAX, Duration::from_secs));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    date.duration_since(now).ok()
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

    fn write_cause(
        &self,
        result: &Result<http::Response<B>, E>,
        f: &mut fmt::Formatter<'_>,
    ) -> fmt::Result {
        let Ok(response) = result else {
            return Ok(());
        };
        match response.headers().get("grpc-status").map(|v| v.to_str()) {
            Some(Ok(code)) if !response.status().is_server_error() => {
                write!(f, "grpc-status {}", code.trim())
            }
            _ => write!(f, "HTTP {}", response.status()),
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
