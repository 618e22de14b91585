//! Every configured upstream, started together; one failing does not block the others.

use super::{handshake, Connection, Event, ToolDef, UpstreamError};
use crate::config::{Config, ServerSpec};
use arc_swap::{ArcSwap, ArcSwapOption};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// One configured upstream: its spec, its live connection (if any) and its cached tools.
pub struct Upstream {
    /// As configured.
    pub spec: ServerSpec,
    conn: ArcSwapOption<Connection>,
    tools: ArcSwap<Vec<ToolDef>>,
    last_error: parking_lot::Mutex<Option<String>>,
    timeout: Duration,
}

impl Upstream {
    /// The live connection, or why there is none.
    pub fn connection(&self) -> Result<Arc<Connection>, UpstreamError> {
        match self.conn.load_full() {
            Some(c) if !c.is_closed() => Ok(c),
            _ => Err(UpstreamError::NotReady(
                self.last_error
                    .lock()
                    .clone()
                    .unwrap_or_else(|| "the upstream is not connected".into()),
            )),
        }
    }

    /// The cached tool list.
    pub fn tools(&self) -> Arc<Vec<ToolDef>> {
        self.tools.load_full()
    }

    /// Why the upstream is not connected, if it failed.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().clone()
    }

    /// Re-fetch the tool list (after `list_changed`).
    pub async fn refresh_tools(&self) -> Result<(), UpstreamError> {
        let conn = self.connection()?;
        let tools = handshake::list_tools(&conn).await?;
        self.tools.store(Arc::new(tools));
        Ok(())
    }

    async fn start(
        &self,
        http: reqwest::Client,
        startup: Duration,
        events: mpsc::UnboundedSender<Event>,
    ) {
        let name = &self.spec.name;
        let opened = Connection::open(&self.spec, http, startup, self.timeout, events).await;
        let result = match opened {
            Ok(conn) => {
                let listed = handshake::list_tools(&conn).await;
                self.conn.store(Some(conn.clone()));
                listed.map(|tools| (conn, tools))
            }
            Err(e) => Err(e),
        };
        match result {
            Ok((conn, tools)) => {
                let init = conn.init();
                tracing::info!(
                    server = %name,
                    transport = self.spec.transport.kind(),
                    protocol = %init.protocol_version,
                    tools = tools.len(),
                    "upstream ready"
                );
                self.tools.store(Arc::new(tools));
                *self.last_error.lock() = None;
            }
            Err(e) => {
                tracing::error!(server = %name, error = %e, "upstream failed to start; its tools are absent");
                *self.last_error.lock() = Some(e.to_string());
            }
        }
    }
}

/// All upstreams of a configuration.
pub struct Pool {
    upstreams: Vec<Arc<Upstream>>,
    http: reqwest::Client,
    events: mpsc::UnboundedSender<Event>,
    startup: Duration,
}

impl Pool {
    /// Build handles for every configured server (nothing is started yet).
    pub fn new(config: &Config) -> (Pool, mpsc::UnboundedReceiver<Event>) {
        let (events, rx) = mpsc::unbounded_channel();
        let upstreams = config
            .servers
            .iter()
            .map(|spec| {
                Arc::new(Upstream {
                    spec: spec.clone(),
                    conn: ArcSwapOption::empty(),
                    tools: ArcSwap::from_pointee(Vec::new()),
                    last_error: parking_lot::Mutex::new(None),
                    timeout: config.request_timeout(spec),
                })
            })
            .collect();
        let http = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .build()
            .expect("a default HTTP client builds");
        let pool = Pool {
            upstreams,
            http,
            events,
            startup: config.gateway.startup_timeout,
        };
        (pool, rx)
    }

    /// Start every upstream concurrently and wait until each is ready or has failed.
    pub async fn start_all(&self) {
        let starts = self
            .upstreams
            .iter()
            .map(|u| u.start(self.http.clone(), self.startup, self.events.clone()));
        futures::future::join_all(starts).await;
    }

    /// The upstreams, in configuration order.
    pub fn all(&self) -> &[Arc<Upstream>] {
        &self.upstreams
    }

    /// Look one up by name.
    pub fn by_name(&self, name: &str) -> Option<&Arc<Upstream>> {
        self.upstreams.iter().find(|u| &*u.spec.name == name)
    }

    /// Stop every upstream (children get stdin closed, SIGTERM, SIGKILL).
    pub async fn shutdown(&self) {
        let stops = self
            .upstreams
            .iter()
            .filter_map(|u| u.conn.swap(None))
            .map(|c| async move {
                c.shutdown().await;
            });
        futures::future::join_all(stops).await;
    }
}
