//! One live, initialized connection to an upstream, over any transport.

use super::http::HttpLink;
use super::sse::SseLink;
use super::stdio::StdioLink;
use super::{handshake, process, InitInfo, Peer, Reply, UpstreamError};
use crate::config::{ServerSpec, Transport};
use crate::jsonrpc::{self, Kind};
use arc_swap::ArcSwap;
use bytes::Bytes;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::process::Child;
use tokio::sync::mpsc;

/// Something an upstream told us that the gateway must act on.
#[derive(Debug, Clone)]
pub enum Event {
    /// `notifications/tools/list_changed` from this server.
    ToolsChanged(Arc<str>),
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
    /// Bumped on every re-initialization, so concurrent 404s re-initialize once.
    generation: AtomicU64,
    reinit: tokio::sync::Mutex<()>,
    /// A process started for a network upstream (seed-004 registry servers).
    launched: tokio::sync::Mutex<Option<Child>>,
    timeout: Duration,
}

impl Connection {
    /// Start (or reach) the upstream and run the `initialize` handshake.
    pub async fn open(
        spec: &ServerSpec,
        http: reqwest::Client,
        startup: Duration,
        timeout: Duration,
        events: mpsc::UnboundedSender<Event>,
    ) -> Result<Arc<Connection>, UpstreamError> {
        let server = spec.name.clone();
        let (peer, inbound) = Peer::new();
        let mut launched = None;
        if let (Some(launch), false) = (&spec.launch, matches!(spec.transport, Transport::Stdio(_)))
        {
            let mut child = process::spawn(launch, false).map_err(|e| {
                UpstreamError::Spawn(format!("cannot start {:?}: {e}", launch.program))
            })?;
            if let Some(stderr) = child.stderr.take() {
                tokio::spawn(super::stdio::log_stderr(stderr, server.clone()));
            }
            launched = Some(child);
        }
        let link = match &spec.transport {
            Transport::Stdio(launch) => {
                Link::Stdio(StdioLink::spawn(server.clone(), launch, peer.clone())?)
            }
            Transport::StreamableHttp(target) => Link::Http(Arc::new(HttpLink::new(
                http,
                target,
                peer.clone(),
                server.clone(),
            ))),
            Transport::Sse(target) => {
                // A launched server needs a moment to listen: retry until the startup deadline.
                let deadline = tokio::time::Instant::now() + startup;
                loop {
                    match SseLink::connect(
                        http.clone(),
                        target,
                        peer.clone(),
                        server.clone(),
                        startup,
                    )
                    .await
                    {
                        Ok(l) => break Link::Sse(l),
                        Err(e) if launched.is_none() || tokio::time::Instant::now() >= deadline => {
                            return Err(e)
                        }
                        Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                    }
                }
            }
        };
        let conn = Arc::new(Connection {
            server: server.clone(),
            peer,
            link,
            init: ArcSwap::from_pointee(InitInfo::default()),
            generation: AtomicU64::new(0),
            reinit: tokio::sync::Mutex::new(()),
            launched: tokio::sync::Mutex::new(launched),
            timeout,
        });
        tokio::spawn(serve_inbound(Arc::downgrade(&conn), inbound, events));
        let info = match tokio::time::timeout(startup, handshake::initialize(&conn)).await {
            Ok(Ok(info)) => info,
            Ok(Err(e)) => {
                conn.shutdown().await;
                return Err(e);
            }
            Err(_) => {
                conn.shutdown().await;
                return Err(UpstreamError::Timeout(startup));
            }
        };
        conn.adopt(info);
        if let Link::Http(h) = &conn.link {
            tokio::spawn(h.clone().listen());
        }
        Ok(conn)
    }

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

    /// Send a request and wait for its answer, within the connection's default deadline.
    pub async fn request(
        &self,
        method: &str,
        params: Option<&str>,
    ) -> Result<Reply, UpstreamError> {
        self.request_within(method, params, self.timeout).await
    }

    /// Send a request and wait for its answer within `deadline`; an expired HTTP session is
    /// re-initialized and the request sent once more.
    pub async fn request_within(
        &self,
        method: &str,
        params: Option<&str>,
        deadline: Duration,
    ) -> Result<Reply, UpstreamError> {
        let generation = self.generation.load(Ordering::Acquire);
        match self.request_once(method, params, deadline).await {
            Err(UpstreamError::SessionExpired) => {
                self.reinitialize(generation).await?;
                self.request_once(method, params, deadline).await
            }
            other => other,
        }
    }

    /// One exchange, no re-initialization (the handshake itself uses this).
    pub(super) async fn request_once(
        &self,
        method: &str,
        params: Option<&str>,
        deadline: Duration,
    ) -> Result<Reply, UpstreamError> {
        let (id, rx) = self.peer.register()?;
        let msg = jsonrpc::request(id, method, params);
        let exchange = async {
            self.send(msg, Some(id)).await?;
            rx.await.map_err(|_| UpstreamError::Closed)?
        };
        match tokio::time::timeout(deadline, exchange).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(e)) => {
                self.peer.forget(id);
                Err(e)
            }
            Err(_) => {
                self.peer.forget(id);
                let params = format!(
                    r#"{{"requestId":{id},"reason":"timed out in the gateway after {deadline:?}"}}"#
                );
                let _ = tokio::time::timeout(
                    Duration::from_secs(1),
                    self.notify("notifications/cancelled", Some(&params)),
                )
                .await;
                Err(UpstreamError::Timeout(deadline))
            }
        }
    }

    /// Send a notification.
    pub async fn notify(&self, method: &str, params: Option<&str>) -> Result<(), UpstreamError> {
        self.send(jsonrpc::notification(method, params), None).await
    }

    async fn send(&self, msg: Bytes, id: Option<u64>) -> Result<(), UpstreamError> {
        match &self.link {
            Link::Stdio(l) => l.send(msg).await,
            Link::Http(l) => l.send(msg, id).await,
            Link::Sse(l) => l.send(msg).await,
        }
    }

    /// Re-run the handshake after the upstream dropped our HTTP session (once per expiry).
    async fn reinitialize(&self, seen: u64) -> Result<(), UpstreamError> {
        let _guard = self.reinit.lock().await;
        if self.generation.load(Ordering::Acquire) != seen {
            return Ok(()); // someone else already did
        }
        tracing::info!(server = %self.server, "upstream session expired; re-initializing");
        if let Link::Http(h) = &self.link {
            h.reset_session();
        }
        let info = handshake::initialize(self).await?;
        self.adopt(info);
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// End the connection: answer pending requests, stop the process or end the HTTP session.
    pub async fn shutdown(&self) {
        match &self.link {
            Link::Stdio(l) => l.shutdown().await,
            Link::Http(l) => l.close().await,
            Link::Sse(l) => l.close(),
        }
        self.peer.close(UpstreamError::Closed);
        if let Some(mut child) = self.launched.lock().await.take() {
            process::stop(&mut child, &self.server).await;
        }
    }
}

/// Answer what the upstream asks of us and pass on what it tells us.
async fn serve_inbound(
    conn: Weak<Connection>,
    mut inbound: mpsc::UnboundedReceiver<Bytes>,
    events: mpsc::UnboundedSender<Event>,
) {
    while let Some(buf) = inbound.recv().await {
        let Some(conn) = conn.upgrade() else { return };
        let Ok(msg) = jsonrpc::parse(&buf) else {
            continue;
        };
        match msg.kind() {
            Ok(Kind::Request { id, method, .. }) => {
                let answer = if method == "ping" {
                    jsonrpc::response_result(id.get(), "{}")
                } else {
                    // Relaying server-to-client requests to the right session is not built yet.
                    jsonrpc::error_message(
                        Some(id.get()),
                        &jsonrpc::RpcError::method_not_found(method),
                    )
                };
                let _ = conn.send(answer, None).await;
            }
            Ok(Kind::Notification { method, .. }) => match method {
                "notifications/tools/list_changed" => {
                    let _ = events.send(Event::ToolsChanged(conn.server.clone()));
                }
                _ => tracing::debug!(server = %conn.server, method, "upstream notification"),
            },
            _ => {}
        }
    }
}
