//! Per-session upstream connections (`isolation = "per-session"`): a client's own connection to
//! one upstream, and that upstream's places under `max_per_session_children`. At the limit, the
//! longest-unused connection of a client with nothing in flight is closed to make room (that
//! client's next call opens a fresh one: what the server kept for it is gone); when every holder
//! is busy, the new one is refused.

use super::Client;
use crate::upstream::Connection;
use dashmap::DashMap;
use std::sync::{Arc, Weak};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// A client's own connection to one upstream, and its place under that upstream's limit.
pub struct Private {
    /// The connection.
    pub conn: Arc<Connection>,
    last_used: parking_lot::Mutex<Instant>,
    _place: OwnedSemaphorePermit,
}

impl Private {
    /// `conn`, holding `place`.
    pub fn new(conn: Arc<Connection>, place: OwnedSemaphorePermit) -> Private {
        Private {
            conn,
            last_used: parking_lot::Mutex::new(Instant::now()),
            _place: place,
        }
    }

    /// Used just now.
    pub fn touch(&self) {
        *self.last_used.lock() = Instant::now();
    }

    fn last_used(&self) -> Instant {
        *self.last_used.lock()
    }
}

/// One upstream's places for per-session connections, and who holds them.
pub struct Places {
    free: Arc<Semaphore>,
    holders: DashMap<Arc<str>, Weak<Client>>,
}

impl Places {
    /// `max` places.
    pub fn new(max: usize) -> Places {
        Places {
            free: Arc::new(Semaphore::new(max)),
            holders: DashMap::new(),
        }
    }

    /// A place for `client`'s connection to upstream `serial`: a free one, or one made by closing
    /// the longest-unused connection of a client with nothing in flight; `None` when all are busy.
    pub async fn take(&self, serial: u64, client: &Arc<Client>) -> Option<OwnedSemaphorePermit> {
        loop {
            if let Ok(place) = self.free.clone().try_acquire_owned() {
                self.holders
                    .insert(client.id.clone(), Arc::downgrade(client));
                return Some(place);
            }
            let (victim, conn) = self.idlest(serial, client)?;
            tracing::info!(client = %victim, "closing the longest-unused per-session connection to make room (max_per_session_children)");
            conn.shutdown().await;
        }
    }

    /// Take the least recently used connection to `serial` from a holder that is not busy.
    fn idlest(&self, serial: u64, asking: &Client) -> Option<(Arc<str>, Arc<Connection>)> {
        self.holders.retain(|_, c| c.strong_count() > 0);
        let mut best: Option<(Instant, Arc<Client>)> = None;
        for holder in self.holders.iter() {
            let Some(c) = holder.upgrade() else { continue };
            if c.id == asking.id || c.busy() {
                continue;
            }
            let Some(at) = c.private_used_at(serial) else {
                continue;
            };
            if best.as_ref().is_none_or(|(b, _)| at < *b) {
                best = Some((at, c));
            }
        }
        let (_, client) = best?;
        let conn = client.drop_private(serial)?;
        Some((client.id.clone(), conn))
    }

    /// `client` holds no place here any more.
    pub fn released(&self, client: &str) {
        self.holders.remove(client);
    }

    /// Take every client's connection to upstream `serial` (its upstream is gone: the caller
    /// stops them).
    pub fn close_all(&self, serial: u64) -> Vec<Arc<Connection>> {
        let holders: Vec<Arc<Client>> = self.holders.iter().filter_map(|h| h.upgrade()).collect();
        self.holders.clear();
        holders
            .iter()
            .filter_map(|c| c.drop_private(serial))
            .collect()
    }
}

impl Client {
    /// When the client last used its connection to upstream `serial`.
    fn private_used_at(&self, serial: u64) -> Option<Instant> {
        self.private().get(&serial).map(|p| p.last_used())
    }
}
