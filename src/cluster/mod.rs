//! Replicas sharing state through Redis (`[cluster]`): the one store handle shared decisions go
//! through, whether it is reachable, the atomic rate-limit check (GCRA, in [`gcra`]) and the
//! session records another replica serves a session from, and where a session or a parked call
//! lives, for forwarding ([`sessions`]); the pinned tool definitions every replica holds to
//! ([`pins`]).
//! Without `[cluster]` there is no store and every decision stays in the process.

mod gcra;
mod pins;
mod sessions;

pub use gcra::{Admission, Bucket};
pub use pins::PinChange;
pub use sessions::Record;

use crate::config::ClusterSettings;
use arc_swap::ArcSwapOption;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::time::Instant;

/// How often a store that is down is tried again (callers meanwhile fall back at once).
const PROBE_EVERY: Duration = Duration::from_millis(500);

/// How many operations in a row must fail before the store counts as down: one answer late on
/// a busy machine is not an outage, and while down every lookup falls back (a session or a
/// parked call another replica holds would look unknown for [`PROBE_EVERY`]).
const DOWN_AFTER: u32 = 3;

/// The shared store of this process, once `[cluster]` started it.
static STORE: OnceLock<Arc<Store>> = OnceLock::new();

/// The shared store, when this replica is part of a cluster.
pub fn store() -> Option<&'static Arc<Store>> {
    STORE.get()
}

/// Start the store of `settings` (call once, at start, on the runtime): connecting happens in
/// the background, and until it succeeds the store counts as down.
pub fn start(settings: &ClusterSettings) -> Result<&'static Arc<Store>, String> {
    let client =
        redis::Client::open(settings.redis.as_str()).map_err(|e| format!("cluster.redis: {e}"))?;
    let store = Arc::new(Store::new(client.clone(), settings.clone()));
    let s = store.clone();
    tokio::spawn(async move { s.connect(client).await });
    let _ = STORE.set(store);
    Ok(STORE.get().expect("just set"))
}

/// The connection to Redis and what is known of its health.
pub struct Store {
    /// For connections of their own (a subscription).
    client: redis::Client,
    settings: ClusterSettings,
    conn: ArcSwapOption<ConnectionManager>,
    /// Whether it is reachable: the last operation succeeded, or fewer than [`DOWN_AFTER`]
    /// failed since.
    up: AtomicBool,
    /// Operations failed in a row.
    failures: AtomicU32,
    /// When (ms since `born`) a store that is down may be tried again.
    next_probe: AtomicU64,
    born: Instant,
    /// Where other replicas reach this one: `cluster.advertise`, else the address it listens on.
    advertised: OnceLock<String>,
}

impl Store {
    /// A store not connected yet (down until [`Store::connect`] succeeds).
    fn new(client: redis::Client, settings: ClusterSettings) -> Store {
        Store {
            client,
            settings,
            conn: ArcSwapOption::empty(),
            up: AtomicBool::new(false),
            failures: AtomicU32::new(0),
            next_probe: AtomicU64::new(0),
            born: Instant::now(),
            advertised: OnceLock::new(),
        }
    }

    /// Connect, retrying until it works (the connection manager reconnects by itself after).
    async fn connect(&self, client: redis::Client) {
        let t = self.settings.timeout;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(t)
            .set_response_timeout(t)
            .set_number_of_retries(1);
        loop {
            match ConnectionManager::new_with_config(client.clone(), config.clone()).await {
                Ok(m) => {
                    self.conn.store(Some(Arc::new(m)));
                    self.mark(true);
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot reach the cluster store yet; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// The settings it runs with.
    pub fn settings(&self) -> &ClusterSettings {
        &self.settings
    }

    /// The gateway listens on `bound`: without `cluster.advertise`, other replicas reach it
    /// there when that names one host (an unspecified address like `0.0.0.0` names none).
    pub fn listening_on(&self, bound: std::net::SocketAddr) {
        let url = match &self.settings.advertise {
            Some(a) => a.clone(),
            None if bound.ip().is_unspecified() => {
                tracing::warn!(node = %self.settings.node_id, "cluster.advertise is not set and the gateway listens on every address: other replicas cannot forward to this one, and each serves the sessions it meets alone");
                return;
            }
            None => format!("http://{bound}"),
        };
        let _ = self.advertised.set(url);
    }

    /// Where other replicas reach this one, once known.
    pub fn advertised(&self) -> Option<&str> {
        self.advertised.get().map(String::as_str)
    }

    /// Whether the store is reachable (see [`DOWN_AFTER`]).
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// What `/ready` and `/servers` say of it.
    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "store": "redis",
            "state": if self.is_up() { "up" } else { "down" },
            "node_id": self.settings.node_id,
            "advertise": self.advertised(),
            "fail_open": self.settings.fail_open,
            "rate_limits": match (self.is_up(), self.settings.fail_open) {
                (true, _) => "shared",
                (false, true) => "local (the store is down)",
                (false, false) => "refused (the store is down, fail_open = false)",
            },
        })
    }

    /// Record an operation's outcome: the store is down after [`DOWN_AFTER`] failures in a row
    /// (or when one fails while it is down: a probe), up after one success; the change is
    /// logged once.
    fn mark(&self, ok: bool) {
        let failed = match ok {
            true => {
                self.failures.store(0, Ordering::Relaxed);
                0
            }
            false => self.failures.fetch_add(1, Ordering::Relaxed) + 1,
        };
        let up = ok || (self.is_up() && failed < DOWN_AFTER);
        if self.up.swap(up, Ordering::Relaxed) != up {
            match up {
                true => {
                    tracing::info!(node = %self.settings.node_id, "cluster store reachable: limits are shared")
                }
                false => {
                    tracing::warn!(node = %self.settings.node_id, fail_open = self.settings.fail_open, "cluster store unreachable: limits fall back to this replica's")
                }
            }
        }
        if !up {
            let at = self.born.elapsed() + PROBE_EVERY;
            self.next_probe
                .store(at.as_millis() as u64, Ordering::Relaxed);
        }
    }

    /// A connection to use now: `None` while down and not yet due for another try.
    fn connection(&self) -> Option<ConnectionManager> {
        let due = self.born.elapsed().as_millis() as u64 >= self.next_probe.load(Ordering::Relaxed);
        if !self.is_up() && !due {
            return None;
        }
        if !self.is_up() {
            // This caller probes; the others keep falling back until it has an answer.
            let at = self.born.elapsed() + PROBE_EVERY;
            self.next_probe
                .store(at.as_millis() as u64, Ordering::Relaxed);
        }
        self.conn.load_full().map(|c| (*c).clone())
    }

    /// Run one store operation within `cluster.timeout`, recording whether it succeeded;
    /// `None` when it failed or did not answer in time.
    async fn within<T>(
        &self,
        op: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        match tokio::time::timeout(self.settings.timeout, op).await {
            Ok(Ok(v)) => {
                self.mark(true);
                Some(v)
            }
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "cluster store: operation failed");
                self.mark(false);
                None
            }
            Err(_) => {
                tracing::debug!(timeout = ?self.settings.timeout, "cluster store: operation timed out");
                self.mark(false);
                None
            }
        }
    }

    /// Add `n` to the shared counter `name` on `conn`, a connection of a thread of its own
    /// ([`Store::blocking`]), and return the counter's new value (the last of the `n` numbers
    /// just taken); `None` when the store did not answer within `cluster.timeout`.
    pub fn count(&self, conn: &mut redis::Connection, name: &str, n: u64) -> Option<u64> {
        let counted = redis::cmd("INCRBY")
            .arg(self.key(name))
            .arg(n)
            .query::<u64>(conn);
        self.mark(counted.is_ok());
        counted.ok()
    }

    /// A connection for a thread outside the runtime (the audit writer): connecting, reading
    /// and writing each bounded by `cluster.timeout`.
    pub fn blocking(&self) -> Option<redis::Connection> {
        let t = self.settings.timeout;
        let conn = self.client.get_connection_with_timeout(t).ok()?;
        conn.set_read_timeout(Some(t)).ok()?;
        conn.set_write_timeout(Some(t)).ok()?;
        Some(conn)
    }

    /// Call `heard` with every message on `channel`, for as long as the process runs
    /// (subscribing again a second after the store went away).
    fn subscribe(&'static self, channel: String, heard: impl Fn(String) + Send + Sync + 'static) {
        tokio::spawn(async move {
            use futures::StreamExt;
            loop {
                if let Ok(mut sub) = self.client.get_async_pubsub().await {
                    if sub.subscribe(&channel).await.is_ok() {
                        let mut messages = sub.on_message();
                        while let Some(m) = messages.next().await {
                            if let Ok(text) = m.get_payload::<String>() {
                                heard(text);
                            }
                        }
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }

    /// The full key of `name`.
    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.settings.key_prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        let settings = crate::config::ClusterSettings {
            redis: "redis://127.0.0.1:1/0".into(),
            node_id: "t".into(),
            advertise: None,
            forward_timeout: Duration::from_secs(1),
            timeout: Duration::from_millis(200),
            fail_open: true,
            key_prefix: "t:".into(),
        };
        Store::new(
            redis::Client::open(settings.redis.as_str()).unwrap(),
            settings,
        )
    }

    #[tokio::test]
    async fn one_late_answer_is_not_an_outage() {
        let s = store();
        s.mark(true);
        for _ in 1..DOWN_AFTER {
            s.mark(false);
            assert!(s.is_up(), "down after fewer than {DOWN_AFTER} failures");
        }
        s.mark(true);
        for _ in 1..DOWN_AFTER {
            s.mark(false);
        }
        assert!(s.is_up(), "a success in between starts the count again");
        s.mark(false);
        assert!(!s.is_up(), "down after {DOWN_AFTER} failures in a row");
        s.mark(true);
        assert!(s.is_up(), "one success: up again");
    }
}
