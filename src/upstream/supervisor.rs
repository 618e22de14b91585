//! One configured upstream over its life: started (eagerly or on first need), its shared
//! connection watched and restarted with backoff when lost or hung, its lists cached.

use super::lists::{self, ListKind, Lists};
use super::{Connect, Connection, Event, OpenOptions};
use crate::call::{Caller, Failure};
use crate::config::{Isolation, ServerSpec};
use crate::observe;
use arc_swap::{ArcSwap, ArcSwapOption};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Where an upstream is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Lazy, not started yet.
    Dormant,
    /// Starting and initializing.
    Starting,
    /// Serving.
    Ready,
    /// Its connection was lost; restarting with backoff (calls fail fast meanwhile).
    Restarting,
    /// Failed to start.
    Failed,
    /// Stopped with the gateway.
    Stopped,
}

/// How long an idle upstream has to answer a health ping (at most the health interval).
const PING_DEADLINE: Duration = Duration::from_secs(5);

/// Restart backoff: first wait, and the longest.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(30));

/// One configured upstream: its spec, its shared connection (if any) and its cached lists.
pub struct Upstream {
    /// Position in the pool (and in the configuration).
    pub index: usize,
    /// As configured.
    pub spec: ServerSpec,
    conn: ArcSwapOption<Connection>,
    lists: ArcSwap<Lists>,
    last_error: parking_lot::Mutex<Option<String>>,
    opts: OpenOptions,
    /// Whether a start was attempted (lazy servers start on first need, once).
    started: tokio::sync::Mutex<bool>,
    state: parking_lot::Mutex<State>,
    restarts: AtomicU64,
    stopping: AtomicBool,
    /// Recent request latencies (an upstream in use is not pinged).
    latency: Arc<observe::Window>,
}

impl Connect for Upstream {
    fn connection(&self) -> Result<Arc<Connection>, Failure> {
        Upstream::connection(self)
    }
}

impl Upstream {
    /// Upstream `index` of the configuration, not started yet; `latency` is the window its
    /// layer stack records into.
    pub fn new(
        index: usize,
        spec: ServerSpec,
        opts: OpenOptions,
        latency: Arc<observe::Window>,
    ) -> Arc<Upstream> {
        let state = if spec.lazy {
            State::Dormant
        } else {
            State::Starting
        };
        Arc::new(Upstream {
            index,
            spec,
            conn: ArcSwapOption::empty(),
            lists: ArcSwap::from_pointee(Lists::default()),
            last_error: parking_lot::Mutex::new(None),
            opts,
            started: tokio::sync::Mutex::new(false),
            state: parking_lot::Mutex::new(state),
            restarts: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            latency,
        })
    }

    /// The shared connection, or why there is none.
    pub fn connection(&self) -> Result<Arc<Connection>, Failure> {
        match self.conn.load_full() {
            Some(c) if !c.is_closed() => Ok(c),
            _ => Err(Failure::unavailable(format!(
                "not connected: {}",
                self.last_error
                    .lock()
                    .clone()
                    .unwrap_or_else(|| "the upstream is not connected".into())
            ))),
        }
    }

    /// Whether each downstream session gets its own connection.
    pub fn per_session(&self) -> bool {
        self.spec.isolation == Isolation::PerSession
    }

    /// Open a private connection for one downstream session, declaring that client's
    /// capabilities; `owner` receives what no call claims.
    pub async fn open_private(
        &self,
        client_caps: &str,
        owner: Arc<dyn Caller>,
    ) -> Result<Arc<Connection>, Failure> {
        let mut opts = self.opts.clone();
        opts.client_caps = client_caps.to_string();
        opts.owner = Some(owner);
        Connection::open(&self.spec, opts).await
    }

    /// Its recent request latencies.
    pub fn latency(&self) -> &observe::Window {
        &self.latency
    }

    /// The cached lists.
    pub fn lists(&self) -> Arc<Lists> {
        self.lists.load_full()
    }

    /// Why the upstream is not connected, if it failed.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().clone()
    }

    /// Re-fetch some lists (after `list_changed`).
    pub async fn refresh(&self, kinds: &[ListKind]) -> Result<(), Failure> {
        let conn = self.connection()?;
        let mut next = (*self.lists()).clone();
        for kind in kinds {
            next.items
                .insert(*kind, Arc::new(lists::fetch(&conn, *kind).await?));
        }
        self.lists.store(Arc::new(next));
        Ok(())
    }

    /// Where it is in its life.
    pub fn state(&self) -> State {
        *self.state.lock()
    }

    /// How many times its connection was re-opened after being lost.
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    fn set_state(&self, state: State) {
        *self.state.lock() = state;
        let up = if state == State::Ready { 1.0 } else { 0.0 };
        metrics::gauge!(observe::UP, "server" => self.spec.name.to_string()).set(up);
    }

    /// Start the upstream if it has not been started yet; `true` if this call started it.
    pub async fn ensure_started(self: &Arc<Self>) -> bool {
        let mut started = self.started.lock().await;
        if *started {
            return false;
        }
        *started = true;
        tracing::info!(server = %self.spec.name, lazy = self.spec.lazy, "starting upstream");
        self.start().await;
        true
    }

    /// Whether it is lazy and not started yet.
    pub fn dormant(&self) -> bool {
        self.spec.lazy && self.started.try_lock().is_ok_and(|s| !*s)
    }

    async fn start(self: &Arc<Self>) {
        self.set_state(State::Starting);
        let name = &self.spec.name;
        let result = match Connection::open(&self.spec, self.opts.clone()).await {
            Ok(conn) => {
                let fetched = lists::fetch_all(&conn).await;
                self.conn.store(Some(conn.clone()));
                fetched.map(|l| (conn, l))
            }
            Err(e) => Err(e),
        };
        match result {
            Ok((conn, lists)) => {
                let init = conn.init();
                tracing::info!(
                    server = %name,
                    transport = self.spec.transport.kind(),
                    protocol = %init.protocol_version,
                    tools = lists.get(ListKind::Tools).len(),
                    prompts = lists.get(ListKind::Prompts).len(),
                    resources = lists.get(ListKind::Resources).len(),
                    "upstream ready"
                );
                self.lists.store(Arc::new(lists));
                *self.last_error.lock() = None;
                self.set_state(State::Ready);
                tokio::spawn(self.clone().supervise(conn));
            }
            Err(e) => {
                tracing::error!(server = %name, error = %e, "upstream failed to start; its tools are absent");
                *self.last_error.lock() = Some(e.to_string());
                self.set_state(State::Failed);
            }
        }
    }

    /// Watch the shared connection; when it is lost (the process exited, the stream closed),
    /// re-open it with exponential backoff. Its pending requests were already answered with an
    /// error when it closed; calls meanwhile fail fast; its tools stay listed.
    async fn supervise(self: Arc<Self>, mut conn: Arc<Connection>) {
        loop {
            self.watch(&conn).await;
            if self.stopping.load(Ordering::Acquire) {
                return;
            }
            self.set_state(State::Restarting);
            tracing::warn!(server = %self.spec.name, "upstream connection lost; restarting");
            let mut wait = BACKOFF.0;
            conn = loop {
                tokio::time::sleep(wait).await;
                if self.stopping.load(Ordering::Acquire) {
                    return;
                }
                self.restarts.fetch_add(1, Ordering::Relaxed);
                metrics::counter!(observe::RESTARTS, "server" => self.spec.name.to_string())
                    .increment(1);
                match Connection::open(&self.spec, self.opts.clone()).await {
                    Ok(c) => break c,
                    Err(e) => {
                        tracing::warn!(server = %self.spec.name, error = %e, retry_in = ?wait, "restart failed");
                        *self.last_error.lock() = Some(e.to_string());
                        wait = (wait * 2).min(BACKOFF.1);
                    }
                }
            };
            self.conn.store(Some(conn.clone()));
            *self.last_error.lock() = None;
            self.set_state(State::Ready);
            tracing::info!(server = %self.spec.name, "upstream restarted");
            // The gateway re-fetches the lists (they may differ after a restart) and tells sessions.
            let _ = self
                .opts
                .events
                .send(Event::ListChanged(self.spec.name.clone(), &ListKind::ALL));
        }
    }

    /// Wait for `conn` to end. Meanwhile, when the upstream has been idle for a health interval,
    /// ping it; one that does not answer in time is presumed hung and closed (the supervisor
    /// then restarts it).
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

    /// Stop it for good (its child gets stdin closed, SIGTERM, SIGKILL).
    pub async fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        if let Some(c) = self.conn.swap(None) {
            c.shutdown().await;
        }
        self.set_state(State::Stopped);
    }
}
