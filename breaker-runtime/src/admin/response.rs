//! A rejection as an axum response: [`BreakerError`] and [`CallError`] implement
//! `IntoResponse`, for handlers and `CircuitBreakerLayer`s on the server side.

use crate::error::format::{retry_after_ms, retry_after_secs};
use crate::error::{BreakerError, CallError};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

#[derive(Serialize)]
struct RejectionBody<'a> {
    error: String,
    breaker: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_ms: Option<u64>,
}

/// `503 Service Unavailable` for a rejection, with `Retry-After` (whole seconds, rounded up:
/// the figure the error's `Display` shows) while the breaker is open; `504 Gateway Timeout` for a call cut by `call_timeout`. The
/// body is JSON: `{"error": "…", "breaker": "…", "retry_after_ms": …}`.
///
/// ```
/// use axum::response::IntoResponse;
/// use breaker_runtime::BreakerError;
/// use std::time::Duration;
///
/// let rejected = BreakerError::Open { name: "db".into(), retry_after: Duration::from_millis(1500) };
/// let response = rejected.into_response();
/// assert_eq!(response.status(), 503);
/// assert_eq!(response.headers()["retry-after"], "2");
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl IntoResponse for BreakerError {
    fn into_response(self) -> Response {
        let status = if self.is_timeout() {
            StatusCode::GATEWAY_TIMEOUT
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        let retry_after = self.retry_after();
        let body = RejectionBody {
            error: self.to_string(),
            breaker: self.name(),
            retry_after_ms: retry_after.map(retry_after_ms),
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(after) = retry_after {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_secs(after)),
            );
        }
        response
    }
}

/// The breaker's response for [`CallError::Breaker`] (see [`BreakerError`]'s), the inner
/// error's own for [`CallError::Inner`]; so a `CircuitBreakerLayer`
/// in an axum app needs only `HandleErrorLayer::new(|e: CallError<Infallible>| async move { e })`.
///
/// ```
/// use axum::response::IntoResponse;
/// use breaker_runtime::{BreakerError, CallError};
///
/// let err: CallError<(axum::http::StatusCode, &str)> =
///     CallError::Breaker(BreakerError::ForcedOpen { name: "db".into() });
/// assert_eq!(err.into_response().status(), 503);
/// let err: CallError<_> = CallError::Inner((axum::http::StatusCode::BAD_GATEWAY, "upstream"));
/// assert_eq!(err.into_response().status(), 502);
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl<E: IntoResponse> IntoResponse for CallError<E> {
    fn into_response(self) -> Response {
        match self {
            CallError::Breaker(e) => e.into_response(),
            CallError::Inner(e) => e.into_response(),
        }
    }
}
