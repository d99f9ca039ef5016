//! Breaks a new user met building a service from the README alone (a trial service with
//! axum, the admin router, fleet mode and the tower layer); each test names what tripped.

use breaker_runtime::{CircuitBreaker, State, TransitionReason};

/// The snapshot's `last_transition` (what `GET /admin/breakers` and the dashboard show)
/// kept the previous transition when a failure that came with its text opened the breaker
/// (every `#[circuit_breaker]` function whose error is `Display`, `failure_because`, a std
/// error through `call_sync`): it said `manual`, from the `close` before, for a breaker
/// that had just opened on `failure_threshold`.
#[test]
fn an_open_with_a_cause_is_the_last_transition() {
    let breaker = CircuitBreaker::builder("newuser-last-transition-cause")
        .failure_threshold(1)
        .build();
    breaker.force_open();
    breaker.close();
    assert_eq!(
        breaker.snapshot().last_transition.map(|t| t.reason),
        Some(TransitionReason::Manual)
    );

    breaker
        .try_acquire()
        .unwrap()
        .failure_because(&"connection refused");
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(breaker.open_cause().as_deref(), Some("connection refused"));
    let last = breaker.snapshot().last_transition.expect("a transition");
    assert_eq!(last.reason, TransitionReason::FailureThreshold);

    // Through `call_sync`, whose `&str` error is a cause too.
    let other = CircuitBreaker::builder("newuser-last-transition-call")
        .failure_threshold(1)
        .build();
    other.force_open();
    other.close();
    let _ = other.call_sync(|| Err::<(), _>("refused"));
    assert_eq!(other.state(), State::Open);
    assert_eq!(
        other.snapshot().last_transition.map(|t| t.reason),
        Some(TransitionReason::FailureThreshold)
    );
}

/// The same through the attribute, whose error has a `Display`.
#[cfg(feature = "macros")]
mod attribute {
    use breaker_runtime::{circuit_breaker, registry, BreakerError, TransitionReason};

    #[derive(Debug)]
    enum AppError {
        Down,
        Breaker(BreakerError),
    }

    impl From<BreakerError> for AppError {
        fn from(e: BreakerError) -> Self {
            AppError::Breaker(e)
        }
    }

    impl std::fmt::Display for AppError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                AppError::Down => f.write_str("backend down"),
                AppError::Breaker(e) => e.fmt(f),
            }
        }
    }

    #[circuit_breaker(name = "newuser-last-transition-attr", failure_threshold = 2)]
    fn fetch() -> Result<u32, AppError> {
        Err(AppError::Down)
    }

    #[test]
    fn an_attribute_open_is_the_last_transition() {
        let _ = fetch();
        let _ = fetch();
        let b = registry().get("newuser-last-transition-attr").unwrap();
        assert_eq!(b.open_cause().as_deref(), Some("backend down"));
        assert_eq!(
            b.snapshot().last_transition.map(|t| t.reason),
            Some(TransitionReason::FailureThreshold)
        );
    }
}
