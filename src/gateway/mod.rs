//! The gateway core every face shares: upstream pool, merged catalog, sessions, and the methods.

mod methods;

use crate::catalog::{Catalog, Collision, Source};
use crate::config::Config;
use crate::session::Sessions;
use crate::upstream::{Event, Pool};
use arc_swap::ArcSwap;
use std::sync::Arc;
use tokio::sync::mpsc;

pub use methods::negotiate_version;

/// Why the gateway refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Two servers with `prefix = false` offer the same tool name.
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
    /// Live downstream sessions.
    pub sessions: Sessions,
}

impl Gateway {
    /// Start every upstream, build the catalog, and begin listening for upstream events.
    pub async fn start(config: Config) -> Result<Arc<Gateway>, StartError> {
        let (pool, events) = Pool::new(&config);
        pool.start_all().await;
        let gw = Arc::new(Gateway {
            config,
            pool,
            catalog: ArcSwap::from_pointee(Catalog::default()),
            sessions: Sessions::default(),
        });
        let collisions = gw.rebuild_catalog();
        let fatal: Vec<String> = collisions
            .iter()
            .filter(|c| c.unprefixed)
            .map(|c| {
                format!(
                    "servers {:?} and {:?} both expose the tool {:?} with prefix = false; give one of them a prefix",
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
        tokio::spawn(watch_upstreams(Arc::downgrade(&gw), events));
        Ok(gw)
    }

    /// The current catalog.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.load_full()
    }

    /// Rebuild the catalog from the upstreams' cached lists; returns (and logs) collisions.
    pub fn rebuild_catalog(&self) -> Vec<Collision> {
        let lists: Vec<_> = self.pool.all().iter().map(|u| u.tools()).collect();
        let sources: Vec<Source<'_>> = self
            .pool
            .all()
            .iter()
            .zip(&lists)
            .map(|(u, tools)| Source {
                server: &u.spec.name,
                prefix: u.spec.prefix,
                tools,
            })
            .collect();
        let g = &self.config.gateway;
        let (catalog, collisions) = Catalog::build(&sources, &g.separator, g.max_name_len);
        for c in &collisions {
            tracing::warn!("name collision: {c}");
        }
        self.catalog.store(Arc::new(catalog));
        collisions
    }

    /// Stop every upstream.
    pub async fn shutdown(&self) {
        self.pool.shutdown().await;
    }
}

/// React to what upstreams report: a changed tool list is re-fetched and the catalog rebuilt.
async fn watch_upstreams(gw: std::sync::Weak<Gateway>, mut events: mpsc::UnboundedReceiver<Event>) {
    while let Some(ev) = events.recv().await {
        let Some(gw) = gw.upgrade() else { return };
        match ev {
            Event::ToolsChanged(server) => {
                let Some(up) = gw.pool.by_name(&server) else {
                    continue;
                };
                if up.connection().is_err() {
                    continue; // closed meanwhile (shutting down, or it died): nothing to refresh
                }
                match up.refresh_tools().await {
                    Ok(()) => {
                        gw.rebuild_catalog();
                        let note =
                            crate::jsonrpc::notification("notifications/tools/list_changed", None);
                        for s in gw.sessions.all() {
                            s.push(note.clone());
                        }
                        tracing::info!(server = %server, "tool list changed; catalog rebuilt");
                    }
                    Err(e) => tracing::warn!(server = %server, error = %e, "cannot re-fetch tools"),
                }
            }
        }
    }
}
