//! Found by an adversarial review of the rewritten state machine: each test is a guarantee of
//! the README or the contract that did not hold (a reconfigure while open or with a window
//! past the new thresholds; a tracing subscriber reading the registry), now kept as regression
//! tests.

mod common;

use breaker_runtime::{BreakerConfig, CircuitBreaker, State};
use common::{fail, ok};
use std::time::Duration;
use tokio::time::advance;

/// README: "`retry_after` ... never exceeds ... the reset timeout in force". A reconfigure
/// that shortens `reset_timeout` while the breaker is open leaves the open period (and the
/// `retry_after` every rejection states) at the old length.
#[tokio::test(start_paused = true)]
async fn retry_after_never_exceeds_a_reset_timeout_shortened_while_open() {
    let b = CircuitBreaker::builder("rv-retry-reconf")
        .failure_threshold(1)
        .reset_timeout(Duration::from_secs(60))
        .build();
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Open);

    let shorter = Duration::from_secs(1);
    b.reconfigure(
        BreakerConfig::builder()
            .failure_threshold(1)
            .reset_timeout(shorter)
            .build(),
    )
    .unwrap();

    let err = b.try_acquire().unwrap_err();
    let retry = err.retry_after().expect("open");
    assert!(
        retry <= shorter,
        "retry_after {retry:?} exceeds the reset timeout in force {shorter:?}"
    );
}

/// Same root cause, seen through the state: the reset timeout in force has passed, the
/// breaker still says Open (contract: "Open → HalfOpen: once `reset_timeout` ... has passed").
#[tokio::test(start_paused = true)]
async fn a_reset_timeout_shortened_while_open_takes_effect() {
    let b = CircuitBreaker::builder("rv-reset-reconf")
        .failure_threshold(1)
        .reset_timeout(Duration::from_secs(60))
        .build();
    fail(&b).await.unwrap_err();
    b.reconfigure(
        BreakerConfig::builder()
            .failure_threshold(1)
            .reset_timeout(Duration::from_secs(1))
            .build(),
    )
    .unwrap();
    advance(Duration::from_secs(2)).await;
    assert_eq!(
        b.state(),
        State::HalfOpen,
        "2 s after opening, under a 1 s reset timeout"
    );
}

/// README: "a window holding at least `minimum_calls` calls whose failure rate reaches
/// `failure_rate`" opens the breaker. A count window checks the rate on a success only when
/// that success brings it to exactly `minimum_calls`; after a reconfigure lowers the rate
/// (the window is kept, same shape), a success with the rate reached opens nothing, where a
/// time window in the same position opens (see the next test).
#[tokio::test(start_paused = true)]
async fn a_reconfigure_that_lowers_the_rate_below_the_window_opens_a_count_window() {
    let config = |rate: f64| {
        BreakerConfig::builder()
            .failure_rate(rate)
            .minimum_calls(2)
            .window(10)
            .build()
    };
    let b = CircuitBreaker::builder("rv-count-lowered")
        .failure_rate(0.9)
        .minimum_calls(2)
        .window(10)
        .build();
    fail(&b).await.unwrap_err();
    ok(&b).await.unwrap();
    assert_eq!(b.state(), State::Closed, "1 of 2 is below 0.9");

    // The window kept across the change already holds 2 >= minimum_calls calls at a failure
    // rate of 1/2 >= 0.3: the reconfigure itself opens it (no later success would notice).
    b.reconfigure(config(0.3)).unwrap();
    let m = b.metrics();
    assert_eq!(b.state(), State::Open, "{m:?}");
    assert_eq!(m.opened_count, 1);
}

/// The control for the test above: the same sequence on a time window opens.
#[tokio::test(start_paused = true)]
async fn a_reconfigure_that_lowers_the_rate_below_the_window_opens_a_time_window() {
    let config = |rate: f64| {
        BreakerConfig::builder()
            .failure_rate(rate)
            .minimum_calls(2)
            .window(Duration::from_secs(10))
            .build()
    };
    let b = CircuitBreaker::builder("rv-time-lowered")
        .failure_rate(0.9)
        .minimum_calls(2)
        .window(Duration::from_secs(10))
        .build();
    fail(&b).await.unwrap_err();
    ok(&b).await.unwrap();
    assert_eq!(b.state(), State::Closed);
    b.reconfigure(config(0.3)).unwrap();
    assert_eq!(b.state(), State::Open);
}

/// README/brief: no deadlock when a tracing subscriber calls back in. `Registry::create`
/// logs "settings from config files or the environment do not fit this breaker" with
/// `tracing::error!` while it holds the registry's write lock; a subscriber whose writer
/// reads the registry (e.g. to add the breaker count to each line) blocks for ever, and with
/// it every later `get`, `get_or_create`, `snapshot` and admin route of that registry.
#[cfg(feature = "config")]
#[test]
fn a_tracing_writer_that_reads_the_registry_never_deadlocks_get_or_create() {
    use breaker_runtime::Registry;
    use std::sync::{mpsc, Arc};

    struct ReadsRegistry(Arc<Registry>);
    impl std::io::Write for ReadsRegistry {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let _ = self.0.names();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let reg = Arc::new(Registry::new());
    // A layer that does not fit the code's window of 10 calls.
    breaker_runtime::config::load_str_into(&reg, "[breakers.\"rv-layered\"]\nminimum_calls = 50\n")
        .unwrap();

    let (tx, rx) = mpsc::channel();
    let r = reg.clone();
    std::thread::spawn(move || {
        let writer_reg = r.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || ReadsRegistry(writer_reg.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let b = r.get_or_create(
                "rv-layered",
                BreakerConfig::builder()
                    .failure_rate(0.5)
                    .window(10)
                    .build(),
            );
            tx.send(b.state()).unwrap();
        });
    });
    // A wait on a condition with a generous bound, not a sleep: it returns at once when
    // get_or_create returns.
    let got = rx.recv_timeout(Duration::from_secs(20));
    assert_eq!(
        got,
        Ok(State::Closed),
        "get_or_create never returned: it logged under the registry's write lock"
    );
}
