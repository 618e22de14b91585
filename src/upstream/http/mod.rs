//! Streamable HTTP upstream: POST each message, read a JSON or SSE answer, keep the session;
//! the event streams themselves (a POST's, the standalone GET stream, resumption) in `stream.rs`.

mod stream;

use super::Peer;
use crate::call::{Failure, Identity, Kind};
use crate::config::HttpTarget;
use crate::protocol::STATELESS_VERSION;
use bytes::Bytes;
use parking_lot::RwLock;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::StatusCode;
use std::sync::Arc;
use std::time::Duration;

/// `Mcp-Session-Id`
pub const SESSION_HEADER: &str = "mcp-session-id";
/// `MCP-Protocol-Version`
pub const VERSION_HEADER: &str = "mcp-protocol-version";

/// What a 2026-07-28 request mirrors into headers: its method and, for `tools/call`,
/// `prompts/get` and `resources/read`, the name or URI it targets (the upstream's own).
pub struct Mirror<'a> {
    /// `Mcp-Method`
    pub method: &'a str,
    /// `Mcp-Name`
    pub name: Option<String>,
    /// `Mcp-Param-*` (name, encoded value), from the tool's `x-mcp-header` annotations.
    pub params: &'a [(String, String)],
}

/// The headers a server's configuration makes from the caller's identity (`${auth.sub}`...);
/// one whose claim the caller lacks is left out. The caller's own credentials never get here:
/// the gateway keeps nothing of them but the identity they established.
pub fn caller_headers(
    mut req: reqwest::RequestBuilder,
    target: &HttpTarget,
    caller: Option<&Identity>,
) -> reqwest::RequestBuilder {
    let Some(who) = caller else { return req };
    for (name, template) in &target.caller_headers {
        let value = template
            .render(|claim| who.claim(claim))
            .and_then(|v| HeaderValue::from_str(&v).ok());
        if let Some(mut v) = value {
            v.set_sensitive(true);
            req = req.header(name, v);
        }
    }
    req
}

/// The sending side of a streamable HTTP upstream.
pub struct HttpLink {
    client: reqwest::Client,
    target: HttpTarget,
    /// Configured headers, built once.
    headers: HeaderMap,
    session: RwLock<Option<HeaderValue>>,
    version: RwLock<Option<HeaderValue>>,
    peer: Arc<Peer>,
    server: Arc<str>,
    /// The id of the last event of the standalone GET stream (to resume it with).
    last_event: RwLock<Option<String>>,
}

impl HttpLink {
    /// A link over a shared HTTP client (connections are pooled and kept alive).
    pub fn new(
        client: reqwest::Client,
        target: &HttpTarget,
        peer: Arc<Peer>,
        server: Arc<str>,
    ) -> Self {
        let mut headers: HeaderMap = target.headers.iter().cloned().collect();
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        HttpLink {
            client,
            target: target.clone(),
            headers,
            session: RwLock::new(None),
            version: RwLock::new(None),
            peer,
            server,
            last_event: RwLock::new(None),
        }
    }

    /// Forget the session (before re-initializing).
    pub fn reset_session(&self) {
        *self.session.write() = None;
        *self.version.write() = None;
    }

    /// Send `MCP-Protocol-Version` from now on.
    pub fn set_version(&self, version: &str) {
        *self.version.write() = HeaderValue::from_str(version).ok();
    }

    fn with_session(&self, mut req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if let Some(s) = self.session.read().clone() {
            req = req.header(SESSION_HEADER, s);
        }
        if let Some(v) = self.version.read().clone() {
            if v != STATELESS_VERSION {
                req = req.header(VERSION_HEADER, v); // a 2026-07-28 request sets its own
            }
        }
        req
    }

    /// POST one message. For a request (`id` given), its answer is delivered to the peer before
    /// this returns; anything else the upstream streams along the way is delivered too. A
    /// 2026-07-28 request also mirrors its version, method and name in headers (`mirror`).
    pub async fn send(
        &self,
        msg: Bytes,
        id: Option<u64>,
        mirror: Option<&Mirror<'_>>,
        caller: Option<&Identity>,
    ) -> Result<(), Failure> {
        let had_session = self.session.read().is_some();
        let mut req = self
            .client
            .post(self.target.url.clone())
            .headers(self.headers.clone())
            .body(msg);
        req = caller_headers(req, &self.target, caller);
        req = self.with_session(req);
        for (k, v) in crate::observe::trace::outgoing() {
            req = req.header(k, v);
        }
        if let Some(m) = mirror {
            req = req
                .header(VERSION_HEADER, STATELESS_VERSION)
                .header("mcp-method", m.method);
            if let Some(name) = &m.name {
                req = req.header("mcp-name", crate::jsonrpc::encode_header_value(name));
            }
            for (k, v) in m.params {
                req = req.header(k.as_str(), v.as_str());
            }
        }
        let resp = req.send().await.map_err(transport)?;
        if let Some(sid) = resp.headers().get(SESSION_HEADER) {
            if self.session.read().as_ref() != Some(sid) {
                *self.session.write() = Some(sid.clone());
            }
        }
        let status = resp.status();
        if status == StatusCode::NOT_FOUND && had_session {
            return Err(expired());
        }
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("text/event-stream") {
            return self.answer_stream(resp, id).await;
        }
        let body = resp.bytes().await.map_err(transport)?;
        // The spec says 404 for an unknown session, but servers built on the TypeScript SDK's
        // examples (server-everything among them) answer 400 "No valid session ID provided".
        if status == StatusCode::BAD_REQUEST && had_session && mentions_session(&body) {
            return Err(expired());
        }
        if id.is_none() || status == StatusCode::ACCEPTED {
            return if status.is_success() {
                Ok(())
            } else {
                Err(Failure::transport(format!(
                    "HTTP {status} for a notification"
                )))
            };
        }
        // A JSON-RPC answer, even at a 4xx status, is the upstream's real answer: pass it on.
        if content_type.starts_with("application/json") && self.peer.deliver(body.clone()).is_ok() {
            return Ok(());
        }
        let shown = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        Err(Failure::http_status(status.as_u16(), &shown))
    }

    /// End the upstream session (DELETE), best effort.
    pub async fn close(&self) {
        if self.session.read().is_none() {
            return;
        }
        let req = self
            .client
            .delete(self.target.url.clone())
            .headers(self.target.headers.iter().cloned().collect());
        let _ = tokio::time::timeout(Duration::from_secs(2), self.with_session(req).send()).await;
    }
}

pub(super) fn transport(e: reqwest::Error) -> Failure {
    // reqwest's Display omits the cause chain ("error sending request"); include it.
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    Failure::transport(msg)
}

/// The upstream forgot our session; the connection initializes again.
fn expired() -> Failure {
    Failure::new(Kind::SessionExpired, "upstream session expired")
}

/// Whether a 400 body is about the session (rather than about the request itself).
fn mentions_session(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
    text.contains("session")
}
