//! The paused clock moves breakers by exactly what a test advances, even for a runtime that
//! started before the runtime's clock fixed its epoch (another test, another thread).
//! Its own binary: the epoch is fixed once per process, and this test must fix it itself.

mod common;

use breaker_runtime::{CircuitBreaker, State};
use common::paused_runtime;
use std::time::Duration;

#[test]
fn advancing_exactly_the_reset_timeout_half_opens_on_either_side_of_the_epoch() {
    let early = paused_runtime(); // its clock starts before the epoch below
    let late = paused_runtime();
    late.block_on(async {
        // The first clock read fixes the epoch, at `late`'s start.
        let b = CircuitBreaker::builder("clock-late")
            .failure_threshold(1)
            .build();
        b.try_acquire().unwrap().failure();
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(b.state(), State::Open);
        tokio::time::advance(Duration::from_secs(20)).await;
        assert_eq!(b.state(), State::HalfOpen);
    });
    early.block_on(async {
        let b = CircuitBreaker::builder("clock-early")
            .failure_threshold(1)
            .reset_timeout(Duration::from_secs(10))
            .build();
        b.try_acquire().unwrap().failure();
        tokio::time::advance(Duration::from_millis(9_999)).await;
        assert_eq!(b.state(), State::Open);
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(b.state(), State::HalfOpen);
    });
}
