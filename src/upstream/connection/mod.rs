//! One live, initialized connection to an upstream, over any transport.

mod modern;

use modern::{listen, Again, PROBE_WAIT};

use super::http::{HttpLink, Mirror};
use super::lists::ListKind;
use super::peer::Inbound;
use super::sse::SseLink;
use super::stdio::StdioLink;
use super::{handshake, process, InitInfo, Peer, Reply, UpstreamError};
use crate::config::{Protocol, ServerSpec, Transport};
use crate::jsonrpc::{self, Kind};
use crate::layers::timeout::Deadline;
use arc_swap::ArcSwap;
use bytes::Bytes;
use dashmap::DashMap;
use serde_json::value::RawValue;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
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
                    Err(UpstreamError::Transport(e)) if launched_http => {
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
        let reply = match self
            .request_once_with(
                method,
                params,
                deadline,
                caller.clone(),
                cancel,
                param_headers,
            )
            .await
        {
            Err(UpstreamError::SessionExpired) => {
                self.reinitialize(generation).await?;
                self.request_once_with(
                    method,
                    params,
                    deadline,
                    caller.clone(),
                    cancel,
                    param_headers,
                )
                .await
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

    /// One exchange, no re-initialization (the handshake itself uses this).
    pub(super) async fn request_once(
        &self,
        method: &str,
        params: Option<&str>,
        deadline: &Deadline,
        caller: Option<Arc<dyn Caller>>,
        cancel: Option<&CancellationToken>,
    ) -> Result<Reply, UpstreamError> {
        self.request_once_with(method, params, deadline, caller, cancel, &[])
            .await
    }

    /// One exchange; a 2026-07-28 HTTP request also carries `param_headers` (`Mcp-Param-*`).
    async fn request_once_with(
        &self,
        method: &str,
        params: Option<&str>,
        deadline: &Deadline,
        caller: Option<Arc<dyn Caller>>,
        cancel: Option<&CancellationToken>,
        param_headers: &[(String, String)],
    ) -> Result<Reply, UpstreamError> {
        let (id, rx) = self.peer.register()?;
        let (rewritten, enveloped);
        let mut params = params;
        if let Some(c) = caller {
            if c.wants_progress() {
                rewritten = jsonrpc::with_progress_token(params, &format!("\"sb-{id}\""));
                params = Some(&rewritten);
            }
            self.callers.insert(id, c);
        }
        let modern = method == "server/discover" || self.init.load().modern;
        if modern {
            enveloped = self.envelope(params);
            params = Some(&enveloped);
        }
        let mirror = modern.then(|| Mirror {
            method,
            params: param_headers,
            name: match method {
                "tools/call" | "prompts/get" => jsonrpc::string_member(params, "name"),
                "resources/read" => jsonrpc::string_member(params, "uri"),
                _ => None,
            },
        });
        let _release = Release {
            callers: &self.callers,
            id,
        };
        let msg = jsonrpc::request(id, method, params);
        let exchange = async {
            self.send_mirrored(msg, Some(id), mirror.as_ref()).await?;
            rx.await.map_err(|_| UpstreamError::Closed)?
        };
        let cancelled = async {
            match cancel {
                Some(token) => token.cancelled().await,
                None => std::future::pending().await,
            }
        };
        let (err, reason) = tokio::select! {
            r = exchange => match r {
                Ok(reply) => return Ok(reply),
                Err(e) => {
                    self.peer.forget(id);
                    return Err(e);
                }
            },
            _ = deadline.expired() => (
                UpstreamError::Timeout(deadline.timeout()),
                format!("timed out in the gateway after {:?}", deadline.timeout()),
            ),
            _ = cancelled => (UpstreamError::Cancelled, "cancelled by the client".to_string()),
        };
        self.peer.forget(id);
        let params = serde_json::json!({ "requestId": id, "reason": reason }).to_string();
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            self.notify("notifications/cancelled", Some(&params)),
        )
        .await;
        Err(err)
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

/// Forgets a caller when its request ends, however it ends.
struct Release<'a> {
    callers: &'a DashMap<u64, Arc<dyn Caller>>,
    id: u64,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.callers.remove(&self.id);
    }
}

impl Connection {
    /// Send a whole message (an answer to the upstream's own request, say).
    pub async fn send_message(&self, msg: Bytes) -> Result<(), UpstreamError> {
        self.send(msg, None).await
    }

    /// The caller a message belongs to: the request whose stream carried it, the owner of its
    /// progress token, or the only call in flight (stdio says nothing more).
    fn claim(
        &self,
        method: &str,
        params: Option<&RawValue>,
        related: Option<u64>,
        is_request: bool,
    ) -> Option<Arc<dyn Caller>> {
        if let Some(c) = related.and_then(|id| self.callers.get(&id).map(|c| c.clone())) {
            return Some(c);
        }
        if method == "notifications/progress" {
            let token = jsonrpc::str_member(params, "progressToken")?;
            let id: u64 = token.strip_prefix("sb-")?.parse().ok()?;
            return self.callers.get(&id).map(|c| c.clone());
        }
        if (is_request || method == "notifications/message") && self.callers.len() == 1 {
            return self.callers.iter().next().map(|e| e.value().clone());
        }
        None
    }
}

/// Route one message the upstream sent unprompted. Runs on the transport's reader, before any
/// later message is read, so a progress notification or log line always reaches its caller
/// before the response that ends the call (which releases the caller).
fn route_inbound(
    conn: &Weak<Connection>,
    events: &mpsc::UnboundedSender<Event>,
    Inbound { buf, related }: Inbound,
) {
    let Some(conn) = conn.upgrade() else { return };
    let Ok(msg) = jsonrpc::parse(&buf) else {
        return;
    };
    let (method, params, is_request) = match msg.kind() {
        Ok(Kind::Request {
            id, method: "ping", ..
        }) => {
            let pong = jsonrpc::response_result(id.get(), "{}");
            tokio::spawn(async move {
                let _ = conn.send(pong, None).await;
            });
            return;
        }
        Ok(Kind::Request { method, params, .. }) => (method, params, true),
        Ok(Kind::Notification { method, params }) => (method, params, false),
        _ => return,
    };
    let about_lists = ListKind::from_notification(method).is_some()
        || method == "notifications/resources/updated";
    if let (true, Some(owner)) = (about_lists, &conn.owner) {
        // A per-session connection's changes concern its own session only.
        owner.relay(&conn, buf.clone());
        return;
    }
    if let Some(kinds) = ListKind::from_notification(method) {
        let _ = events.send(Event::ListChanged(conn.server.clone(), kinds));
        return;
    }
    if method == "notifications/resources/updated" {
        let raw = Bytes::copy_from_slice(params.map_or("{}", RawValue::get).as_bytes());
        let _ = events.send(Event::ResourceUpdated(conn.server.clone(), raw));
        return;
    }
    match conn
        .claim(method, params, related, is_request)
        .or_else(|| conn.owner.clone())
    {
        Some(caller) => caller.relay(&conn, buf.clone()),
        None => {
            let _ = events.send(Event::Unclaimed(conn.clone(), buf.clone()));
        }
    }
}
