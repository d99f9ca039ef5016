//! A load logs (a misfit breaker's error, the transitions it causes) only after the registry's
//! lock is released, so a tracing subscriber that reads the registry cannot deadlock it. In a
//! file of its own: tracing caches each callsite's interest across threads, and other tests'
//! threads running without a subscriber could hide these events from this one.
#![cfg(feature = "config")]

use breaker_runtime::config::load_str_into;
use breaker_runtime::{BreakerConfig, Registry, State};
use std::time::Duration;

/// A subscriber that looks at the registry on every event, as a log line enriched with
/// breaker states might.
struct RegistryReader {
    registry: &'static Registry,
    events: std::sync::atomic::AtomicUsize,
}

impl tracing::Subscriber for RegistryReader {
    // Asked on every event, never cached: other tests' threads run without a subscriber, and
    // tracing combines every thread's interest in a callsite into one cached answer.
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {
        let _ = self.registry.health();
        self.events
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Regression: a load reconfigured breakers (whose transitions log) under the registry's
/// write lock, so a subscriber reading the registry deadlocked the load. Now a misfit's
/// error and a transition a load causes are both logged after the lock is released.
#[test]
fn a_load_logs_outside_the_registry_lock() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
        let reader = std::sync::Arc::new(RegistryReader {
            registry,
            events: Default::default(),
        });
        tracing::subscriber::with_default(reader.clone(), || {
            let rated = registry.get_or_create(
                "logged",
                BreakerConfig::builder()
                    .failure_rate(0.9)
                    .window(10)
                    .minimum_calls(4)
                    .build(),
            );
            registry.get_or_create("misfit", BreakerConfig::default());
            for ok in [false, false, true, true] {
                let _ = rated.call_sync(|| if ok { Ok(()) } else { Err("down") });
            }
            assert_eq!(rated.state(), State::Closed);
            let before = reader.events.load(std::sync::atomic::Ordering::SeqCst);
            // Opens `logged` at once (its window is already at 50%) and does not fit `misfit`.
            load_str_into(
                registry,
                "[breakers.logged]\nfailure_rate = 0.5\n[breakers.misfit]\nslow_call_rate = 0.5",
            )
            .unwrap();
            assert_eq!(rated.state(), State::Open);
            let after = reader.events.load(std::sync::atomic::Ordering::SeqCst);
            assert!(after >= before + 2, "{before} -> {after}");
        });
        done.send(()).unwrap();
    });
    finished
        .recv_timeout(Duration::from_secs(20))
        .expect("the load deadlocked, or panicked");
}
