//! The gateway core every face shares: upstream pool, merged catalog, sessions, and the methods.

mod dispatch;
mod events;
mod forward;
mod lifecycle;
mod routing;
pub mod tools;

use crate::catalog::{self, Catalog, Collision};
use crate::config::{Config, Expose};
use crate::router::Router;
use crate::session::{Session, Sessions};
use crate::upstream::Pool;
use arc_swap::ArcSwap;
use std::sync::Arc;
use std::time::Duration;

pub use lifecycle::negotiate_version;

/// Sessions idle this long are ended (their per-session upstreams stopped).
const SESSION_IDLE: Duration = Duration::from_secs(3600);

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
}

/// Everything a face needs to serve MCP.
pub struct Gateway {
    /// The configuration it runs.
    pub config: Config,
    /// The upstreams.
    pub pool: Pool,
    catalog: ArcSwap<Catalog>,
    router: ArcSwap<Router>,
    /// Live downstream sessions.
    pub sessions: Sessions,
    /// Resource subscriptions held upstream, per (server, original URI): how many sessions hold each.
    subscriptions: dashmap::DashMap<(usize, String), usize>,
}

impl Gateway {
    /// Start every upstream, build the catalog, and begin listening for upstream events.
    pub async fn start(config: Config) -> Result<Arc<Gateway>, StartError> {
        crate::observe::prometheus();
        let (pool, events) = Pool::new(&config);
        pool.start_all().await;
        let gw = Arc::new(Gateway {
            config,
            pool,
            catalog: ArcSwap::from_pointee(Catalog::default()),
            router: ArcSwap::from_pointee(Router::build(&config_placeholder(), None)),
            sessions: Sessions::default(),
            subscriptions: dashmap::DashMap::new(),
        });
        let fatal: Vec<String> = gw
            .rebuild_catalog()
            .iter()
            .filter(|c| c.unprefixed)
            .map(|c| {
                format!(
                    "servers {:?} and {:?} both expose {:?} with prefix = false; give one of them a prefix",
                    c.kept_by, c.renamed_server, c.name
                )
            })
            .collect();
        if !fatal.is_empty() {
            gw.shutdown().await;
            return Err(StartError::Collision {
                source_file: gw.config.source.clone(),
                collisions: fatal.join("; "),
            });
        }
        tokio::spawn(events::watch(Arc::downgrade(&gw), events));
        tokio::spawn(reap_idle(Arc::downgrade(&gw)));
        Ok(gw)
    }

    /// The current catalog.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.load_full()
    }

    /// The current router.
    pub fn router(&self) -> Arc<Router> {
        self.router.load_full()
    }

    /// Rebuild the catalog (and the router, whose catalog words follow it) from the upstreams'
    /// cached lists; returns (and logs) collisions.
    pub fn rebuild_catalog(&self) -> Vec<Collision> {
        let lists: Vec<_> = self.pool.all().iter().map(|u| u.lists()).collect();
        let ups: Vec<catalog::Upstream<'_>> = self
            .pool
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
        let g = &self.config.gateway;
        let lean = self.config.router.expose == Expose::Search;
        let own = tools::definitions(lean);
        let (catalog, collisions) = Catalog::build(&ups, &g.separator, g.max_name_len, &own, lean);
        for c in &collisions {
            tracing::warn!("name collision: {c}");
        }
        self.router
            .store(Arc::new(Router::build(&self.config, Some(&catalog))));
        self.catalog.store(Arc::new(catalog));
        collisions
    }

    /// End a session: forget it, drop its upstream subscriptions, stop its private upstreams.
    pub async fn end_session(&self, id: &str) -> bool {
        let Some(session) = self.sessions.remove(id) else {
            return false;
        };
        let subs: Vec<String> = session.subscriptions.lock().drain().collect();
        for uri in subs {
            self.unsubscribe_upstream(&uri).await;
        }
        let private: Vec<_> = session.private.iter().map(|e| e.value().clone()).collect();
        session.private.clear();
        futures::future::join_all(private.iter().map(|c| c.shutdown())).await;
        // Stateless (2026-07-28) requests end a throw-away session each: not worth an info line.
        if private.is_empty() {
            tracing::debug!(session = %id, "session ended");
        } else {
            tracing::info!(session = %id, private = private.len(), "session ended");
        }
        true
    }

    /// Stop every session's private upstreams, then every shared upstream.
    pub async fn shutdown(&self) {
        for s in self.sessions.all() {
            self.end_session(&s.id).await;
        }
        self.pool.shutdown().await;
    }

    /// A new session, registered.
    pub fn open_session(&self) -> Arc<Session> {
        let s = Arc::new(Session::new());
        self.sessions.insert(s.clone());
        s
    }
}

/// An empty configuration, for the router that exists before the first catalog.
fn config_placeholder() -> Config {
    Config {
        source: String::new(),
        gateway: Default::default(),
        servers: Vec::new(),
        router: Default::default(),
    }
}

/// End sessions nobody has used for [`SESSION_IDLE`], so per-session upstreams do not pile up.
async fn reap_idle(gw: std::sync::Weak<Gateway>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        let Some(gw) = gw.upgrade() else { return };
        for s in gw.sessions.all() {
            if s.idle() > SESSION_IDLE && !s.has_stream() {
                tracing::info!(session = %s.id, "ending idle session");
                gw.end_session(&s.id).await;
            }
        }
    }
}
