//! `GET /dashboard`: one self-contained page (`page.html`, with `page.css` and `page.js`
//! inlined), served with a `Content-Security-Policy` that allows its own style and script by
//! their SHA-256 and connections to its own origin only.

use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

const TEMPLATE: &str = include_str!("page.html");
const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// The page and its policy, made once per process.
struct Page {
    html: String,
    csp: HeaderValue,
}

fn page_once() -> &'static Page {
    static PAGE: OnceLock<Page> = OnceLock::new();
    PAGE.get_or_init(|| {
        // The hashes are over the exact text between the tags, as browsers hash it.
        let hash = |text: &str| {
            let digest = Sha256::digest(text.as_bytes());
            let encoded = base64::engine::general_purpose::STANDARD.encode(digest);
            format!("'sha256-{encoded}'")
        };
        let html = TEMPLATE
            .replacen("/*STYLE*/", STYLE, 1)
            .replacen("/*SCRIPT*/", SCRIPT, 1);
        let csp = format!(
            "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; \
             img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            hash(SCRIPT),
            hash(STYLE)
        );
        Page {
            html,
            // Base64, quotes, letters and punctuation only: always a valid header value.
            csp: HeaderValue::from_str(&csp)
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'")),
        }
    })
}

/// `GET /dashboard`.
pub(super) async fn page() -> Response {
    let page = page_once();
    let mut response = Html(page.html.as_str()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, page.csp.clone());
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
