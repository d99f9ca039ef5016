//! Breaker metrics through the [`metrics`] facade (feature `metrics`).
//!
//! The breaker already counts every call exactly; this module publishes those counts. Nothing
//! runs on the call path for it: a background thread (`breaker-metrics`, started with the
//! first breaker) reads every live breaker's counts once a [publish
//! interval](set_publish_interval) (1 s unless set) and sets its counters to them, and
//! [`publish`] does the same at once, e.g. in a scrape handler, for counts exact to the
//! moment. State changes are published as they happen. Every series carries the label
//! `breaker` (the breaker's name).
//!
//! Each breaker registers its series with the recorder that is installed when the breaker is
//! created (install yours first, e.g. `metrics_exporter_prometheus::PrometheusBuilder`), and
//! keeps the handles: publishing allocates nothing and looks nothing up. A breaker made
//! before any recorder reports nothing to one installed later; the first publication after
//! the install says so in a `tracing` warning naming those breakers (a recorder of your own
//! with no state at all, a zero-sized type, is taken for none and gets no warning). (An annotated function's
//! breaker is made at its first call or first look, so it reports to the recorder installed
//! by then.)
//!
//! | metric | kind | labels | what |
//! |---|---|---|---|
//! | `breaker_calls_total` | counter | `breaker`, `outcome` | finished or rejected calls; `outcome` is `success`, `failure`, `ignored`, `cancelled` or `rejected` |
//! | `breaker_slow_calls_total` | counter | `breaker` | calls that took at least `slow_call` (also in `success` or `failure`) |
//! | `breaker_timeouts_total` | counter | `breaker` | calls cut by `call_timeout` (also in `failure`) |
//! | `breaker_state` | gauge | `breaker`, `state` | 1 for the state the breaker is in, 0 for the others; `state` is `closed`, `open`, `half_open`, `forced_open`, `disabled` or `metrics_only` |
//! | `breaker_transitions_total` | counter | `breaker`, `to`, `reason` | state changes, by the state entered and the [reason](crate::TransitionReason::as_str) (`failure_threshold`, `failure_rate`, `slow_call_rate`, `probe_failed`, `half_open_timeout`, `reset_timeout_elapsed`, `probes_succeeded`, `manual`, `remote` (fleet mode)) |
//! | `breaker_call_duration_seconds` | histogram | `breaker`, `outcome` | how long calls took; `outcome` is `success`, `failure` or `ignored`. Only after [`record_durations(true)`](record_durations) |
//!
//! The counters mirror [`Metrics`](crate::Metrics), with two differences a dashboard should
//! know: they are monotonic (a breaker's [`reset`](crate::CircuitBreaker::reset) zeroes its
//! `Metrics` but not its counters), and a [`Disabled`](crate::State::Disabled) breaker
//! records nothing. `breaker_state` follows transitions as they happen: an open breaker
//! whose `reset_timeout` has passed reports `open` until the next call moves it to
//! `half_open`, whereas [`CircuitBreaker::state`](crate::CircuitBreaker::state) already
//! says `HalfOpen`.
//!
//! Each distinct name registers 25 series up front: 5 call counters, slow calls, timeouts,
//! 6 state gauges and 12 transition counters (and 3 duration histograms with
//! [`record_durations`]). Mind it with names made at run time (one breaker per host): series
//! stay with the recorder after their breakers go.
//!
//! Series are keyed by name: two live breakers of one name share them. Their counts add up;
//! `breaker_state` shows the breaker of that name created last (1 for its state, 0 for the
//! others), and when it is dropped, the newest one left. The first time a name has two live
//! breakers, a `tracing` warning says so.
//!
//! ```
//! use breaker_runtime::CircuitBreaker;
//! use metrics_exporter_prometheus::PrometheusBuilder;
//!
//! let recorder = PrometheusBuilder::new().build_recorder();
//! let prometheus = recorder.handle();
//! // Usually `install_recorder()` once at start-up; a local recorder keeps this example apart.
//! let breaker = metrics::with_local_recorder(&recorder, || {
//!     CircuitBreaker::builder("docs-prometheus").failure_threshold(1).build()
//! });
//! let _ = breaker.call_sync(|| Err::<(), _>("down"));
//! let _ = breaker.call_sync(|| Ok::<_, &str>(()));
//!
//! // The state is published at once; counts once a second, or now:
//! breaker_runtime::metrics_export::publish();
//! let text = prometheus.render();
//! assert!(text.contains(r#"breaker_calls_total{breaker="docs-prometheus",outcome="failure"} 1"#));
//! assert!(text.contains(r#"breaker_calls_total{breaker="docs-prometheus",outcome="rejected"} 1"#));
//! assert!(text.contains(r#"breaker_state{breaker="docs-prometheus",state="open"} 1"#));
//! ```

mod observer;
mod publisher;
mod unrecorded;

pub(crate) use observer::Observer;
pub use publisher::{publish, record_durations, set_publish_interval};

/// `breaker_calls_total{breaker, outcome}`: calls by outcome (counter).
///
/// ```
/// assert_eq!(breaker_runtime::metrics_export::CALLS_TOTAL, "breaker_calls_total");
/// ```
pub const CALLS_TOTAL: &str = "breaker_calls_total";
/// `breaker_slow_calls_total{breaker}`: calls that took at least `slow_call` (counter).
///
/// ```
/// assert_eq!(breaker_runtime::metrics_export::SLOW_CALLS_TOTAL, "breaker_slow_calls_total");
/// ```
pub const SLOW_CALLS_TOTAL: &str = "breaker_slow_calls_total";
/// `breaker_timeouts_total{breaker}`: calls cut by `call_timeout` (counter).
///
/// ```
/// assert_eq!(breaker_runtime::metrics_export::TIMEOUTS_TOTAL, "breaker_timeouts_total");
/// ```
pub const TIMEOUTS_TOTAL: &str = "breaker_timeouts_total";
/// `breaker_call_duration_seconds{breaker, outcome}`: call durations (histogram, seconds).
///
/// ```
/// assert_eq!(breaker_runtime::metrics_export::CALL_DURATION_SECONDS, "breaker_call_duration_seconds");
/// ```
pub const CALL_DURATION_SECONDS: &str = "breaker_call_duration_seconds";
/// `breaker_state{breaker, state}`: 1 for the current state, 0 for the others (gauge).
///
/// ```
/// assert_eq!(breaker_runtime::metrics_export::STATE, "breaker_state");
/// ```
pub const STATE: &str = "breaker_state";
/// `breaker_transitions_total{breaker, to, reason}`: state changes (counter).
///
/// ```
/// assert_eq!(breaker_runtime::metrics_export::TRANSITIONS_TOTAL, "breaker_transitions_total");
/// ```
pub const TRANSITIONS_TOTAL: &str = "breaker_transitions_total";

/// Histogram buckets (seconds) that suit calls to remote dependencies, from 1 ms to 30 s:
/// pass them to your exporter, e.g. Prometheus's `set_buckets_for_metric`.
///
/// ```
/// assert!(breaker_runtime::metrics_export::DURATION_BUCKETS.windows(2).all(|w| w[0] < w[1]));
/// ```
pub const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
