//! The client half of one upstream connection: our request ids, the pending table, and demux of
//! what the upstream sends (responses to us; its own requests and notifications).

use crate::call::{Failure, Reply};
use crate::jsonrpc::{self, Kind, Outcome};
use bytes::Bytes;
use dashmap::DashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::oneshot;

type Waiter = oneshot::Sender<Result<Reply, Failure>>;

/// Which stream a message came on, as far as the transport tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// The event stream of our request with this id (an HTTP POST's): it belongs to that request.
    Request(u64),
    /// An HTTP upstream's standalone GET stream: sent outside any request's stream.
    Standalone,
    /// A transport with one stream for everything (stdio, legacy SSE): it does not say.
    Unknown,
}

/// A request or notification the upstream sent us, and the stream it came on.
#[derive(Debug)]
pub struct Inbound {
    /// The whole message.
    pub buf: Bytes,
    /// Where it came from.
    pub on: Stream,
}

/// Shared state between the request path and the task(s) reading from the upstream.
pub struct Peer {
    next_id: AtomicU64,
    pending: DashMap<u64, Waiter>,
    /// Where requests and notifications the upstream sends us go (set once, right after creation).
    inbound: std::sync::OnceLock<Box<dyn Fn(Inbound) + Send + Sync>>,
    closed: AtomicBool,
    /// Wakes whoever waits for the end of the connection (the supervisor).
    ended: tokio::sync::Notify,
}

impl Peer {
    /// A new peer.
    pub fn new() -> Arc<Peer> {
        Arc::new(Peer {
            next_id: AtomicU64::new(1),
            pending: DashMap::new(),
            inbound: std::sync::OnceLock::new(),
            closed: AtomicBool::new(false),
            ended: tokio::sync::Notify::new(),
        })
    }

    /// Set the handler of what the upstream sends unprompted. It runs on the reading task, in
    /// order with responses, and must not block.
    pub fn on_inbound(&self, handler: Box<dyn Fn(Inbound) + Send + Sync>) {
        let _ = self.inbound.set(handler);
    }

    /// Reserve an id and a slot for its answer.
    pub fn register(&self) -> Result<(u64, oneshot::Receiver<Result<Reply, Failure>>), Failure> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Failure::closed());
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending.insert(id, tx);
        // Closed between the check and the insert: make sure the waiter is answered.
        if self.closed.load(Ordering::Acquire) {
            self.pending.remove(&id);
            return Err(Failure::closed());
        }
        Ok((id, rx))
    }

    /// Give up on a request (timeout, send failure); a late answer is then dropped.
    pub fn forget(&self, id: u64) {
        self.pending.remove(&id);
    }

    /// Answer one pending request with an error (a transport that knows which request failed).
    pub fn fail(&self, id: u64, err: Failure) {
        if let Some((_, tx)) = self.pending.remove(&id) {
            let _ = tx.send(Err(err));
        }
    }

    /// Resolves once the connection is closed.
    pub async fn closed(&self) {
        loop {
            let ended = self.ended.notified();
            if self.is_closed() {
                return;
            }
            ended.await;
        }
    }

    /// Whether the connection is closed.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The connection ended: answer every pending request at once, refuse new ones. The
    /// failures are one incident (one crash fails every request in flight; the breaker counts
    /// it once).
    pub fn close(&self, err: Failure) {
        let err = err.in_incident(rand::random());
        self.closed.store(true, Ordering::Release);
        self.ended.notify_waiters();
        let ids: Vec<u64> = self.pending.iter().map(|e| *e.key()).collect();
        for id in ids {
            self.fail(id, err.clone());
        }
    }

    /// Whether request `id` still waits for its answer.
    pub fn is_pending(&self, id: u64) -> bool {
        self.pending.contains_key(&id)
    }

    /// Route one message from a transport with one stream. Returns an error for garbage
    /// (logged by the caller).
    pub fn deliver(&self, buf: Bytes) -> Result<(), String> {
        self.deliver_on(buf, Stream::Unknown)
    }

    /// Route one message that arrived on stream `on`.
    pub fn deliver_on(&self, buf: Bytes, on: Stream) -> Result<(), String> {
        let msg = jsonrpc::parse(&buf).map_err(|e| e.to_string())?;
        let kind = msg.kind().map_err(|e| e.to_string())?;
        match kind {
            Kind::Response { id, outcome } => {
                let Ok(n) = id.get().parse::<u64>() else {
                    return Err(format!("response to an id we never sent: {}", id.get()));
                };
                let (payload, is_error) = match outcome {
                    Outcome::Result(r) => (r.get(), false),
                    Outcome::Error(e) => (e.get(), true),
                };
                let start = payload.as_ptr() as usize - buf.as_ptr() as usize;
                let reply = Reply::new(buf.clone(), start..start + payload.len(), is_error);
                match self.pending.remove(&n) {
                    Some((_, tx)) => {
                        let _ = tx.send(Ok(reply));
                        Ok(())
                    }
                    // Late answer after a timeout or cancellation: nobody waits for it any more.
                    None => Ok(()),
                }
            }
            Kind::Request { .. } | Kind::Notification { .. } => {
                if let Some(handle) = self.inbound.get() {
                    handle(Inbound {
                        buf: buf.clone(),
                        on,
                    });
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn matches_responses_by_id_and_keeps_payload_raw() {
        let peer = Peer::new();
        let (tx, mut inbound) = tokio::sync::mpsc::unbounded_channel();
        peer.on_inbound(Box::new(move |m| {
            let _ = tx.send(m);
        }));
        let (a, ra) = peer.register().unwrap();
        let (b, rb) = peer.register().unwrap();
        peer.deliver(Bytes::from(format!(
            r#"{{"jsonrpc":"2.0","id":{b},"result":{{"x": 1.0}}}}"#
        )))
        .unwrap();
        peer.deliver(Bytes::from(format!(
            r#"{{"jsonrpc":"2.0","id":{a},"error":{{"code":-1,"message":"m"}}}}"#
        )))
        .unwrap();
        let rb = rb.await.unwrap().unwrap();
        assert_eq!(rb.payload(), r#"{"x": 1.0}"#);
        assert!(!rb.is_error());
        let ra = ra.await.unwrap().unwrap();
        assert!(ra.is_error());
        peer.deliver(Bytes::from_static(
            br#"{"jsonrpc":"2.0","method":"notifications/message"}"#,
        ))
        .unwrap();
        assert!(inbound.recv().await.is_some());
        assert!(peer.deliver(Bytes::from_static(b"garbage")).is_err());
    }

    #[tokio::test]
    async fn close_answers_every_pending_request() {
        let peer = Peer::new();
        let (_, r1) = peer.register().unwrap();
        let (_, r2) = peer.register().unwrap();
        peer.close(Failure::closed());
        assert_eq!(
            r1.await.unwrap().unwrap_err().kind(),
            crate::call::Kind::UpstreamCrashed
        );
        assert_eq!(
            r2.await.unwrap().unwrap_err().kind(),
            crate::call::Kind::UpstreamCrashed
        );
        assert!(peer.register().is_err());
    }
}
