//! The HTTP status that opened a breaker is its cause.

use super::{client, send_get, status_service};
use breaker_runtime::tower::CircuitBreakerLayer;
use breaker_runtime::{CircuitBreaker, State};
use tower::ServiceBuilder;

#[tokio::test(start_paused = true)]
async fn the_status_that_opens_the_breaker_is_its_open_cause() {
    let (addr, _) = status_service();
    let breaker = CircuitBreaker::builder("eco-tower-cause")
        .failure_threshold(2)
        .build();
    let mut svc = ServiceBuilder::new()
        .layer(CircuitBreakerLayer::new(breaker.clone()).http())
        .service(client());
    send_get(&mut svc, addr, "/status/500").await.unwrap();
    assert_eq!(breaker.open_cause(), None);
    send_get(&mut svc, addr, "/status/503").await.unwrap();
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(
        breaker.open_cause().as_deref(),
        Some("HTTP 503 Service Unavailable")
    );
    assert_eq!(
        breaker.snapshot().open_cause.as_deref(),
        Some("HTTP 503 Service Unavailable")
    );
}
