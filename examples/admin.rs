//! The admin endpoint: an axum service on 127.0.0.1 that mounts `AdminRouter` under
//! `/admin`, driven with a real HTTP client.
//!
//! Run it with `cargo run --example admin --features axum`. It lists the breakers, opens the
//! critical one by hand, watches `/admin/health` turn to 503, closes it again and exits.

use axum::Router;
use breaker_runtime::admin::AdminRouter;
use breaker_runtime::{circuit_breaker, registry};
use std::io;

/// The service's database access, behind the breaker `db`.
#[circuit_breaker(name = "db", failure_threshold = 5)]
fn load_user(id: u32) -> io::Result<String> {
    Ok(format!("user {id}"))
}

/// A cache lookup, behind the breaker `cache` (not critical: the service works without it).
#[circuit_breaker(name = "cache")]
fn cached(key: &str) -> io::Result<Option<String>> {
    let _ = key;
    Ok(None)
}

#[tokio::main]
async fn main() {
    // Breakers made by the attribute register on their first call.
    load_user(1).expect("the database answers");
    cached("user:1").expect("the cache answers");

    let app = Router::new().nest(
        "/admin",
        AdminRouter::new(registry()).critical(["db"]).into_router(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let base = format!(
        "http://{}/admin",
        listener.local_addr().expect("bound address")
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = reqwest::Client::new();
    for (method, path) in [
        ("GET", "/breakers"),
        ("GET", "/health"),
        ("POST", "/breakers/db/open"),
        ("GET", "/health"),
        ("POST", "/breakers/db/close"),
        ("GET", "/health"),
        ("GET", "/breakers/nobody"),
        ("DELETE", "/breakers/db"),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let response = client
            .request(method.clone(), format!("{base}{path}"))
            .send()
            .await
            .expect("the admin endpoint answers");
        let status = response.status();
        let body = response.text().await.expect("a body");
        println!("{method} /admin{path} -> {status}\n  {body}\n");
    }
}
