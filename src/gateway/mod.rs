//! The gateway core every face shares: the upstreams (each with its layer stack), the merged
//! catalog and the router built from it, and what it answers for a client. Where each part lives:
//!
//! - `mod.rs`: the gateway's life (start, catalog rebuilds, waking lazy upstreams, releasing a
//!   client, shutdown); `pool.rs`: the upstream handles.
//! - `dispatch.rs`: each client message, by method; `resolve.rs`: exposed names and URIs back to
//!   (upstream, original); `forward.rs`: a request through an upstream's stack, and `relay.rs`:
//!   what the upstream sends back meanwhile.
//! - `access.rs`: policy on every path that lists or reaches a name, and the audit line of
//!   each decision.
//! - `lifecycle.rs`: `initialize` and `server/discover`; `subscriptions.rs`: upstream
//!   subscriptions shared by clients; `tools.rs`: the gateway's own tools; `events.rs`: what
//!   upstreams say outside any call, turned into [`Notice`]s for clients.

mod access;
mod client;
mod dispatch;
mod events;
mod forward;
mod lifecycle;
mod pinning;
mod pool;
mod private;
pub mod recent;
mod relay;
pub mod reload;
mod resolve;
mod subscriptions;
pub mod tools;
mod views;

pub use client::{random_token, Accepts, Client, Negotiated};
pub use events::Notice;
pub use pool::{Handle, Pool};
pub use tools::Meant;
pub use views::{View, Views};

use crate::catalog::{self, Catalog, Collision};
use crate::config::{Config, Expose};
use crate::policy::audit::Audit;
use crate::policy::Policy;
use crate::router::Router;
use crate::upstream::ListKind;
use arc_swap::ArcSwap;
use std::sync::Arc;
use tokio::sync::broadcast;

/// How many notices may wait for the session layer before the oldest are dropped.
const NOTICES: usize = 1024;

/// Where the messages tied to one request go.
pub type Related = tokio::sync::mpsc::Sender<bytes::Bytes>;

/// A request's queue of related messages (the POST's event stream), and its receiving end,
/// holding `gateway.max_queued_messages`: when full, progress and log notifications are dropped
/// (and counted), a server-to-client request waits for room, and the answer itself never goes
/// through it.
pub fn related(capacity: usize) -> (Related, tokio::sync::mpsc::Receiver<bytes::Bytes>) {
    tokio::sync::mpsc::channel(capacity)
}

/// Why the gateway refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Two servers with `prefix = false` offer the same name.
    #[error("{source_file}: {collisions}")]
    Collision {
        /// The config file.
        source_file: String,
        /// Every unprefixed collision, described.
        collisions: String,
    },
    /// The pinned tool definitions cannot be read.
    #[error("{0}")]
    Pins(String),
    /// The `[router.semantic]` model cannot be loaded.
    #[error("{0}")]
    Semantic(String),
    /// The audit log cannot be opened.
    #[error("audit.path: cannot open {path}: {error}")]
    Audit {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
}

/// The collisions a configuration cannot run with (two `prefix = false` servers offering one
/// name), described.
fn fatal(collisions: &[Collision]) -> Vec<String> {
    collisions
        .iter()
        .filter(|c| c.unprefixed)
        .map(|c| {
            format!(
                "servers {:?} and {:?} both expose {:?} with prefix = false; give one of them a prefix",
                c.kept_by, c.renamed_server, c.name
            )
        })
        .collect()
}

/// Everything a face needs to serve MCP.
pub struct Gateway {
    /// What the running configuration serves: the configuration itself, the upstreams, the
    /// policy and the views built over them, replaced together (a catalog rebuild, a reload).
    views: ArcSwap<Views>,
    /// Serializes rebuilding the views (upstream events, approvals and reloads all rebuild).
    rebuilding: parking_lot::Mutex<()>,
    subscriptions: subscriptions::Subscriptions,
    notices: broadcast::Sender<Notice>,
    /// Where decisions and calls are recorded (when `[audit]` is configured).
    pub audit: Arc<Audit>,
    /// The pinned tool definitions.
    pub pins: crate::pins::Pins,
    /// The sentence-embedding model beside the lexical scorer (`[router.semantic]`; read at
    /// start).
    pub semantic: Option<Arc<crate::router::semantic::Semantic>>,
    /// In a cluster, wakes the task that gives the pins' changes to the store and reads the
    /// store's back.
    pins_sync: Arc<tokio::sync::Notify>,
    /// Screening findings already logged (each is logged once).
    flagged: parking_lot::Mutex<std::collections::HashSet<String>>,
    /// The configuration's load status (`/servers`' `config`).
    pub loaded: reload::Status,
    /// The last requests answered (the admin page's list).
    pub recent: recent::Recent,
}

impl Gateway {
    /// Start every upstream, build the catalog, and begin listening for upstream events.
    pub async fn start(config: Config) -> Result<Arc<Gateway>, StartError> {
        Self::start_watched(config, |_| ()).await
    }

    /// [`Gateway::start`], showing `progress` the pool every 100 ms while the upstreams start
    /// (a terminal's progress line).
    pub async fn start_watched(
        config: Config,
        mut progress: impl FnMut(&Pool) + Send,
    ) -> Result<Arc<Gateway>, StartError> {
        crate::observe::prometheus();
        let audit = Audit::open(&config.audit).map_err(|error| StartError::Audit {
            path: config
                .audit
                .path
                .as_ref()
                .map_or(String::new(), |p| p.display().to_string()),
            error,
        })?;
        let policy = Policy::new(config.policy.clone());
        let pins = crate::pins::Pins::in_dir(&config.state_dir()).map_err(StartError::Pins)?;
        if crate::cluster::store().is_some() {
            pins.record_changes(); // the first sight of each server too
        }
        let semantic = match config.router.semantic.clone() {
            Some(s) => {
                let state = config.state_dir();
                let loaded = tokio::task::spawn_blocking(move || {
                    crate::router::semantic::Semantic::load(&s, &state)
                })
                .await
                .map_err(|e| StartError::Semantic(e.to_string()))?;
                Some(
                    loaded
                        .map_err(|e| StartError::Semantic(format!("router.semantic.model: {e}")))?,
                )
            }
            None => None,
        };
        let (pool, events) = Pool::new(&config);
        {
            let started = pool.start_all();
            tokio::pin!(started);
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
            loop {
                tokio::select! {
                    _ = &mut started => break,
                    _ = tick.tick() => progress(&pool),
                }
            }
        }
        let (config, pool) = (Arc::new(config), Arc::new(pool));
        let empty = Views::empty(config.clone(), pool.clone(), Arc::new(policy));
        let gw = Arc::new(Gateway {
            views: ArcSwap::from_pointee(empty),
            rebuilding: Default::default(),
            subscriptions: Default::default(),
            notices: broadcast::channel(NOTICES).0,
            audit: Arc::new(audit),
            pins,
            semantic,
            pins_sync: Default::default(),
            flagged: Default::default(),
            loaded: reload::Status::new(),
            recent: Default::default(),
        });
        let fatal = fatal(&gw.rebuild_catalog());
        if !fatal.is_empty() {
            gw.shutdown().await;
            return Err(StartError::Collision {
                source_file: gw.config().source.clone(),
                collisions: fatal.join("; "),
            });
        }
        tokio::spawn(events::watch(Arc::downgrade(&gw), events));
        pinning::watch(&gw);
        pinning::share(&gw);
        Ok(gw)
    }

    /// The current aggregate catalog.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.views.load().whole.catalog.clone()
    }

    /// The current aggregate's router.
    pub fn router(&self) -> Arc<Router> {
        self.views.load().whole.router.clone()
    }

    /// The configuration it runs now.
    pub fn config(&self) -> Arc<Config> {
        self.views.load().config.clone()
    }

    /// The upstreams of the configuration it runs now.
    pub fn pool(&self) -> Arc<Pool> {
        self.views.load().pool.clone()
    }

    /// Who may see and call what, now.
    pub fn policy(&self) -> Arc<Policy> {
        self.views.load().policy.clone()
    }

    /// Each endpoint's row of `/servers` ([`Views::report`]).
    pub fn endpoints(&self) -> Vec<serde_json::Value> {
        self.views.load().report()
    }

    /// The current view of endpoint `name` (`None`: the aggregate), if it is configured.
    pub fn view(&self, name: Option<&str>) -> Option<Arc<View>> {
        self.views.load().of(name).cloned()
    }

    /// The endpoint a face serves under `name` (`None`: the plain aggregate): 404-class when no
    /// endpoint has that name, or the aggregate is disabled (`gateway.aggregate = false`).
    pub fn endpoint(&self, name: Option<&str>) -> Result<Option<Arc<str>>, crate::call::Failure> {
        use crate::call::{Failure, Kind};
        let config = self.config();
        let known = || {
            let names: Vec<&str> = config.endpoints.iter().map(|e| &*e.name).collect();
            match names.is_empty() {
                true => "none is configured".to_string(),
                false => format!("configured: {}", names.join(", ")),
            }
        };
        match name {
            None if config.gateway.aggregate => Ok(None),
            None => Err(Failure::new(
                Kind::UnknownEndpoint,
                format!("the aggregate endpoint is disabled (gateway.aggregate = false); use a named endpoint ({})", known()),
            )),
            Some(n) => match config.endpoint(n) {
                Some(e) => Ok(Some(e.name.clone())),
                None => Err(Failure::new(
                    Kind::UnknownEndpoint,
                    format!("no endpoint is named {n:?} ({})", known()),
                )
                .with("endpoint", n)),
            },
        }
    }

    /// The current view of `client`'s endpoint (nothing, when it is no longer configured).
    pub fn view_of(&self, client: &Client) -> Arc<View> {
        let views = self.views.load();
        views
            .of(client.endpoint.as_deref())
            .unwrap_or(&views.closed)
            .clone()
    }

    /// What the gateway has to tell clients outside their requests (list changes, resource
    /// updates, shared servers' log lines): the session layer delivers these.
    pub fn notices(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }

    fn tell(&self, notice: Notice) {
        let _ = self.notices.send(notice); // nobody listening: no client to tell
    }

    /// Whether `tools/list` shows only the gateway's search tools (`[router] expose = "search"`).
    pub fn lean(&self) -> bool {
        self.config().router.expose == Expose::Search
    }

    /// Rebuild the catalog (and the router, whose catalog words follow it) from the upstreams'
    /// cached lists; returns (and logs) collisions.
    pub fn rebuild_catalog(&self) -> Vec<Collision> {
        let _one_at_a_time = self.rebuilding.lock();
        let now = self.views.load_full();
        let (views, collisions) = self.build(&now.config, &now.pool, &now.policy);
        if let Some(s) = &self.semantic {
            let whole = &views.whole;
            s.refresh(crate::router::semantic::Texts::of(
                &whole.catalog,
                &whole.router,
            ));
        }
        self.views.store(Arc::new(views));
        collisions
    }

    /// Every view of `config` over `pool`, from the upstreams' cached lists (held tools left
    /// out), and the collisions found (logged).
    fn build(
        &self,
        config: &Arc<Config>,
        pool: &Arc<Pool>,
        policy: &Arc<Policy>,
    ) -> (Views, Vec<Collision>) {
        let (lists, held) = self.admitted_lists(pool);
        let ups: Vec<catalog::Upstream<'_>> = pool
            .all()
            .iter()
            .zip(&lists)
            .map(|(u, lists)| catalog::Upstream {
                server: &u.spec.name,
                prefix: u.spec.prefix,
                lists,
                offers_resources: u.connection().is_ok_and(|c| c.init().offers.resources),
            })
            .collect();
        let g = &config.gateway;
        let lean = config.router.expose == Expose::Search;
        let own = tools::definitions(lean);
        let (catalog, collisions) = Catalog::build(&ups, &g.separator, g.max_name_len, &own, lean);
        for c in &collisions {
            tracing::warn!("name collision: {c}");
        }
        let router = Router::build(config, Some(&catalog));
        let whole = Arc::new(catalog);
        let named = config
            .endpoints
            .iter()
            .map(|e| {
                let lean = e.expose == Expose::Search;
                let slice = whole.slice(&ups, e, &tools::definitions(lean), lean);
                let router = Router::build_for(config, Some(&slice), Some(e));
                Arc::new(View::slice(e, &whole, slice, router, pool))
            })
            .collect();
        let mut views = Views::empty(config.clone(), pool.clone(), policy.clone());
        views.whole = Arc::new(View::whole(whole, Arc::new(router), lean, pool));
        views.named = named;
        views.held = held;
        (views, collisions)
    }

    /// Start a lazy upstream, then rebuild the catalog and tell every client.
    pub async fn wake(&self, up: &Handle) {
        if up.upstream.ensure_started().await {
            self.rebuild_catalog();
            for kind in [ListKind::Tools, ListKind::Prompts, ListKind::Resources] {
                self.tell(Notice::ListChanged(kind));
            }
        }
    }

    /// A client is gone: drop its upstream subscriptions, stop its private upstream connections.
    pub async fn release(&self, client: &Client) {
        let subs: Vec<String> = client.subscriptions.lock().drain().collect();
        for uri in subs {
            self.unsubscribe_upstream(&uri).await;
        }
        let private = client.take_private();
        for up in self.pool().all() {
            up.per_session.released(&client.id);
        }
        client.close_stream();
        futures::future::join_all(private.iter().map(|c| c.shutdown())).await;
        // Stateless (2026-07-28) requests end a throw-away client each: not worth an info line.
        if private.is_empty() {
            tracing::debug!(client = %client.id, "client released");
        } else {
            tracing::info!(client = %client.id, private = private.len(), "client released");
        }
    }

    /// Stop every upstream (release the clients first).
    pub async fn shutdown(&self) {
        self.pool().shutdown().await;
    }
}
