//! `GET /events`: the breakers' snapshots as server-sent events.
//!
//! One [`Hub`] per router makes the JSON once for every client and publishes it in a `watch`
//! channel ([`hub`]); each client ([`client`]) gets a fresh snapshot on connect, then the
//! channel's newest whenever it changes, never two within [`COALESCE`] of each other, and its
//! own heartbeat comment.

mod client;
mod hub;

use super::AdminRouter;
use axum::extract::State;
use axum::response::sse::Sse;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;

pub(super) use hub::Hub;

/// The shortest time between two snapshots, published by the hub or sent to one client (the
/// contract's 250 ms).
const COALESCE: Duration = Duration::from_millis(250);
/// The default time between heartbeat comments.
pub(super) const HEARTBEAT: Duration = Duration::from_secs(15);

/// `GET /events`.
pub(super) async fn events(State(admin): State<Arc<AdminRouter>>) -> Response {
    let client = client::Client::connect(&admin);
    let stream = futures_util::stream::unfold(client, |mut client| async move {
        let event = client.next_event().await?;
        Some((Ok::<_, std::convert::Infallible>(event), client))
    });
    let mut response = Sse::new(stream).into_response();
    // Proxies that buffer (nginx) would hold the events back.
    response.headers_mut().insert(
        "x-accel-buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    response
}

#[cfg(test)]
mod tests;
