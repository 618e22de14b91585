//! Sessions: the clients the faces know by an id (`Mcp-Session-Id`, the legacy SSE `sessionId`,
//! a stdio face, a stateless request while it runs), on top of the gateway's [`Client`]s. Opens,
//! finds (touching them), ends and expires them, and delivers the gateway's [`Notice`]s to them.
//! In a cluster, [`shared`] keeps their records in the store and finds where one is served.

mod shared;

pub use shared::{Found, Owner};

use crate::call::{Failure, Identity, Kind};
use crate::gateway::{Client, Gateway, Notice};
use dashmap::DashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

/// How often idle sessions are looked for, at most.
const SWEEP: Duration = Duration::from_secs(60);

/// One session: its client, and when it was last used.
struct Session {
    client: Arc<Client>,
    last_seen: parking_lot::Mutex<Instant>,
    /// In a cluster: whether its record is in the store, and when its TTL was last refreshed.
    shared: Option<parking_lot::Mutex<Instant>>,
}

/// Every live session, and the gateway they reach.
pub struct Sessions {
    gw: Arc<Gateway>,
    map: DashMap<Arc<str>, Session>,
    /// Serializes serving sessions other replicas opened (taking one over, adopting one), so
    /// that two requests of one session do not both do it.
    adopting: tokio::sync::Mutex<()>,
}

impl Sessions {
    /// The sessions of `gw` (none yet); starts delivering its notices and expiring idle ones.
    pub fn new(gw: Arc<Gateway>) -> Arc<Sessions> {
        let sessions = Arc::new(Sessions {
            map: DashMap::new(),
            gw: gw.clone(),
            adopting: tokio::sync::Mutex::new(()),
        });
        tokio::spawn(deliver(Arc::downgrade(&sessions), gw.notices()));
        tokio::spawn(expire(Arc::downgrade(&sessions)));
        if let Some(store) = crate::cluster::store() {
            // Another replica ended a session (DELETE): so does this one's copy.
            let weak = Arc::downgrade(&sessions);
            let store: &'static crate::cluster::Store = store.as_ref();
            store.on_session_end(move |id| {
                if let Some(s) = weak.upgrade() {
                    tokio::spawn(async move { s.end(&id).await });
                }
            });
        }
        sessions
    }

    /// The gateway.
    pub fn gateway(&self) -> &Arc<Gateway> {
        &self.gw
    }

    /// Register a new client of `identity`, come in through `face` at `endpoint` (`None`: the
    /// aggregate).
    pub async fn open(
        &self,
        identity: Arc<Identity>,
        face: &'static str,
        endpoint: Option<Arc<str>>,
    ) -> Result<Arc<Client>, Failure> {
        let client = Arc::new(Client::for_caller(identity, face).at(endpoint));
        self.insert(client.clone()).await?;
        Ok(client)
    }

    /// Register `client` (made by a face, initialized or not). At `gateway.max_sessions`, the
    /// longest-idle session without an open stream or a request in flight is ended to make room;
    /// when every session is busy, the new one is refused.
    pub async fn insert(&self, client: Arc<Client>) -> Result<(), Failure> {
        let max = self.gw.config().gateway.max_sessions;
        if self.map.len() >= max {
            let Some(oldest) = self.idlest() else {
                return Err(Failure::new(
                    Kind::SessionLimit,
                    format!("the gateway already has {} sessions, all in use (gateway.max_sessions); retry shortly", max),
                ));
            };
            tracing::info!(session = %oldest, max, "ending the longest-idle session to make room (gateway.max_sessions)");
            self.end(&oldest).await;
        }
        let session = Session {
            client: client.clone(),
            last_seen: parking_lot::Mutex::new(Instant::now()),
            shared: None,
        };
        self.map.insert(client.id.clone(), session);
        metrics::gauge!(crate::observe::SESSIONS).set(self.map.len() as f64);
        Ok(())
    }

    /// The session unused longest that holds no stream and has no request in flight.
    fn idlest(&self) -> Option<Arc<str>> {
        self.map
            .iter()
            .filter(|s| !s.client.has_stream() && !s.client.busy())
            .min_by_key(|s| *s.last_seen.lock())
            .map(|s| s.key().clone())
    }

    /// The session `id` names, marked as used; `404`-class failure when unknown or ended, or
    /// when it belongs to another identity than `caller` (told apart from an unknown one by
    /// nothing but the log).
    pub fn find(&self, id: &str, caller: &Identity) -> Result<Arc<Client>, Failure> {
        match self.map.get(id) {
            Some(s) if !s.client.identity.same_as(caller) => {
                tracing::warn!(session = id, owner = %s.client.identity.subject, caller = %caller.subject, "a session was named by another identity than its own; refused");
                Err(unknown_session(id))
            }
            Some(s) => {
                *s.last_seen.lock() = Instant::now();
                if let (Some(refreshed), Some(store)) = (&s.shared, crate::cluster::store()) {
                    self.refresh(store, id, refreshed);
                }
                Ok(s.client.clone())
            }
            None => Err(unknown_session(id)),
        }
    }

    /// End a session here: forget it, then release its client (subscriptions, private
    /// upstreams). A shared session's record stays: its TTL ends it, or [`Sessions::end_everywhere`].
    pub async fn end(&self, id: &str) -> bool {
        let Some((_, session)) = self.map.remove(id) else {
            return false;
        };
        metrics::gauge!(crate::observe::SESSIONS).set(self.map.len() as f64);
        self.gw.release(&session.client).await;
        true
    }

    /// How many sessions are live.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn clients(&self) -> Vec<Arc<Client>> {
        self.map.iter().map(|e| e.client.clone()).collect()
    }

    /// `gateway.session_idle_timeout`, as configured now.
    fn idle(&self) -> Duration {
        self.gw.config().gateway.session_idle_timeout
    }

    /// The gateway is stopping: close every open stream (a streamable HTTP GET stream at once,
    /// since answers travel on their POSTs; a legacy SSE stream, which carries its answers, once
    /// nothing of its session is in flight), until all are closed or `grace` has passed.
    pub async fn wind_down(&self, grace: Duration) {
        let until = Instant::now() + grace;
        loop {
            let open: Vec<Arc<Client>> = self
                .clients()
                .into_iter()
                .filter(|c| c.has_stream())
                .collect();
            for c in &open {
                if c.face != "sse" || !c.busy() {
                    c.close_stream();
                }
            }
            if open.iter().all(|c| !c.has_stream()) || Instant::now() >= until {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// End every session, then stop every upstream.
    pub async fn shutdown(&self) {
        let ids: Vec<Arc<str>> = self.map.iter().map(|e| e.key().clone()).collect();
        for id in ids {
            self.end(&id).await;
        }
        self.gw.shutdown().await;
    }
}

/// Deliver the gateway's notices to the sessions they concern, for as long as both live.
async fn deliver(sessions: Weak<Sessions>, mut notices: tokio::sync::broadcast::Receiver<Notice>) {
    loop {
        let notice = match notices.recv().await {
            Ok(n) => n,
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "sessions fell behind the gateway's notices; some were dropped"
                );
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        let Some(sessions) = sessions.upgrade() else {
            return;
        };
        let message = notice.message();
        for client in sessions.clients() {
            // A client whose stream is full is not reading it: the notice is dropped, counted.
            if notice.concerns(&client) && !client.push(message.clone()) && client.has_stream() {
                metrics::counter!(crate::observe::DROPPED).increment(1);
            }
        }
    }
}

/// End sessions nobody has used for `gateway.session_idle_timeout` and that hold no open stream
/// and no request in flight, so per-session upstreams do not pile up.
async fn expire(sessions: Weak<Sessions>) {
    let every = match sessions.upgrade() {
        Some(s) => (s.idle() / 4).clamp(Duration::from_millis(100), SWEEP),
        None => return,
    };
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let Some(sessions) = sessions.upgrade() else {
            return;
        };
        let idle: Vec<Arc<str>> = sessions
            .map
            .iter()
            .filter(|s| {
                s.last_seen.lock().elapsed() > sessions.idle()
                    && !s.client.has_stream()
                    && !s.client.busy()
            })
            .map(|s| s.key().clone())
            .collect();
        for id in idle {
            tracing::info!(session = %id, "ending idle session");
            sessions.end(&id).await;
        }
    }
}

/// The refusal of a session id nobody may use here (unknown, ended, another identity's or
/// another endpoint's: the client cannot tell these apart).
pub fn unknown_session(id: &str) -> Failure {
    Failure::new(
        Kind::UnknownSession,
        format!("unknown or ended session {id:?}: initialize a new session"),
    )
}
