//! Downstream sessions: what each client negotiated, and its server-to-client stream.

use bytes::Bytes;
use dashmap::DashMap;
use rand::RngCore;
use serde_json::value::RawValue;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// One downstream client session.
#[derive(Debug)]
pub struct Session {
    /// `Mcp-Session-Id`: 128 random bits as hex (visible ASCII, unguessable).
    pub id: Arc<str>,
    /// The protocol version negotiated at `initialize`.
    pub protocol_version: &'static str,
    /// `clientInfo`, raw.
    pub client_info: Option<Box<RawValue>>,
    /// The client's declared capabilities, raw (what the gateway may advertise upstream).
    pub client_capabilities: Option<Box<RawValue>>,
    /// Set by `notifications/initialized`.
    pub initialized: AtomicBool,
    /// The open standalone stream (GET), if any.
    stream: parking_lot::Mutex<Option<mpsc::Sender<Bytes>>>,
}

impl Session {
    /// A new session with a fresh random id.
    pub fn new(
        protocol_version: &'static str,
        client_info: Option<Box<RawValue>>,
        client_capabilities: Option<Box<RawValue>>,
    ) -> Self {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Session {
            id: Arc::from(id),
            protocol_version,
            client_info,
            client_capabilities,
            initialized: AtomicBool::new(false),
            stream: parking_lot::Mutex::new(None),
        }
    }

    /// Mark `notifications/initialized` received.
    pub fn mark_initialized(&self) {
        self.initialized.store(true, Ordering::Release);
    }

    /// Attach the standalone stream; `false` if one is already open (only one is allowed).
    pub fn attach_stream(&self, tx: mpsc::Sender<Bytes>) -> bool {
        let mut slot = self.stream.lock();
        if slot.as_ref().is_some_and(|s| !s.is_closed()) {
            return false;
        }
        *slot = Some(tx);
        true
    }

    /// Queue a message on the standalone stream; `false` when no stream is open.
    pub fn push(&self, msg: Bytes) -> bool {
        let tx = self.stream.lock().clone();
        tx.is_some_and(|tx| tx.try_send(msg).is_ok())
    }

    /// Close the standalone stream.
    pub fn close_stream(&self) {
        self.stream.lock().take();
    }
}

/// All live sessions.
#[derive(Debug, Default)]
pub struct Sessions {
    map: DashMap<Arc<str>, Arc<Session>>,
}

impl Sessions {
    /// Register a session.
    pub fn insert(&self, s: Arc<Session>) {
        self.map.insert(s.id.clone(), s);
    }

    /// Find a session by id.
    pub fn get(&self, id: &str) -> Option<Arc<Session>> {
        self.map.get(id).map(|e| e.value().clone())
    }

    /// End a session; `false` if it did not exist.
    pub fn remove(&self, id: &str) -> bool {
        match self.map.remove(id) {
            Some((_, s)) => {
                s.close_stream();
                true
            }
            None => false,
        }
    }

    /// How many sessions are live.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Every live session (for broadcasts such as `list_changed`).
    pub fn all(&self) -> Vec<Arc<Session>> {
        self.map.iter().map(|e| e.value().clone()).collect()
    }
}
