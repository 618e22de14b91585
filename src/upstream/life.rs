//! An upstream's life: started (eagerly or on first need), watched (an idle one is pinged; a
//! hung one is closed), and brought back with exponential backoff whenever it is down: after its
//! connection was lost, and after a start that failed (a server that comes up later is found).

use super::lists::{self, ListKind, Lists};
use super::supervisor::{State, Upstream};
use super::{Connection, Event};
use crate::call::Failure;
use crate::observe;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// How long an idle upstream has to answer a health ping (at most the health interval).
const PING_DEADLINE: Duration = Duration::from_secs(5);

/// Backoff between attempts: first wait, and the longest.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(30));

impl Upstream {
    /// Start the upstream if it has not been started yet, and wait for the outcome of the first
    /// attempt; `true` if this call started it. Later attempts go on in the background.
    pub async fn ensure_started(self: &Arc<Self>) -> bool {
        let mut started = self.started.lock().await;
        if *started {
            return false;
        }
        *started = true;
        tracing::info!(server = %self.spec.name, lazy = self.spec.lazy, "starting upstream");
        let (first, outcome) = oneshot::channel();
        tokio::spawn(self.clone().live(first));
        let _ = outcome.await;
        true
    }

    /// Open, serve until lost, and again, with backoff while it is down, until stopped.
    async fn live(self: Arc<Self>, first: oneshot::Sender<()>) {
        let mut first = Some(first);
        let began = Instant::now();
        let mut was_ready = false;
        let mut wait = BACKOFF.0;
        loop {
            self.set_state(if was_ready {
                State::Restarting
            } else {
                State::Starting
            });
            match self.open().await {
                Ok((conn, _)) if self.stopping.load(Ordering::Acquire) => {
                    conn.shutdown().await; // stopped while it was starting
                    return;
                }
                Ok((conn, lists)) => {
                    self.ready_in.lock().get_or_insert(began.elapsed());
                    // Not the first attempt: the gateway's catalog was built without it.
                    self.serving(&conn, lists, first.is_none());
                    if let Some(f) = first.take() {
                        let _ = f.send(());
                    }
                    was_ready = true;
                    wait = BACKOFF.0;
                    self.watch(&conn).await;
                    if self.stopping.load(Ordering::Acquire) {
                        return;
                    }
                    let stderr = self.stderr().last().join("\n");
                    tracing::warn!(server = %self.spec.name, stderr = %stderr, "upstream connection lost; restarting");
                    self.set_state(State::Restarting);
                }
                Err(e) => self.down(&e, was_ready, first.is_some(), wait),
            }
            if let Some(f) = first.take() {
                let _ = f.send(());
            }
            *self.next_try.lock() = Some(Instant::now() + wait);
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(BACKOFF.1);
            if self.stopping.load(Ordering::Acquire) {
                return;
            }
            self.restarts.fetch_add(1, Ordering::Relaxed);
            metrics::counter!(observe::RESTARTS, "server" => self.spec.name.to_string())
                .increment(1);
        }
    }

    /// Connect, handshake and fetch every list.
    async fn open(&self) -> Result<(Arc<Connection>, Lists), Failure> {
        let conn = Connection::open(&self.spec, self.opts.clone()).await?;
        match lists::fetch_all(&conn).await {
            Ok(lists) => Ok((conn, lists)),
            Err(e) => {
                conn.shutdown().await;
                Err(e)
            }
        }
    }

    /// It is up: keep its connection and lists, and (after the first attempt) tell the gateway,
    /// whose catalog and clients must learn of it.
    fn serving(&self, conn: &Arc<Connection>, lists: Lists, again: bool) {
        let init = conn.init();
        tracing::info!(
            server = %self.spec.name,
            transport = self.spec.transport.kind(),
            protocol = %init.protocol_version,
            tools = lists.get(ListKind::Tools).len(),
            prompts = lists.get(ListKind::Prompts).len(),
            resources = lists.get(ListKind::Resources).len(),
            "upstream ready"
        );
        self.lists.store(Arc::new(lists));
        self.conn.store(Some(conn.clone()));
        *self.last_error.lock() = None;
        *self.next_try.lock() = None;
        self.set_state(State::Ready);
        if again {
            self.opts
                .events
                .send(Event::ListChanged(self.spec.name.clone(), &ListKind::ALL));
        }
    }

    /// An attempt failed: say why (with what it wrote to stderr, at warn, whatever the level),
    /// and when it is tried again.
    fn down(&self, e: &Failure, was_ready: bool, first: bool, wait: Duration) {
        *self.last_error.lock() = Some(e.to_string());
        self.set_state(if was_ready {
            State::Restarting
        } else {
            State::Failed
        });
        let stderr = self.stderr().last().join("\n");
        if first {
            tracing::error!(server = %self.spec.name, error = %e, retry_in = ?wait, stderr = %stderr, "upstream failed to start; its tools are absent until it does");
        } else {
            tracing::warn!(server = %self.spec.name, error = %e, retry_in = ?wait, stderr = %stderr, "upstream still down");
        }
    }

    /// Wait for `conn` to end. Meanwhile, when the upstream has been idle for a health interval,
    /// ping it; one that does not answer in time is presumed hung and closed.
    async fn watch(&self, conn: &Arc<Connection>) {
        let every = self.spec.health_interval;
        if every.is_zero() {
            return conn.closed().await;
        }
        loop {
            tokio::select! {
                _ = conn.closed() => return,
                _ = tokio::time::sleep(every) => {}
            }
            if self.latency.idle() < every {
                continue; // in use: its requests tell us how it is
            }
            let deadline = PING_DEADLINE.min(every);
            // 2026-07-28 has no ping: server/discover is its cheapest request.
            let probe = if conn.init().stateless {
                "server/discover"
            } else {
                "ping"
            };
            let ping = tokio::time::timeout(deadline, conn.request(probe, None)).await;
            if !matches!(ping, Ok(Ok(_))) {
                tracing::warn!(server = %self.spec.name, "upstream did not answer ping within {deadline:?}; restarting it");
                *self.last_error.lock() = Some("did not answer ping".into());
                conn.shutdown().await;
                return;
            }
        }
    }
}
