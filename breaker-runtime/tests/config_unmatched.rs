//! Names in loaded settings that no breaker has (issue 13, item 10): a table or a variable for
//! a misspelt name used to load without a word. Now each load warns about them, with the
//! closest known name, and `config::unmatched` lists them. In a file of its own: the warning
//! is caught by a subscriber, and tracing caches each callsite's interest across threads, so
//! other tests' threads running without one could hide the event.
#![cfg(feature = "config")]

use breaker_runtime::config::{self, load_str_into, load_vars_into, unmatched_in};
use breaker_runtime::{registry, BreakerConfig, Registry};
use common::logs::with_logs;

mod common;

#[test]
fn typos_are_warned_about_at_load_and_listed() {
    with_logs(tracing::Level::WARN, |captured| {
        let r = Registry::new();
        r.get_or_create("orders.get", BreakerConfig::default());
        r.get_or_create("inventory", BreakerConfig::default());

        load_str_into(
            &r,
            r#"
            [breakers."orders.gte"]
            failure_threshold = 2
            [breakers."orders.get"]
            failure_threshold = 3
            # Only a base: named by another table, so no typo.
            [breakers."template"]
            reset_timeout = "10s"
            [breakers."inventory"]
            base = "template"
            "#,
        )
        .unwrap();
        let log = captured.take();
        assert!(log.contains("WARN"), "{log}");
        assert!(log.contains("orders.gte"), "{log}");
        assert!(log.contains("did you mean `orders.get`?"), "{log}");
        assert!(!log.contains("template"), "{log}");
        assert_eq!(unmatched_in(&r), ["orders.gte"]);

        load_vars_into(&r, [("BREAKER_ORDRES_GET_FAILURE_THRESHOLD", "2")]).unwrap();
        let log = captured.take();
        assert!(log.contains("ORDRES_GET"), "{log}");
        assert!(log.contains("did you mean `orders.get`?"), "{log}");
        assert_eq!(unmatched_in(&r), ["ORDRES_GET", "orders.gte"]);

        // Settings for a breaker that does not exist yet are legal: once it is created,
        // its name matches.
        r.get_or_create("orders.gte", BreakerConfig::default());
        assert_eq!(unmatched_in(&r), ["ORDRES_GET"]);
        r.get_or_create("Ordres-Get", BreakerConfig::default());
        assert!(unmatched_in(&r).is_empty());

        // Names that match give no warning.
        load_vars_into(&r, [("BREAKER_INVENTORY_FAILURE_THRESHOLD", "2")]).unwrap();
        let log = captured.take();
        assert!(!log.contains("WARN"), "{log}");

        // The global registry.
        registry().get_or_create("cfg-unmatched", BreakerConfig::default());
        config::load_str("[breakers.cfg-unmatchd]\nfailure_threshold = 2").unwrap();
        assert_eq!(config::unmatched(), ["cfg-unmatchd"]);
        assert!(captured.take().contains("did you mean `cfg-unmatched`?"));
    });
}
