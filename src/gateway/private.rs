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

    /// A place for `client`'s connection to upstream `index`: a free one, or one made by closing
    /// the longest-unused connection of a client with nothing in flight; `None` when all are busy.
    pub async fn take(&self, index: usize, client: &Arc<Client>) -> Option<OwnedSemaphorePermit> {
        loop {
            if let Ok(place) = self.free.clone().try_acquire_owned() {
                self.holders
                    .insert(client.id.clone(), Arc::downgrade(client));
                return Some(place);
            }
            let (victim, conn) = self.idlest(index, client)?;
            tracing::info!(client = %victim, "closing the longest-unused per-session connection to make room (max_per_session_children)");
            conn.shutdown().await;
        }
    }

    /// Take the least recently used connection to `index` from a holder that is not busy.
    fn idlest(&self, index: usize, asking: &Client) -> Option<(Arc<str>, Arc<Connection>)> {
        self.holders.retain(|_, c| c.strong_count() > 0);
        let mut best: Option<(Instant, Arc<Client>)> = None;
        for holder in self.holders.iter() {
            let Some(c) = holder.upgrade() else { continue };
            if c.id == asking.id || c.busy() {
                continue;
            }
            let Some(at) = c.private_used_at(index) else {
                continue;
            };
            if best.as_ref().is_none_or(|(b, _)| at < *b) {
                best = Some((at, c));
            }
        }
        let (_, client) = best?;
        let conn = client.drop_private(index)?;
        Some((client.id.clone(), conn))
    }

    /// `client` holds no place here any more.
    pub fn released(&self, client: &str) {
        self.holders.remove(client);
    }
}

impl Client {
    /// When the client last used its connection to upstream `index`.
    fn private_used_at(&self, index: usize) -> Option<Instant> {
        self.private().get(&index).map(|p| p.last_used())
    }
}
