//! Every `#[circuit_breaker]` function whose breaker name is known when it is compiled (a
//! `name`, or a free function's path) is in the registry from its first use, before the
//! function's first call: an operator can find it and force it open at start-up (CONTRACT
//! "Runtime API"; issue 13, item 12).

use breaker_runtime::{circuit_breaker, registry, BreakerError, State};

#[derive(Debug)]
struct Down;

impl From<BreakerError> for Down {
    fn from(_: BreakerError) -> Self {
        Down
    }
}

#[circuit_breaker(name = "start-orders-slow", failure_threshold = 7)]
fn slow_orders() -> Result<u8, Down> {
    Ok(1)
}

#[circuit_breaker]
async fn never_called() -> Result<u8, Down> {
    Ok(2)
}

#[tokio::test]
async fn breakers_exist_before_their_first_call() {
    let names = registry().names();
    assert!(
        names.iter().any(|n| n == "start-orders-slow"),
        "the named breaker is known before its first call: {names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| n.ends_with("macro_known_from_start::never_called")),
        "the free function's default name too: {names:?}"
    );
    let slow = registry().get("start-orders-slow").unwrap();
    assert_eq!(
        slow.settings().failure_threshold,
        Some(7),
        "with the attribute's settings"
    );

    // Forced open before any call: the first call is rejected.
    slow.force_open();
    assert!(slow_orders().is_err());
    slow.close();
    assert_eq!(slow_orders().unwrap(), 1);
    assert_eq!(slow.state(), State::Closed);
    let _ = never_called; // declared, never called
}
