//! The open's log line carries the cause (issue 13, item 17). In a file of its own: see
//! `common/logs.rs` on why a test that reads logs needs one.

mod common;

use breaker_runtime::CircuitBreaker;
use common::logs::with_logs;

/// The open's WARN line names the failure that opened it; a breaker opened by hand has none.
#[test]
fn the_open_log_line_names_the_cause() {
    let ((), logs) = with_logs(tracing::Level::INFO, |_| {
        let b = CircuitBreaker::builder("cause-log")
            .failure_threshold(1)
            .build();
        let _ = b.call_sync(|| Err::<(), _>(std::io::Error::other("disk full")));
        let manual = CircuitBreaker::builder("cause-log-manual").build();
        manual.force_open();
    });
    let text = logs.take();
    let opened = text
        .lines()
        .find(|l| l.contains("name=\"cause-log\""))
        .expect("a line for the open");
    assert!(opened.contains("WARN"), "{opened}");
    assert!(opened.contains("cause=\"disk full\""), "{opened}");
    let forced = text
        .lines()
        .find(|l| l.contains("cause-log-manual"))
        .expect("a line for the forced open");
    assert!(!forced.contains("cause="), "{forced}");
}
