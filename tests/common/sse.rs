//! Reading a `text/event-stream` response block by block, each read bounded in time so a
//! missing event fails the test instead of hanging it.

use serde_json::Value;
use std::time::Duration;

/// How long any one event may take: generous, as a loaded CI machine is slow.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A server-sent-events stream over a `reqwest` response.
pub struct Sse {
    response: reqwest::Response,
    /// Bytes, not text: a chunk may end inside a character.
    buffer: Vec<u8>,
}

/// One block of the stream: its `data` lines joined, or its comment lines.
#[derive(Debug, PartialEq)]
pub enum Block {
    Data(String),
    Comment(String),
}

impl Sse {
    pub fn new(response: reqwest::Response) -> Sse {
        Sse {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next block, within [`PATIENCE`].
    pub async fn next(&mut self) -> Block {
        tokio::time::timeout(PATIENCE, self.read_block())
            .await
            .expect("an event within the patience bound")
    }

    async fn read_block(&mut self) -> Block {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let bytes: Vec<u8> = self.buffer.drain(..end + 2).collect();
                let block = String::from_utf8(bytes).expect("UTF-8");
                let data: Vec<&str> = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(|l| l.strip_prefix(' ').unwrap_or(l))
                    .collect();
                if data.is_empty() {
                    let comment = block.lines().filter_map(|l| l.strip_prefix(':'));
                    return Block::Comment(comment.map(str::trim).collect::<Vec<_>>().join("\n"));
                }
                return Block::Data(data.join("\n"));
            }
            let chunk = self
                .response
                .chunk()
                .await
                .expect("the stream reads")
                .expect("the stream stays open");
            self.buffer.extend_from_slice(&chunk);
        }
    }

    /// The next event's data as JSON, skipping comments.
    pub async fn next_json(&mut self) -> Value {
        loop {
            if let Block::Data(data) = self.next().await {
                return serde_json::from_str(&data).expect("each event's data is JSON");
            }
        }
    }

    /// Events until one satisfies `pred`, within [`PATIENCE`] in all.
    pub async fn until(&mut self, mut pred: impl FnMut(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let event = tokio::time::timeout(left, self.next_json())
                .await
                .expect("the awaited event within the patience bound");
            if pred(&event) {
                return event;
            }
        }
    }
}

/// The breaker `name` in a list of snapshots.
pub fn find<'a>(list: &'a Value, name: &str) -> Option<&'a Value> {
    list.as_array()?.iter().find(|b| b["name"] == name)
}
