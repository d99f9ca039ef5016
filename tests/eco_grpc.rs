//! The gRPC example, run for real: a tonic server and client on 127.0.0.1. `UNAVAILABLE`
//! (a `grpc-status` in the head of an HTTP 200) opens the breaker, a stream that breaks
//! mid-way counts its error, `NOT_FOUND` is an answer, rejected calls never reach the server,
//! and after the server recovers the breaker closes and the stream works again.

// The example's own code, not a copy: its `main` is unused here.
#[allow(dead_code)]
#[path = "../examples/grpc.rs"]
mod example;

use breaker_runtime::{CallError, State};
use example::RpcError;
use futures_util::{stream, StreamExt};
use std::time::{Duration, Instant};
use tonic::{Code, Status};

const PRICE: f64 = 101.25;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_opens_on_unavailable_rejects_and_recovers() {
    let report = example::run().await.expect("the example runs");
    let code = |step: &example::Step| step.error.as_ref().and_then(RpcError::code);
    let rejected = |step: &example::Step| matches!(step.error, Some(RpcError::Rejected(_)));

    // Healthy: answers, closed, nothing counted as failed.
    let healthy = report.phase("healthy");
    assert_eq!(healthy.len(), 3);
    for step in &healthy {
        assert!(step.error.is_none(), "{step:?}");
        assert_eq!((step.state, step.failures), (State::Closed, 0));
    }
    assert_eq!(healthy[0].prices, [PRICE]);
    assert_eq!(healthy[2].rpc, "WatchQuotes");
    assert_eq!(healthy[2].prices, [PRICE, PRICE + 0.25, PRICE + 0.5]);

    // NOT_FOUND is an answer: GrpcClassifier's default counts only DEADLINE_EXCEEDED,
    // RESOURCE_EXHAUSTED, INTERNAL and UNAVAILABLE as failures.
    let not_found = report.phase("not-found");
    assert_eq!(not_found.len(), 1);
    assert_eq!(code(not_found[0]), Some(Code::NotFound));
    assert_eq!(
        (not_found[0].state, not_found[0].failures),
        (State::Closed, 0)
    );

    // Failing: the stream breaks after two quotes with UNAVAILABLE and its error is the first
    // failure; two unary UNAVAILABLEs make three in a row (failure_threshold = 3): open.
    let failing = report.phase("failing");
    assert_eq!(failing.len(), 3, "{failing:?}");
    let broken = failing[0];
    assert_eq!(broken.rpc, "WatchQuotes");
    assert_eq!(broken.prices, [PRICE, PRICE + 0.25]);
    assert_eq!(code(broken), Some(Code::Unavailable));
    assert_eq!((broken.state, broken.failures), (State::Closed, 1));
    for (step, failures) in failing[1..].iter().zip([2, 3]) {
        assert_eq!(step.rpc, "GetQuote");
        assert_eq!(code(step), Some(Code::Unavailable));
        assert_eq!(step.failures, failures);
    }
    assert_eq!(failing[1].state, State::Closed);
    assert_eq!(failing[2].state, State::Open);
    assert_eq!(report.open_cause.as_deref(), Some("grpc-status 14"));

    // Open: every call rejected by the breaker, fast, without reaching the server.
    let open = report.phase("open");
    assert_eq!(open.len(), 4);
    let hits_when_opened = failing[2].server_hits;
    for step in &open {
        assert!(rejected(step), "{step:?}");
        assert_eq!(step.state, State::Open);
        assert_eq!(step.server_hits, hits_when_opened, "{step:?}");
        assert!(step.took < Duration::from_millis(100), "{step:?}");
    }
    assert_eq!(open[3].rpc, "WatchQuotes");

    // Recovered: two probes (success_threshold = 2) close it, then the stream works.
    let recovered = report.phase("recovered");
    assert_eq!(recovered.len(), 3);
    for step in &recovered {
        assert!(step.error.is_none(), "{step:?}");
        assert_eq!(step.failures, 3);
    }
    assert_eq!(recovered[0].state, State::HalfOpen);
    assert_eq!(recovered[1].state, State::Closed);
    assert_eq!(recovered[2].state, State::Closed);
    assert_eq!(recovered[2].prices, [PRICE, PRICE + 0.25, PRICE + 0.5]);
    assert_eq!(recovered[2].server_hits, hits_when_opened + 3);

    let m = report.metrics.expect("metrics at the end");
    assert_eq!((m.state, m.opened_count), (State::Closed, 1));
    assert_eq!((m.failures, m.rejected), (3, 4));
}

/// The stream's errors go through the breaker's `failure_if`, which the example sets to the
/// codes `GrpcClassifier` fails: a `NOT_FOUND` or `INVALID_ARGUMENT` mid-stream is an answer,
/// an `UNAVAILABLE` or `INTERNAL` a failure.
#[tokio::test]
async fn a_stream_counts_the_same_codes_as_the_classifier() {
    let breaker = example::quotes_breaker("eco-grpc-stream-codes");
    let feed = stream::iter([
        Err(Status::not_found("gone")),
        Err(Status::invalid_argument("bad symbol")),
        Ok(1),
        Err(Status::unavailable("down")),
        Err(Status::internal("bug")),
    ]);
    let items: Vec<Result<u32, CallError<Status>>> = breaker.protect_stream(feed).collect().await;
    assert_eq!(items.len(), 5);
    let m = breaker.metrics();
    assert_eq!((m.successes, m.failures), (3, 2));
    assert_eq!(breaker.state(), State::Closed);
}

/// A stream still open when the breaker opens asks for a permit before its next message: it
/// ends with the rejection, and dropping the response stream cancels the call on the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_stream_ends_with_the_rejection_and_the_server_stops_sending() {
    let server = example::QuotesService::start()
        .await
        .expect("binds 127.0.0.1");
    let breaker = example::quotes_breaker("eco-grpc-cut-stream");
    let mut client = example::QuotesClient::new(server.addr, breaker.clone());
    let mut quotes = client
        .watch_quotes("ACME", 10_000)
        .await
        .expect("the stream starts");
    assert_eq!(quotes.next().await.unwrap().unwrap().price, PRICE);
    assert_eq!(server.state.live_streams(), 1);

    breaker.force_open();
    let cut = quotes.next().await.expect("the rejection, as an item");
    assert!(cut.unwrap_err().is_circuit_open());
    assert!(
        quotes.next().await.is_none(),
        "the rejection ends the stream"
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    while server.state.live_streams() != 0 {
        assert!(
            Instant::now() < deadline,
            "the server still sends the stream 10 s after the client dropped it"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(server.state.hits(), 1);
}
