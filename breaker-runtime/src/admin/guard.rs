//! The admin router's guard: the bearer token, when one is set, and the refusal of what a
//! cross-site web page can send without a CORS preflight.

use super::{error, AdminRouter};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use std::fmt;
use std::sync::Arc;

/// A bearer token; its `Debug` never shows it.
#[derive(Clone)]
pub(super) struct Secret(Arc<[u8]>);

impl Secret {
    pub(super) fn new(secret: String) -> Secret {
        Secret(Arc::from(secret.into_bytes()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Runs before every admin route: the token first (`401`), then, on a method that is not
/// `GET`, `HEAD` or `OPTIONS`, the cross-site checks (`403`).
pub(super) async fn guard(
    State(admin): State<Arc<AdminRouter>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(secret) = &admin.bearer_token {
        if !authorized(request.headers(), secret) {
            let mut response = error(
                StatusCode::UNAUTHORIZED,
                "missing or wrong bearer token: send `Authorization: Bearer <token>`".into(),
            );
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
    }
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

/// Whether `Authorization` is `Bearer <secret>` (the scheme in any case), the token
/// compared in constant time.
fn authorized(headers: &HeaderMap, secret: &Secret) -> bool {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return false;
    };
    let value = value.as_bytes();
    let Some(space) = value.iter().position(|&b| b == b' ') else {
        return false;
    };
    let (scheme, rest) = value.split_at(space);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return false;
    }
    let start = rest.iter().position(|&b| b != b' ').unwrap_or(rest.len());
    constant_time_eq(&secret.0, &rest[start..])
}

/// `expected == given`, in a time that depends only on `expected.len()`: every byte is
/// looked at whatever the first difference, and no branch depends on the bytes.
pub(super) fn constant_time_eq(expected: &[u8], given: &[u8]) -> bool {
    let mut diff = u8::from(expected.len() != given.len());
    for (i, &e) in expected.iter().enumerate() {
        let g = given.get(i).copied().unwrap_or(!e);
        diff |= std::hint::black_box(e ^ g);
    }
    std::hint::black_box(diff) == 0
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
        let matches = match (origin.split_once("://"), host) {
            (Some((scheme, authority)), Some(host)) => {
                // `Host: admin.example:443` is `Origin: https://admin.example`'s own.
                let default_port = match scheme.to_ascii_lowercase().as_str() {
                    "https" => ":443",
                    "http" => ":80",
                    _ => "",
                };
                let normal = |authority: &str| {
                    let authority = authority.trim().to_ascii_lowercase();
                    match authority.strip_suffix(default_port) {
                        Some(bare) if !default_port.is_empty() => bare.to_owned(),
                        _ => authority,
                    }
                };
                normal(authority) == normal(host)
            }
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

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn constant_time_eq_is_eq() {
        assert!(constant_time_eq(b"s3cret", b"s3cret"));
        assert!(!constant_time_eq(b"s3cret", b"s3creT"));
        assert!(!constant_time_eq(b"s3cret", b"s3cre"));
        assert!(!constant_time_eq(b"s3cret", b"s3crett"));
        assert!(!constant_time_eq(b"s3cret", b""));
        assert!(constant_time_eq(b"", b""));
    }
}
