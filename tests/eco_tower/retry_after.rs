//! `honour_retry_after`: a 429 or 503 with `Retry-After` opens the breaker for that long.

use super::{client, send_get};
use crate::common::serve;
use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use breaker_runtime::tower::{CircuitBreakerLayer, HttpClassifier};
use breaker_runtime::{CircuitBreaker, State};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};
use tower::ServiceBuilder;

/// `GET /{status}/{retry-after}` answers that status with that `Retry-After`.
fn retry_after_service() -> SocketAddr {
    async fn answer(
        axum::extract::Path((code, after)): axum::extract::Path<(u16, String)>,
    ) -> impl IntoResponse {
        let mut r = StatusCode::from_u16(code).unwrap().into_response();
        let after = after.replace('_', " ");
        r.headers_mut()
            .insert("retry-after", HeaderValue::from_str(&after).unwrap());
        r
    }
    serve(Router::new().route("/{code}/{after}", get(answer)))
}

fn retry_wait(b: &CircuitBreaker) -> Duration {
    b.try_acquire().unwrap_err().retry_after().unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_429_with_retry_after_seconds_opens_for_that_long_then_half_opens() {
    let addr = retry_after_service();
    let breaker = CircuitBreaker::builder("eco-tower-retry-after")
        .failure_threshold(100)
        .build();
    let mut svc = ServiceBuilder::new()
        .layer(
            CircuitBreakerLayer::new(breaker.clone())
                .http()
                .honour_retry_after(),
        )
        .service(client());
    let r = send_get(&mut svc, addr, "/429/120").await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(retry_wait(&breaker), Duration::from_secs(120));
    tokio::time::advance(Duration::from_secs(120)).await;
    assert_eq!(breaker.state(), State::HalfOpen);
}

#[tokio::test(start_paused = true)]
async fn a_503_with_an_http_date_opens_until_then_and_huge_values_are_capped() {
    let addr = retry_after_service();
    let breaker = CircuitBreaker::builder("eco-tower-retry-after-date")
        .failure_threshold(100)
        .build();
    let mut svc = ServiceBuilder::new()
        .layer(
            CircuitBreakerLayer::new(breaker.clone())
                .http()
                .honour_retry_after(),
        )
        .service(client());
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(90));
    let r = send_get(&mut svc, addr, &format!("/503/{}", date.replace(' ', "_")))
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(breaker.state(), State::Open);
    let wait = retry_wait(&breaker);
    assert!(
        wait > Duration::from_secs(80) && wait <= Duration::from_secs(90),
        "{wait:?}"
    );

    breaker.close();
    send_get(&mut svc, addr, "/503/99999999999").await.unwrap();
    assert_eq!(retry_wait(&breaker), HttpClassifier::RETRY_AFTER_CAP);
}

#[tokio::test(start_paused = true)]
async fn without_the_opt_in_or_on_other_statuses_retry_after_opens_nothing() {
    let addr = retry_after_service();
    let breaker = CircuitBreaker::builder("eco-tower-retry-after-off")
        .failure_threshold(100)
        .build();
    let mut plain = ServiceBuilder::new()
        .layer(CircuitBreakerLayer::new(breaker.clone()).http())
        .service(client());
    send_get(&mut plain, addr, "/503/60").await.unwrap();
    assert_eq!(breaker.state(), State::Closed);
    let mut honouring = ServiceBuilder::new()
        .layer(
            CircuitBreakerLayer::new(breaker.clone())
                .http()
                .honour_retry_after(),
        )
        .service(client());
    for path in ["/500/60", "/200/60", "/429/0", "/429/soon"] {
        send_get(&mut honouring, addr, path).await.unwrap();
        assert_eq!(breaker.state(), State::Closed, "{path}");
    }
    // Not over a manual control.
    breaker.force_open();
    breaker.close();
    breaker.disable();
    send_get(&mut honouring, addr, "/429/60").await.unwrap();
    assert_eq!(breaker.state(), State::Disabled);
}
