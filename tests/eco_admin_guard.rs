//! Feature `axum`: the admin router's guard, over a real axum server on 127.0.0.1 and a real
//! HTTP client. Mutating routes refuse what a cross-site web page can send without a CORS
//! preflight; `bearer_token` makes every route require `Authorization: Bearer <token>`.
#![cfg(feature = "axum")]

mod common;

use breaker_runtime::admin::AdminRouter;
use breaker_runtime::{BreakerConfig, Registry, State};
use common::serve;
use reqwest::{Client, Method, Response};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;

fn own(names: &[&str]) -> Arc<Registry> {
    let registry = Arc::new(Registry::new());
    for name in names {
        registry.get_or_create(name, BreakerConfig::default());
    }
    registry
}

async fn send(
    addr: SocketAddr,
    method: Method,
    path: &str,
    headers: &[(&str, String)],
) -> Response {
    let mut request = Client::new().request(method, format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    if headers.iter().any(|(name, _)| *name == "content-type") {
        request = request.body("state=open");
    }
    request.send().await.unwrap()
}

/// Status, `WWW-Authenticate` and JSON body (the content type is asserted to be JSON).
async fn parts(response: Response) -> (u16, Option<String>, Value) {
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").cloned();
    assert_eq!(
        content_type.as_ref().and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "{status}"
    );
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    (status, challenge, body)
}

#[tokio::test]
async fn what_a_cross_site_page_can_send_cannot_control_a_breaker() {
    let registry = own(&["db"]);
    let addr = serve(AdminRouter::with_registry(registry.clone()).into_router());
    let db = registry.get("db").unwrap();
    let same_origin = format!("http://{addr}");
    let s = String::from;

    let refused: Vec<Vec<(&str, String)>> = vec![
        // The form a page posts across sites.
        vec![
            ("origin", s("https://evil.example")),
            ("content-type", s("application/x-www-form-urlencoded")),
            ("sec-fetch-site", s("cross-site")),
        ],
        // Each signal alone.
        vec![("origin", s("https://evil.example"))],
        vec![("origin", s("null"))],
        vec![("origin", format!("http://{}:1", addr.ip()))],
        vec![
            ("host", s("admin.example:8080")),
            ("origin", s("http://admin.example")),
        ],
        vec![
            ("host", s("admin.example:443")),
            ("origin", s("http://admin.example")),
        ],
        vec![
            ("host", s("admin.example")),
            ("origin", s("http://admin.example.evil.example")),
        ],
        vec![("sec-fetch-site", s("cross-site"))],
        vec![("sec-fetch-site", s("same-site"))],
        vec![("content-type", s("application/x-www-form-urlencoded"))],
        vec![("content-type", s("multipart/form-data; boundary=x"))],
        vec![("content-type", s("text/plain;charset=UTF-8"))],
        vec![("content-type", s("Text/Plain"))],
        // Same origin, but a form: a page on this origin may be hostile HTML too.
        vec![
            ("origin", same_origin.clone()),
            ("content-type", s("application/x-www-form-urlencoded")),
        ],
    ];
    for action in ["open", "reset", "disable", "close", "metrics_only"] {
        for headers in &refused {
            let response = send(
                addr,
                Method::POST,
                &format!("/breakers/db/{action}"),
                headers,
            )
            .await;
            let (status, _, body) = parts(response).await;
            assert_eq!(status, 403, "{action} {headers:?}");
            assert!(
                body["error"]
                    .as_str()
                    .unwrap()
                    .starts_with("refused a request a cross-site page could send"),
                "{body}"
            );
            assert_eq!(db.state(), State::Closed, "{action} {headers:?}");
        }
    }

    // curl, scripts and same-origin pages sending JSON go through.
    let allowed: Vec<Vec<(&str, String)>> = vec![
        vec![],
        vec![("content-type", s("application/json"))],
        vec![("origin", same_origin.clone())],
        vec![
            ("origin", same_origin.clone()),
            ("content-type", s("application/json")),
            ("sec-fetch-site", s("same-origin")),
        ],
        vec![("sec-fetch-site", s("none"))],
        // The scheme's default port, written or not, and ASCII case.
        vec![
            ("host", s("admin.example")),
            ("origin", s("http://admin.example")),
        ],
        vec![
            ("host", s("Admin.Example:80")),
            ("origin", s("http://admin.example")),
        ],
        vec![
            ("host", s("admin.example")),
            ("origin", s("https://admin.example:443")),
        ],
    ];
    for headers in &allowed {
        let response = send(addr, Method::POST, "/breakers/db/open", headers).await;
        let (status, _, body) = parts(response).await;
        assert_eq!(
            (status, body["state"].as_str()),
            (200, Some("forced_open")),
            "{headers:?}"
        );
        db.close();
    }

    // GET routes stay open to any origin: reading is not forbidden.
    for path in ["/breakers", "/breakers/db", "/health"] {
        let response = send(
            addr,
            Method::GET,
            path,
            &[
                ("origin", s("https://evil.example")),
                ("sec-fetch-site", s("cross-site")),
            ],
        )
        .await;
        assert_eq!(parts(response).await.0, 200, "{path}");
    }
}

#[tokio::test]
async fn a_bearer_token_guards_every_route() {
    let registry = own(&["db"]);
    let admin = AdminRouter::with_registry(registry.clone()).bearer_token("s3cret-token");
    assert!(!format!("{admin:?}").contains("s3cret"), "{admin:?}");
    let addr = serve(axum::Router::new().nest("/admin", admin.into_router()));
    let db = registry.get("db").unwrap();
    let s = String::from;

    let routes = [
        (Method::GET, "/admin/breakers"),
        (Method::GET, "/admin/breakers/db"),
        (Method::GET, "/admin/health"),
        (Method::POST, "/admin/breakers/db/open"),
        (Method::POST, "/admin/breakers/db/reset"),
        (Method::GET, "/admin/breakers/"),
        (Method::GET, "/admin/breakers/db/frobnicate"),
    ];
    let wrong = [
        vec![],
        vec![("authorization", s("Bearer"))],
        vec![("authorization", s("Bearer "))],
        vec![("authorization", s("Bearer s3cret-toke"))],
        vec![("authorization", s("Bearer s3cret-token2"))],
        vec![("authorization", s("Bearer S3CRET-TOKEN"))],
        vec![("authorization", s("Basic s3cret-token"))],
        vec![("authorization", s("s3cret-token"))],
    ];
    for (method, path) in &routes {
        for headers in &wrong {
            let response = send(addr, method.clone(), path, headers).await;
            let (status, challenge, body) = parts(response).await;
            assert_eq!(status, 401, "{method} {path} {headers:?}");
            assert_eq!(challenge.as_deref(), Some("Bearer"), "{method} {path}");
            assert!(
                body["error"].as_str().unwrap().contains("bearer token"),
                "{body}"
            );
        }
    }
    assert_eq!(db.state(), State::Closed);

    for (method, path) in &routes {
        for scheme in ["Bearer", "bearer"] {
            let headers = [("authorization", format!("{scheme} s3cret-token"))];
            let response = send(addr, method.clone(), path, &headers).await;
            let (status, challenge, _) = parts(response).await;
            let expected = if path.ends_with('/') || path.ends_with("frobnicate") {
                404
            } else {
                200
            };
            assert_eq!((status, challenge), (expected, None), "{method} {path}");
        }
    }
    assert_eq!(db.state(), State::Closed, "reset came last");

    // The token does not lift the cross-site checks.
    let response = send(
        addr,
        Method::POST,
        "/admin/breakers/db/open",
        &[
            ("authorization", s("Bearer s3cret-token")),
            ("origin", s("https://evil.example")),
        ],
    )
    .await;
    assert_eq!(parts(response).await.0, 403);
    assert_eq!(db.state(), State::Closed);
}

#[test]
#[should_panic(expected = "empty token")]
fn an_empty_bearer_token_is_refused() {
    let _ = AdminRouter::default().bearer_token("");
}
