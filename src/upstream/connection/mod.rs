//! One live, initialized connection to an upstream, over any transport.

mod exchange;
mod inbound;
mod modern;

use inbound::route_inbound;
use modern::{listen, Again, PROBE_WAIT};

use super::http::{HttpLink, Mirror};
use super::lists::ListKind;
use super::sse::SseLink;
use super::stdio::StdioLink;
use super::{handshake, process, InitInfo, Peer, Reply, UpstreamError};
use crate::config::{Protocol, ServerSpec, Transport};
use crate::jsonrpc;
use crate::layers::timeout::Deadline;
use arc_swap::ArcSwap;
use bytes::Bytes;
use dashmap::DashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::process::Child;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Something an upstream said that no single in-flight call owns; the gateway acts on it.
#[derive(Clone)]
pub enum Event {
    /// `notifications/{tools,prompts,resources}/list_changed`.
    ListChanged(Arc<str>, &'static [ListKind]),
    /// `notifications/resources/updated`, with its raw params.
    ResourceUpdated(Arc<str>, Bytes),
    /// A request or notification no in-flight call claims (a shared server's log lines, its
    /// unprompted requests); the whole message.
    Unclaimed(Arc<Connection>, Bytes),
}

/// The downstream side of one forwarded request: receives what the upstream sends in its context
/// (progress, log messages, server-to-client requests) while the request is in flight.
pub trait Caller: Send + Sync {
    /// One message from the upstream, related to this caller's request.
    fn relay(&self, conn: &Arc<Connection>, msg: Bytes);
    /// Whether the request carried a progress token (the gateway then sends its own upstream).
    fn wants_progress(&self) -> bool;
    /// Ask the client `method` (a 2026-07-28 upstream's input request): its raw result, or the
    /// error it (or the gateway on its behalf) answered with.
    fn ask(
        self: Arc<Self>,
        method: String,
        params: Option<String>,
    ) -> futures::future::BoxFuture<'static, Result<String, crate::jsonrpc::RpcError>>;
}

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
    pub events: mpsc::UnboundedSender<Event>,
    /// The client capabilities to declare upstream (raw JSON object).
    pub client_caps: String,
    /// Who gets what no in-flight call claims (a per-session connection's own session); `None`
    /// sends it to the gateway as [`Event::Unclaimed`].
    pub owner: Option<Arc<dyn Caller>>,
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
    /// Start (or reach) the upstream and run the `initialize` handshake.
    pub async fn open(
        spec: &ServerSpec,
        opts: OpenOptions,
    ) -> Result<Arc<Connection>, UpstreamError> {
        let OpenOptions {
            http,
            startup,
            timeout,
            events,
            client_caps,
            owner,
        } = opts;
        let server = spec.name.clone();
        let peer = Peer::new();
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
            callers: DashMap::new(),
            client_caps,
            owner,
            generation: AtomicU64::new(0),
            reinit: tokio::sync::Mutex::new(()),
            launched: tokio::sync::Mutex::new(launched),
            timeout,
        });
        let weak = Arc::downgrade(&conn);
        conn.peer
            .on_inbound(Box::new(move |msg| route_inbound(&weak, &events, msg)));
        let launched_http = matches!(spec.transport, Transport::StreamableHttp(_))
            && conn.launched.lock().await.is_some();
        // 2026-07-28 has no HTTP+SSE transport: only stdio and streamable HTTP upstreams are probed.
        let probe =
            spec.protocol != Protocol::Initialize && !matches!(spec.transport, Transport::Sse(_));
        let handshake = async {
            // A server the gateway just started needs a moment to listen: retry refused connections.
            loop {
                let attempt = async {
                    if probe {
                        if let Some(info) =
                            handshake::discover(&conn, PROBE_WAIT.min(startup)).await?
                        {
                            return Ok(info);
                        }
                        if spec.protocol == Protocol::Modern {
                            return Err(UpstreamError::Protocol(
                                "protocol = \"2026-07-28\" but server/discover did not offer it"
                                    .into(),
                            ));
                        }
                    }
                    handshake::initialize(&conn, &conn.client_caps).await
                };
                match attempt.await {
                    Err(e @ (UpstreamError::Transport(_) | UpstreamError::Status(..)))
                        if launched_http =>
                    {
                        tracing::debug!(server = %conn.server, error = %e, "launched upstream not listening yet");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    other => break other,
                }
            }
        };
        let info = match tokio::time::timeout(startup, handshake).await {
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
        let modern = info.modern;
        conn.adopt(info);
        if modern {
            tokio::spawn(listen(Arc::downgrade(&conn)));
        } else if let Link::Http(h) = &conn.link {
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
    pub async fn request(
        &self,
        method: &str,
        params: Option<&str>,
    ) -> Result<Reply, UpstreamError> {
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
    ) -> Result<Reply, UpstreamError> {
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
            Err(UpstreamError::SessionExpired) => {
                self.reinitialize(generation).await?;
                send().await
            }
            other => other,
        }?;
        if !self.init.load().modern {
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
    pub async fn notify(&self, method: &str, params: Option<&str>) -> Result<(), UpstreamError> {
        self.send(jsonrpc::notification(method, params), None).await
    }

    async fn send(&self, msg: Bytes, id: Option<u64>) -> Result<(), UpstreamError> {
        self.send_mirrored(msg, id, None).await
    }

    async fn send_mirrored(
        &self,
        msg: Bytes,
        id: Option<u64>,
        mirror: Option<&Mirror<'_>>,
    ) -> Result<(), UpstreamError> {
        match &self.link {
            Link::Stdio(l) => l.send(msg).await,
            Link::Http(l) => l.send(msg, id, mirror).await,
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
        let info = handshake::initialize(self, &self.client_caps).await?;
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

impl Connection {
    /// Send a whole message (an answer to the upstream's own request, say).
    pub async fn send_message(&self, msg: Bytes) -> Result<(), UpstreamError> {
        self.send(msg, None).await
    }
}
