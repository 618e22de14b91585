//! The event streams of a streamable HTTP upstream: a POST's own stream (which carries what
//! belongs to that request, then its answer), and the standalone GET stream (what the server
//! sends outside any request, including requests it makes from a tool without naming the call).
//!
//! Both resume with `Last-Event-ID` (2025-11-25, SEP-1699): the standalone stream is opened
//! before the connection is used and reopened at once when it drops, and a POST stream that
//! ends before its answer is resumed with a GET. A server with an event store replays what it
//! sent meanwhile; without one, nothing was stored and nothing is lost by asking.

use super::{transport, HttpLink};
use crate::call::Failure;
use crate::upstream::peer::Stream;
use bytes::Bytes;
use eventsource_stream::Eventsource;
use futures::StreamExt;
use reqwest::header::ACCEPT;
use reqwest::StatusCode;
use std::sync::Arc;
use std::time::Duration;

/// Resumptions of one request's stream before the request is given up on.
const RESUMES: usize = 5;

/// How long to wait before reopening a dropped standalone stream: first, and the longest.
const REOPEN: (Duration, Duration) = (Duration::from_millis(50), Duration::from_secs(30));

impl HttpLink {
    /// A request's answer arrived as an event stream: deliver all of it; when the stream ends
    /// before the answer, resume it (GET with the last event id) until the answer comes.
    pub(super) async fn answer_stream(
        &self,
        resp: reqwest::Response,
        id: Option<u64>,
    ) -> Result<(), Failure> {
        let on = id.map_or(Stream::Unknown, Stream::Request);
        let mut last = self.read_stream(resp, on).await?;
        let Some(id) = id else { return Ok(()) };
        for _ in 0..RESUMES {
            if !self.peer.is_pending(id) {
                return Ok(());
            }
            let Some(from) = last.clone() else { break };
            tracing::debug!(server = %self.server, id, from, "the request's stream ended before its answer; resuming it");
            let resp = self.get_stream(Some(&from)).await?;
            if !resp.status().is_success() {
                break;
            }
            last = self.read_stream(resp, on).await?.or(last);
        }
        if self.peer.is_pending(id) {
            return Err(Failure::transport(
                "the upstream ended the request's event stream before its answer, and it could not be resumed",
            ));
        }
        Ok(())
    }

    /// Deliver every message of an event stream; the id of its last event.
    async fn read_stream(
        &self,
        resp: reqwest::Response,
        on: Stream,
    ) -> Result<Option<String>, Failure> {
        let mut events = resp.bytes_stream().eventsource();
        let mut last = None;
        while let Some(ev) = events.next().await {
            let ev = ev.map_err(|e| Failure::transport(format!("SSE stream: {e}")))?;
            if !ev.id.is_empty() {
                last = Some(ev.id.clone());
                if on == Stream::Standalone {
                    *self.last_event.write() = Some(ev.id.clone());
                }
            }
            if ev.data.is_empty() {
                continue; // priming event (id only) or keep-alive
            }
            if let Err(why) = self.peer.deliver_on(Bytes::from(ev.data), on) {
                tracing::warn!(server = %self.server, "ignoring an SSE event that is not JSON-RPC ({why})");
            }
        }
        Ok(last)
    }

    /// `GET` the MCP endpoint for an event stream, resuming after `from` when given.
    async fn get_stream(&self, from: Option<&str>) -> Result<reqwest::Response, Failure> {
        let mut req = self
            .client
            .get(self.target.url.clone())
            .headers(self.target.headers.iter().cloned().collect())
            .header(ACCEPT, "text/event-stream");
        if let Some(id) = from {
            req = req.header("last-event-id", id);
        }
        self.with_session(req).send().await.map_err(transport)
    }

    /// Open the standalone stream (before the connection is used, so that a request the server
    /// makes outside any call's stream has somewhere to go); `None` when the server offers none.
    pub async fn open_standalone(&self) -> Option<reqwest::Response> {
        match self.get_stream(None).await {
            Ok(r) if r.status().is_success() => Some(r),
            Ok(r) => {
                tracing::debug!(server = %self.server, status = %r.status(), "no standalone event stream");
                None
            }
            Err(e) => {
                tracing::debug!(server = %self.server, error = %e, "no standalone event stream");
                None
            }
        }
    }

    /// Read the standalone stream `first` while the connection lives, reopening it (resumed
    /// after its last event) whenever it drops.
    pub async fn listen(self: Arc<Self>, first: reqwest::Response) {
        let mut resp = Some(first);
        let mut wait = REOPEN.0;
        while !self.peer.is_closed() {
            if let Some(r) = resp.take() {
                let _ = self.read_stream(r, Stream::Standalone).await;
                wait = REOPEN.0;
            }
            if self.peer.is_closed() {
                return;
            }
            tokio::time::sleep(wait).await;
            let from = self.last_event.read().clone();
            match self.get_stream(from.as_deref()).await {
                Ok(r) if r.status().is_success() => resp = Some(r),
                Ok(r) if r.status() == StatusCode::METHOD_NOT_ALLOWED => return,
                // An event id the server no longer knows: start afresh.
                Ok(r) if r.status().is_client_error() && from.is_some() => {
                    *self.last_event.write() = None;
                }
                Ok(r) if r.status().is_client_error() => return,
                Ok(_) | Err(_) => wait = (wait * 2).min(REOPEN.1),
            }
        }
    }
}
