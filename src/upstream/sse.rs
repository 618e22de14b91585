//! Legacy HTTP+SSE upstream (2024-11-05): a GET event stream that names an endpoint to POST to.

use super::http::transport;
use super::Peer;
use crate::call::{Failure, Identity};
use crate::config::HttpTarget;
use bytes::Bytes;
use eventsource_stream::Eventsource;
use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use url::Url;

/// The sending side of a legacy SSE upstream.
pub struct SseLink {
    client: reqwest::Client,
    endpoint: Url,
    headers: HeaderMap,
    target: Arc<HttpTarget>,
    reader: JoinHandle<()>,
}

impl SseLink {
    /// Open the stream and wait for its `endpoint` event.
    pub async fn connect(
        client: reqwest::Client,
        target: &HttpTarget,
        peer: Arc<Peer>,
        server: Arc<str>,
        wait: Duration,
    ) -> Result<Self, Failure> {
        let headers: HeaderMap = target.headers.iter().cloned().collect();
        let resp = client
            .get(target.url.clone())
            .headers(headers.clone())
            .header(ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(transport)?;
        if !resp.status().is_success() {
            return Err(Failure::transport(format!(
                "GET {} answered HTTP {}",
                target.url,
                resp.status()
            )));
        }
        let mut events = resp.bytes_stream().eventsource();
        let first = tokio::time::timeout(wait, async {
            while let Some(ev) = events.next().await {
                let ev = ev.map_err(|e| Failure::transport(format!("SSE stream: {e}")))?;
                if ev.event == "endpoint" {
                    return Ok(ev.data);
                }
            }
            Err(Failure::transport(
                "SSE stream ended before its endpoint event",
            ))
        })
        .await
        .map_err(|_| Failure::protocol("no endpoint event on the SSE stream"))??;
        let endpoint = target
            .url
            .join(first.trim())
            .map_err(|e| Failure::protocol(format!("bad endpoint {first:?}: {e}")))?;
        let reader = tokio::spawn(async move {
            while let Some(ev) = events.next().await {
                match ev {
                    Ok(ev) if ev.event == "message" || ev.event.is_empty() => {
                        if let Err(why) = peer.deliver(Bytes::from(ev.data)) {
                            tracing::warn!(server = %server, "ignoring an SSE event that is not JSON-RPC ({why})");
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(server = %server, error = %e, "SSE stream failed");
                        break;
                    }
                }
            }
            peer.close(Failure::crashed("SSE stream ended"));
        });
        let mut post_headers = headers;
        post_headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Ok(SseLink {
            client,
            endpoint,
            headers: post_headers,
            target: Arc::new(target.clone()),
            reader,
        })
    }

    /// POST one message; answers arrive on the stream.
    pub async fn send(&self, msg: Bytes, caller: Option<&Identity>) -> Result<(), Failure> {
        let mut req = self
            .client
            .post(self.endpoint.clone())
            .headers(self.headers.clone())
            .body(msg);
        for (k, v) in crate::observe::trace::outgoing() {
            req = req.header(k, v);
        }
        let resp = super::http::caller_headers(req, &self.target, caller)
            .send()
            .await
            .map_err(transport)?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(Failure::transport(format!(
                "POST answered HTTP {}",
                resp.status()
            )))
        }
    }

    /// Close the stream.
    pub fn close(&self) {
        self.reader.abort();
    }
}
