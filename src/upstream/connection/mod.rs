//! One live, initialized connection to an upstream, over any transport.

mod exchange;
mod inbound;
mod open;
mod stateless;

use super::events::Events;
use super::http::{HttpLink, Mirror};
use super::sse::SseLink;
use super::stdio::StdioLink;
use super::{handshake, process, InitInfo, Peer};
use crate::call::{Caller, Deadline, Failure, Identity, Kind, Reply};
use crate::jsonrpc;
use arc_swap::ArcSwap;
use bytes::Bytes;
use dashmap::DashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::process::Child;
use tokio_util::sync::CancellationToken;

use stateless::Again;

/// Options for opening a connection.
#[derive(Clone)]
pub struct OpenOptions {
    /// Shared HTTP client (pooled connections).
    pub http: reqwest::Client,
    /// Deadline for starting and initializing.
    pub startup: Duration,
    /// Default request deadline.
    pub timeout: Duration,
    /// Where events go.
    pub events: Events,
    /// The client capabilities to declare upstream (raw JSON object).
    pub client_caps: String,
    /// Who gets what no in-flight call claims (a per-session connection's own session); `None`
    /// sends it to the gateway as an [`Event`].
    pub owner: Option<Arc<dyn Caller>>,
    /// What its child processes get and keep.
    pub children: super::Children,
}

/// How messages reach the upstream.
enum Link {
    Stdio(StdioLink),
    Http(Arc<HttpLink>),
    Sse(SseLink),
}

/// An initialized connection.
pub struct Connection {
    server: Arc<str>,
    peer: Arc<Peer>,
    link: Link,
    /// What `initialize` negotiated (replaced when an HTTP session is re-initialized).
    init: ArcSwap<InitInfo>,
    /// Callers of requests in flight, by our request id.
    callers: DashMap<u64, Arc<dyn Caller>>,
    /// Client capabilities declared upstream.
    client_caps: String,
    /// Receives what no call claims (per-session connections).
    owner: Option<Arc<dyn Caller>>,
    /// Bumped on every re-initialization, so concurrent 404s re-initialize once.
    generation: AtomicU64,
    reinit: tokio::sync::Mutex<()>,
    /// A process started for a network upstream (seed-004 registry servers).
    launched: tokio::sync::Mutex<Option<Child>>,
    timeout: Duration,
}

impl Connection {
    /// The server's name.
    pub fn server(&self) -> &Arc<str> {
        &self.server
    }

    /// What the handshake negotiated.
    pub fn init(&self) -> Arc<InitInfo> {
        self.init.load_full()
    }

    /// The default deadline of one request.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Resolves once the connection has ended (the process exited, the stream closed...).
    pub async fn closed(&self) {
        self.peer.closed().await
    }

    /// Whether the connection has ended.
    pub fn is_closed(&self) -> bool {
        self.peer.is_closed()
    }

    fn adopt(&self, info: InitInfo) {
        if let Link::Http(h) = &self.link {
            h.set_version(&info.protocol_version);
        }
        self.init.store(Arc::new(info));
    }

    /// Send a request of the gateway's own and wait for its answer (default deadline).
    pub async fn request(&self, method: &str, params: Option<&str>) -> Result<Reply, Failure> {
        self.call(
            method,
            params,
            None,
            None,
            &Deadline::fixed(self.timeout),
            &[],
        )
        .await
    }

    /// Forward a client's request; `caller` receives what the upstream sends in its context. An
    /// expired HTTP session is re-initialized and the request sent once more.
    pub async fn call(
        &self,
        method: &str,
        params: Option<&str>,
        caller: Option<Arc<dyn Caller>>,
        cancel: Option<&CancellationToken>,
        deadline: &Deadline,
        param_headers: &[(String, String)],
    ) -> Result<Reply, Failure> {
        let generation = self.generation.load(Ordering::Acquire);
        let send = || {
            self.request_once_with(
                method,
                params,
                deadline,
                caller.clone(),
                cancel,
                param_headers,
            )
        };
        let reply = match send().await {
            Err(f) if f.kind() == Kind::SessionExpired => {
                self.reinitialize(generation).await?;
                send().await
            }
            other => other,
        }?;
        if !self.init.load().stateless {
            return Ok(reply);
        }
        let again = Again {
            method,
            params,
            deadline,
            cancel,
            param_headers,
        };
        self.until_complete(again, reply, caller).await
    }

    /// Send a notification.
    pub async fn notify(&self, method: &str, params: Option<&str>) -> Result<(), Failure> {
        self.send(jsonrpc::notification(method, params), None).await
    }

    /// Send a whole message (an answer to the upstream's own request, say).
    pub async fn send_message(&self, msg: Bytes) -> Result<(), Failure> {
        self.send(msg, None).await
    }

    async fn send(&self, msg: Bytes, id: Option<u64>) -> Result<(), Failure> {
        self.send_mirrored(msg, id, None, None).await
    }

    /// Send `msg`; over HTTP, with the headers a 2026-07-28 request mirrors and those the
    /// server's configuration makes from the caller's identity.
    async fn send_mirrored(
        &self,
        msg: Bytes,
        id: Option<u64>,
        mirror: Option<&Mirror<'_>>,
        caller: Option<&Identity>,
    ) -> Result<(), Failure> {
        match &self.link {
            Link::Stdio(l) => l.send(msg).await,
            Link::Http(l) => l.send(msg, id, mirror, caller).await,
            Link::Sse(l) => l.send(msg, caller).await,
        }
    }

    /// Re-run the handshake after the upstream dropped our HTTP session (once per expiry).
    async fn reinitialize(&self, seen: u64) -> Result<(), Failure> {
        let _guard = self.reinit.lock().await;
        if self.generation.load(Ordering::Acquire) != seen {
            return Ok(()); // someone else already did
        }
        tracing::info!(server = %self.server, "upstream session expired; re-initializing");
        if let Link::Http(h) = &self.link {
            h.reset_session();
        }
        let info = handshake::initialize(self, &self.client_caps).await?;
        self.adopt(info);
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// The process id of the child it runs (a stdio server, or one started before connecting
    /// over the network), if any.
    pub fn pid(&self) -> Option<u32> {
        match &self.link {
            Link::Stdio(l) => l.pid(),
            _ => self
                .launched
                .try_lock()
                .ok()
                .and_then(|c| c.as_ref().and_then(|c| c.id())),
        }
    }

    /// End the connection: answer pending requests, stop the process or end the HTTP session.
    pub async fn shutdown(&self) {
        match &self.link {
            Link::Stdio(l) => l.shutdown().await,
            Link::Http(l) => l.close().await,
            Link::Sse(l) => l.close(),
        }
        self.peer.close(Failure::closed());
        if let Some(mut child) = self.launched.lock().await.take() {
            process::stop(&mut child, &self.server).await;
        }
    }
}
