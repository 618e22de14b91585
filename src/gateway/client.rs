//! A downstream client as the gateway core sees it: what it negotiated, its stream, the answers
//! it owes us, its requests in flight, its own upstream connections and subscriptions. Sessions
//! (ids clients name, expiry, the registry) are built on top of this by the session layer.

use super::private::Private;
use crate::call::{Identity, Via};
use crate::upstream::Connection;
use bytes::Bytes;
use dashmap::DashMap;
use rand::RngCore;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit};
use tokio_util::sync::CancellationToken;

/// What `initialize` settled.
#[derive(Debug)]
pub struct Negotiated {
    /// Protocol version.
    pub version: &'static str,
    /// `clientInfo`, raw.
    pub client_info: Option<Box<RawValue>>,
    /// The client's capabilities, raw (declared upstream on per-session connections).
    pub capabilities: String,
    /// Which server-to-client requests the client accepts.
    pub accepts: Accepts,
}

/// Client capabilities that decide whether a server-to-client request may be relayed.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(default)]
pub struct Accepts {
    /// `sampling`
    #[serde(deserialize_with = "present")]
    pub sampling: bool,
    /// `elicitation`
    #[serde(deserialize_with = "present")]
    pub elicitation: bool,
    /// `roots`
    #[serde(deserialize_with = "present")]
    pub roots: bool,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(!serde_json::Value::deserialize(d)?.is_null())
}

impl Accepts {
    /// Whether the client accepts a server-to-client request `method`.
    pub fn allows(&self, method: &str) -> bool {
        match method {
            "sampling/createMessage" => self.sampling,
            "elicitation/create" => self.elicitation,
            "roots/list" => self.roots,
            "ping" => true,
            _ => false,
        }
    }
}

/// One downstream client: a session of the `initialize` generation, the one client of a stdio
/// face, or a stateless (2026-07-28) request.
pub struct Client {
    /// 128 random bits as hex: the `Mcp-Session-Id` (or legacy SSE `sessionId`) of a session.
    pub id: Arc<str>,
    negotiated: OnceLock<Negotiated>,
    initialized: AtomicBool,
    /// The stream for messages not tied to one request (GET stream, legacy SSE stream, stdout).
    outbox: parking_lot::Mutex<Option<mpsc::Sender<Bytes>>>,
    next_id: AtomicU64,
    /// Server-to-client requests relayed to this client, by the id we gave them.
    awaiting: DashMap<String, oneshot::Sender<Bytes>>,
    /// Cancellation triggers of this client's requests in flight, by the client's raw id.
    inflight: DashMap<String, CancellationToken>,
    /// Level set by `logging/setLevel`; log notifications not tied to a request go to clients that set one.
    pub log_level: parking_lot::Mutex<Option<String>>,
    /// Exposed resource URIs this client subscribed to.
    pub subscriptions: parking_lot::Mutex<HashSet<String>>,
    /// Private upstream connections (`isolation = "per-session"`), by upstream serial.
    private: DashMap<u64, Private>,
    /// Serializes opening private connections.
    pub opening: tokio::sync::Mutex<()>,
    /// Who the client is, for per-client limits: set for anonymous stateless (2026-07-28)
    /// requests, whose id says nothing; else the identity's subject, else the id.
    key: OnceLock<Arc<str>>,
    /// Who is calling (policy, audit, identity headers upstream); a session is bound to it.
    pub identity: Arc<Identity>,
    /// The key of an authenticated identity.
    identity_key: Option<Arc<str>>,
    /// Where it came in (`http`, `sse`, `stdio`, `admin`), for the audit log.
    pub face: &'static str,
    /// The named endpoint it came in through (`None`: the aggregate); a session is bound to it.
    pub endpoint: Option<Arc<str>>,
    /// Messages for the first stream the client opens next (a session taken over from a
    /// replica that went away says so).
    held: parking_lot::Mutex<Vec<Bytes>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

/// 128 random bits as hex (session ids, `requestState` tokens).
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Client {
    /// A new, not yet initialized client with a fresh random id, on a gateway without
    /// authentication.
    pub fn new() -> Self {
        Self::for_caller(Identity::anonymous(Via::Open), "http")
    }

    /// A new client of `identity`, come in through `face`.
    pub fn for_caller(identity: Arc<Identity>, face: &'static str) -> Self {
        Client {
            identity_key: identity.limit_key(),
            identity,
            face,
            id: Arc::from(random_token()),
            negotiated: OnceLock::new(),
            initialized: AtomicBool::new(false),
            outbox: parking_lot::Mutex::new(None),
            next_id: AtomicU64::new(1),
            awaiting: DashMap::new(),
            inflight: DashMap::new(),
            log_level: parking_lot::Mutex::new(None),
            subscriptions: parking_lot::Mutex::new(HashSet::new()),
            private: DashMap::new(),
            opening: tokio::sync::Mutex::new(()),
            key: OnceLock::new(),
            endpoint: None,
            held: parking_lot::Mutex::new(Vec::new()),
        }
    }

    /// The same client under `id`: a session another replica opened, served here too. Its ids
    /// for server-to-client requests start at a random offset, so that two replicas asking the
    /// same client do not reuse each other's.
    pub fn adopted(mut self, id: Arc<str>) -> Self {
        self.id = id;
        self.next_id = AtomicU64::new(1 + (rand::random::<u32>() as u64) * 1024);
        self
    }

    /// The same client, of named endpoint `endpoint` (`None`: the aggregate).
    pub fn at(mut self, endpoint: Option<Arc<str>>) -> Self {
        self.endpoint = endpoint;
        self
    }

    /// Record what `initialize` settled (once).
    pub fn negotiate(&self, n: Negotiated) {
        let _ = self.negotiated.set(n);
    }

    /// What `initialize` settled, if it ran.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.get()
    }

    /// Mark `notifications/initialized` received.
    pub fn mark_initialized(&self) {
        self.initialized.store(true, Ordering::Release);
    }

    /// Name the client (per-client limits use it instead of the id).
    pub fn set_key(&self, key: Arc<str>) {
        let _ = self.key.set(key);
    }

    /// The key per-client limits count under.
    pub fn key(&self) -> Arc<str> {
        self.identity_key
            .as_ref()
            .or(self.key.get())
            .unwrap_or(&self.id)
            .clone()
    }

    /// Attach the client's stream; `false` if one is already open (only one is allowed).
    pub fn attach_stream(&self, tx: mpsc::Sender<Bytes>) -> bool {
        let mut slot = self.outbox.lock();
        if slot.as_ref().is_some_and(|s| !s.is_closed()) {
            return false;
        }
        *slot = Some(tx);
        true
    }

    /// Whether a stream is open.
    pub fn has_stream(&self) -> bool {
        self.outbox.lock().as_ref().is_some_and(|s| !s.is_closed())
    }

    /// Queue a message on the client's stream; `false` when no stream is open or it is full.
    pub fn push(&self, msg: Bytes) -> bool {
        let tx = self.outbox.lock().clone();
        tx.is_some_and(|tx| tx.try_send(msg).is_ok())
    }

    /// Queue a message that must not be lost (an answer): waits while the stream is full.
    /// `false` only when no stream is open.
    pub async fn deliver(&self, msg: Bytes) -> bool {
        let tx = self.outbox.lock().clone();
        match tx {
            Some(tx) => tx.send(msg).await.is_ok(),
            None => false,
        }
    }

    /// Keep `msg` for the next stream the client opens (an answer's or its own).
    pub fn hold(&self, msg: Bytes) {
        self.held.lock().push(msg);
    }

    /// The messages held for the next stream, taken.
    pub fn take_held(&self) -> Vec<Bytes> {
        std::mem::take(&mut *self.held.lock())
    }

    /// Close the client's stream.
    pub fn close_stream(&self) {
        self.outbox.lock().take();
    }

    /// A fresh id for a server-to-client request, and the slot its answer arrives in.
    pub fn expect_answer(&self) -> (String, oneshot::Receiver<Bytes>) {
        let id = format!("\"sb-{}\"", self.next_id.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = oneshot::channel();
        self.awaiting.insert(id.clone(), tx);
        (id, rx)
    }

    /// Give up waiting for an answer.
    pub fn forget_answer(&self, id: &str) {
        self.awaiting.remove(id);
    }

    /// The client answered a server-to-client request; `false` if nobody waits for that id.
    pub fn answer(&self, id: &str, msg: Bytes) -> bool {
        match self.awaiting.remove(id) {
            Some((_, tx)) => tx.send(msg).is_ok(),
            None => false,
        }
    }

    /// Register a request in flight; the token fires if the client cancels it. A request
    /// registered beforehand (see [`Client::begin_with`]) keeps its token.
    pub fn begin(&self, id: &str) -> CancellationToken {
        self.inflight.entry(id.to_string()).or_default().clone()
    }

    /// Register request `id` with a token of the caller's (cancelled elsewhere, perhaps already).
    pub fn begin_with(&self, id: &str, token: CancellationToken) {
        self.inflight.insert(id.to_string(), token);
    }

    /// The client's own live connection to upstream `serial`, if it has one (now used).
    pub fn private_connection(&self, serial: u64) -> Option<Arc<Connection>> {
        let p = self.private.get(&serial)?;
        p.touch();
        Some(p.conn.clone()).filter(|c| !c.is_closed())
    }

    /// Keep `conn` as the client's own connection to upstream `serial`; `place` holds its place
    /// under the upstream's `max_per_session_children` until it is replaced or released.
    pub fn keep_private(&self, serial: u64, conn: Arc<Connection>, place: OwnedSemaphorePermit) {
        self.private.insert(serial, Private::new(conn, place));
    }

    /// Give up the connection to upstream `serial` (the caller stops it); its place is freed.
    pub fn drop_private(&self, serial: u64) -> Option<Arc<Connection>> {
        self.private.remove(&serial).map(|(_, p)| p.conn.clone())
    }

    /// The private connections, by upstream serial.
    pub(super) fn private(&self) -> &DashMap<u64, Private> {
        &self.private
    }

    /// Every private connection of the client.
    pub fn private_connections(&self) -> Vec<Arc<Connection>> {
        self.private.iter().map(|p| p.conn.clone()).collect()
    }

    /// Forget every private connection (the caller stops them); their slots are freed.
    pub fn take_private(&self) -> Vec<Arc<Connection>> {
        let all = self.private_connections();
        self.private.clear();
        all
    }

    /// Whether a request of this client is in flight.
    pub fn busy(&self) -> bool {
        !self.inflight.is_empty()
    }

    /// A request is done.
    pub fn end(&self, id: &str) {
        self.inflight.remove(id);
    }

    /// The client cancelled request `id`.
    pub fn cancel(&self, id: &str) -> bool {
        match self.inflight.remove(id) {
            Some((_, token)) => {
                token.cancel();
                true
            }
            None => false,
        }
    }
}
