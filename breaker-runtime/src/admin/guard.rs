//! The admin router's guard: the refusal of what a cross-site web page can send without a
//! CORS preflight.

use super::error;
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// Runs before every admin route: on a method that is not `GET`, `HEAD` or `OPTIONS`, the
/// cross-site checks (`403`).
pub(super) async fn guard(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| request.uri().authority().map(|a| a.as_str()));
        if let Some(why) = cross_site(request.headers(), host) {
            return error(
                StatusCode::FORBIDDEN,
                format!("refused a request a cross-site page could send: {why}"),
            );
        }
    }
    next.run(request).await
}

/// Why a mutating request looks like one a cross-site page sent, if it does.
fn cross_site(headers: &HeaderMap, host: Option<&str>) -> Option<String> {
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site.to_str().unwrap_or("");
        if !(site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none")) {
            return Some(format!("`Sec-Fetch-Site: {site}`"));
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let authority = origin
            .split_once("://")
            .map(|(_, rest)| rest.trim_end_matches('/'));
        let matches = match (authority, host) {
            (Some(authority), Some(host)) => authority.eq_ignore_ascii_case(host.trim()),
            _ => false,
        };
        if !matches {
            return Some(format!(
                "`Origin: {origin}` does not match `Host: {}`",
                host.unwrap_or("")
            ));
        }
    }
    if let Some(content_type) = headers.get(header::CONTENT_TYPE) {
        let content_type = content_type.to_str().unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if [
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "text/plain",
        ]
        .iter()
        .any(|form| essence.eq_ignore_ascii_case(form))
        {
            return Some(format!(
                "`Content-Type: {essence}`; send `application/json` or no body"
            ));
        }
    }
    None
}
