//! One configured upstream over its life: its spec, its shared connection, its cached lists and
//! where it is in its life; `life.rs` starts it, watches it and brings it back.

use super::lists::{self, ListKind, Lists};
use super::{Connect, Connection, OpenOptions, Tail};
use crate::call::{Caller, Failure};
use crate::config::{Isolation, ServerSpec};
use crate::observe;
use arc_swap::{ArcSwap, ArcSwapOption};
use futures::future::BoxFuture;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;
use tokio::time::Instant;

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
    /// Its connection was lost; restarting with backoff (calls wait for it, up to their deadline).
    Restarting,
    /// Failed to start; tried again with backoff.
    Failed,
    /// Stopped with the gateway.
    Stopped,
}

/// One configured upstream: its spec, its shared connection (if any) and its cached lists.
pub struct Upstream {
    /// Which upstream this is, unique in the process: a reload that replaces a server makes a new
    /// one under the same name, and what was kept for the old one (a client's own connection)
    /// is told apart by this.
    pub serial: u64,
    /// As configured.
    pub spec: ServerSpec,
    pub(super) conn: ArcSwapOption<Connection>,
    pub(super) lists: ArcSwap<Lists>,
    pub(super) last_error: parking_lot::Mutex<Option<String>>,
    pub(super) opts: OpenOptions,
    /// Whether a start was attempted (lazy servers start on first need, once).
    pub(super) started: tokio::sync::Mutex<bool>,
    state: parking_lot::Mutex<State>,
    /// When the next attempt to (re)start it is due, while it is down.
    pub(super) next_try: parking_lot::Mutex<Option<Instant>>,
    /// How long its first successful start took, from the first attempt.
    pub(super) ready_in: parking_lot::Mutex<Option<std::time::Duration>>,
    /// Woken on every change of state or connection.
    changed: Notify,
    pub(super) restarts: AtomicU64,
    pub(super) stopping: AtomicBool,
    /// Recent request latencies (an upstream in use is not pinged).
    pub(super) latency: Arc<observe::Window>,
}

impl Connect for Upstream {
    fn connection(&self) -> Result<Arc<Connection>, Failure> {
        Upstream::connection(self)
    }

    fn ready(&self, until: Instant) -> BoxFuture<'_, Result<Arc<Connection>, Failure>> {
        Box::pin(Upstream::ready(self, until))
    }
}

impl Upstream {
    /// An upstream of `spec`, not started yet; `latency` is the window its layer stack records
    /// into.
    pub fn new(
        spec: ServerSpec,
        opts: OpenOptions,
        latency: Arc<observe::Window>,
    ) -> Arc<Upstream> {
        let state = if spec.lazy {
            State::Dormant
        } else {
            State::Starting
        };
        static SERIAL: AtomicU64 = AtomicU64::new(0);
        Arc::new(Upstream {
            serial: SERIAL.fetch_add(1, Ordering::Relaxed),
            spec,
            conn: ArcSwapOption::empty(),
            lists: ArcSwap::from_pointee(Lists::default()),
            last_error: parking_lot::Mutex::new(None),
            opts,
            started: tokio::sync::Mutex::new(false),
            state: parking_lot::Mutex::new(state),
            next_try: parking_lot::Mutex::new(None),
            ready_in: parking_lot::Mutex::new(None),
            changed: Notify::new(),
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

    /// The shared connection; while it is being (re)started, wait for it until `until`. A call
    /// that was never sent does not fail for a restart it could have waited out.
    pub async fn ready(&self, until: Instant) -> Result<Arc<Connection>, Failure> {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let now = self.connection();
            // `Ready` with a closed connection: it just died, and the supervisor is on its way.
            let coming = matches!(
                self.state(),
                State::Starting | State::Restarting | State::Ready
            );
            if now.is_ok() || !coming || self.stopping.load(Ordering::Acquire) {
                return now;
            }
            if tokio::time::timeout_at(until, changed).await.is_err() {
                return self.connection();
            }
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
    pub fn latency(&self) -> &Arc<observe::Window> {
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

    /// The last lines its processes wrote to stderr.
    pub fn stderr(&self) -> &Tail {
        &self.opts.children.stderr
    }

    /// How long until the next attempt to (re)start it, while it is down.
    pub fn next_try_in(&self) -> Option<std::time::Duration> {
        self.next_try
            .lock()
            .map(|at| at.saturating_duration_since(Instant::now()))
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

    /// How long it took to become ready the first time (from its first attempt), once it has.
    pub fn ready_in(&self) -> Option<std::time::Duration> {
        *self.ready_in.lock()
    }

    /// How many times its connection was re-opened after being lost.
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    pub(super) fn set_state(&self, state: State) {
        *self.state.lock() = state;
        let up = if state == State::Ready { 1.0 } else { 0.0 };
        metrics::gauge!(observe::UP, "server" => self.spec.name.to_string()).set(up);
        self.changed.notify_waiters();
    }

    /// Whether it is lazy and not started yet.
    pub fn dormant(&self) -> bool {
        self.spec.lazy && self.started.try_lock().is_ok_and(|s| !*s)
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
