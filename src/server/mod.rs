//! The server assembly: the MCP faces and the admin endpoints mounted side by side on one HTTP
//! application, each behind authentication (`/health` and `/ready` stay open), served on a
//! listener whose connections are bounded ([`listen`]).

use crate::auth::{self, Auth};

mod listen;
pub mod reload;

use crate::downstream::{self, Faces};
use crate::gateway::Gateway;
use crate::session::Sessions;
use axum::Router;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// One gateway, with its sessions and faces: what `serve` and `stdio` run.
pub struct Server {
    /// The faces (and through them, the sessions and the gateway).
    pub faces: Arc<Faces>,
    /// Who may connect.
    pub auth: auth::Current,
    /// What reloads its configuration.
    pub reloader: Arc<reload::Reloader>,
}

impl Server {
    /// The faces over a started gateway; fails when authentication cannot be set up (an
    /// unreadable JWKS file).
    pub fn new(gw: Arc<Gateway>) -> Result<Server, String> {
        let auth = Auth::new(&gw.config().auth, gw.audit.clone())?;
        let auth: auth::Current = Arc::new(arc_swap::ArcSwap::from_pointee(auth));
        Ok(Server {
            reloader: Arc::new(reload::Reloader::new(gw.clone(), auth.clone())),
            faces: Faces::new(Sessions::new(gw)),
            auth,
        })
    }

    /// The gateway.
    pub fn gateway(&self) -> &Arc<Gateway> {
        self.faces.gateway()
    }

    /// The HTTP application, without a socket (tests drive it with `oneshot`).
    pub fn app(&self) -> Router {
        use axum::middleware::from_fn_with_state;
        let sessions = &self.faces.sessions;
        let faces = downstream::routes(self.faces.clone())
            .route_layer(from_fn_with_state(self.auth.clone(), auth::faces))
            .route_layer(axum::middleware::from_fn(crate::observe::trace::middleware));
        let reloader = self.reloader.clone();
        let reload: crate::admin::Reload = Arc::new(move || {
            let r = reloader.clone();
            Box::pin(async move {
                r.reload("POST /admin/reload")
                    .await
                    .map(|a| serde_json::to_value(a).unwrap_or_default())
            })
        });
        let admin = crate::admin::routes(sessions.clone(), reload)
            .route_layer(from_fn_with_state(self.auth.clone(), auth::admin));
        faces
            .merge(admin)
            .merge(crate::admin::open_routes(sessions.clone()))
            .merge(auth::metadata_routes(self.auth.clone()))
    }

    /// Serve the application on `listener` until `shutdown` resolves; then stop accepting,
    /// close the sessions' streams, and give the calls in flight `gateway.drain_timeout` to
    /// finish (the caller then ends the sessions and stops the upstreams: [`Server::shutdown`]).
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let config = self.gateway().config();
        let g = &config.gateway;
        let limits = listen::Limits {
            max_connections: g.max_connections,
            header_read_timeout: g.header_read_timeout,
            grace: g.drain_timeout,
        };
        let (sessions, gw) = (self.faces.sessions.clone(), self.gateway().clone());
        let stopping = async move {
            shutdown.await;
            let grace = gw.config().gateway.drain_timeout;
            tracing::info!(
                ?grace,
                "stopping: no new connections; calls in flight may finish"
            );
            tokio::spawn(async move { sessions.wind_down(grace).await });
        };
        listen::serve(self.app(), listener, limits, stopping).await
    }

    /// End every session, then stop every upstream.
    pub async fn shutdown(&self) {
        self.faces.sessions.shutdown().await;
    }
}
