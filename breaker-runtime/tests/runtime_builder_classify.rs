//! The builder's `classify`: the whole verdict on a result, asked by `call`, `call_sync`,
//! `Permit::record` and protected streams for every result of the type it was written for
//! (issue 13, item 14: "the attribute argument and builder method").

use breaker_runtime::{
    registry, BreakerConfig, CallError, CircuitBreaker, ConfigError, Outcome, State,
};

mod common;

use common::verdict::{by_status, Response};

#[test]
fn call_sync_asks_the_builders_classify_of_oks_and_errs() {
    let b = CircuitBreaker::builder("builder-classify-sync")
        .failure_threshold(2)
        .classify(by_status)
        .build();
    assert!(b.settings().has_classify());

    let answer = b.call_sync(|| Ok::<_, String>(Response { status: 503 }));
    assert_eq!(
        answer.unwrap(),
        Response { status: 503 },
        "returned as it is"
    );
    assert_eq!(b.metrics().failures, 1, "a 503 inside an Ok is a failure");

    assert!(b
        .call_sync(|| Ok::<_, String>(Response { status: 404 }))
        .is_ok());
    assert_eq!(b.metrics().ignored, 1, "a 404 is ignored");

    let answer = b.call_sync(|| Err::<Response, _>("not found".to_owned()));
    assert!(matches!(answer, Err(CallError::Inner(ref e)) if e == "not found"));
    assert_eq!(
        b.metrics().successes,
        1,
        "an Err the verdict calls an answer"
    );

    assert_eq!(b.state(), State::Closed, "one failure in a row so far");
    let _ = b.call_sync(|| Ok::<_, String>(Response { status: 500 }));
    let _ = b.call_sync(|| Ok::<_, String>(Response { status: 502 }));
    assert_eq!(b.state(), State::Open, "two failures in a row open it");
}

#[tokio::test]
async fn call_asks_it_too() {
    let b = CircuitBreaker::builder("builder-classify-async")
        .failure_threshold(1)
        .classify(by_status)
        .build();
    let answer = b
        .call(|| async { Ok::<_, String>(Response { status: 200 }) })
        .await;
    assert!(answer.is_ok());
    assert_eq!(b.state(), State::Closed);
    let answer = b
        .call(|| async { Ok::<_, String>(Response { status: 503 }) })
        .await;
    assert_eq!(answer.unwrap().status, 503);
    assert_eq!(b.state(), State::Open);
}

#[test]
fn results_of_another_type_are_judged_as_without_it() {
    let b = CircuitBreaker::builder("builder-classify-other-type")
        .failure_threshold(5)
        .classify(by_status)
        .build();
    let _ = b.call_sync(|| Ok::<u8, String>(1));
    let _ = b.call_sync(|| Err::<u8, _>("not found".to_owned()));
    let m = b.metrics();
    assert_eq!((m.successes, m.failures), (1, 1), "Ok succeeds, Err fails");
}

#[test]
fn a_recorded_permit_asks_it() {
    let b = CircuitBreaker::builder("builder-classify-permit")
        .classify(by_status)
        .build();
    let permit = b.try_acquire().unwrap();
    permit.record(&Ok::<_, String>(Response { status: 503 }));
    assert_eq!(b.metrics().failures, 1);
}

#[test]
fn a_config_carries_it_into_the_registry() {
    let config = BreakerConfig::builder()
        .failure_threshold(1)
        .classify(by_status)
        .build();
    let b = registry().get_or_create("builder-classify-registry", config);
    let _ = b.call_sync(|| Ok::<_, String>(Response { status: 500 }));
    assert_eq!(b.state(), State::Open);
}

#[test]
fn a_closure_serves_as_well() {
    let b = CircuitBreaker::builder("builder-classify-closure")
        .failure_threshold(1)
        .classify(|r: &Result<u16, std::io::Error>| match r {
            Ok(status) if *status >= 500 => Outcome::Failure,
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        })
        .build();
    assert!(b.call_sync(|| Ok::<u16, std::io::Error>(200)).is_ok());
    assert_eq!(b.state(), State::Closed);
    assert!(b.call_sync(|| Ok::<u16, std::io::Error>(503)).is_ok());
    assert_eq!(b.state(), State::Open);
}

#[test]
fn with_a_predicate_beside_it_the_breaker_is_refused_by_name() {
    let err = CircuitBreaker::builder("builder-classify-and-predicate")
        .classify(by_status)
        .failure_if(|e: &String| e != "not found")
        .try_build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::Invalid { ref key, .. } if key == "classify"));
    let text = err.to_string();
    assert!(text.contains("builder-classify-and-predicate"), "{text}");
    assert!(text.contains("failure_if"), "{text}");
}

/// A config load reconfigures the breaker from its layers; the code's `classify` is one of
/// them and stays in force (the flag the hot path reads follows the settings).
#[cfg(feature = "config")]
#[test]
fn a_config_load_keeps_it() {
    let mine = std::sync::Arc::new(breaker_runtime::Registry::new());
    let config = BreakerConfig::builder().classify(by_status).build();
    let b = mine.get_or_create("builder-classify-reload", config);
    breaker_runtime::config::load_str_into(
        &mine,
        r#"
        [breakers."builder-classify-reload"]
        failure_threshold = 1
        "#,
    )
    .unwrap();
    assert_eq!(b.settings().failure_threshold, Some(1));
    assert!(b.settings().has_classify());
    let _ = b.call_sync(|| Ok::<_, String>(Response { status: 503 }));
    assert_eq!(b.state(), State::Open, "the 503 still counts as a failure");
}
