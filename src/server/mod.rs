//! The server assembly: the MCP faces and the admin endpoints mounted side by side on one HTTP
//! application, each behind authentication (`/health` and `/ready` stay open), served on a
//! listener whose connections are bounded ([`listen`]).

use crate::auth::{self, Auth};

mod listen;

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
    pub auth: Arc<Auth>,
}

impl Server {
    /// The faces over a started gateway; fails when authentication cannot be set up (an
    /// unreadable JWKS file).
    pub fn new(gw: Arc<Gateway>) -> Result<Server, String> {
        let auth = Arc::new(Auth::new(&gw.config.auth, gw.audit.clone())?);
        Ok(Server {
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
            .route_layer(from_fn_with_state(self.auth.clone(), auth::faces));
        let admin = crate::admin::routes(sessions.clone())
            .route_layer(from_fn_with_state(self.auth.clone(), auth::admin));
        faces
            .merge(admin)
            .merge(crate::admin::open_routes(sessions.clone()))
            .merge(auth::metadata_routes(self.auth.clone()))
    }

    /// Serve the application on `listener` until `shutdown` resolves.
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let g = &self.gateway().config.gateway;
        let limits = listen::Limits {
            max_connections: g.max_connections,
            header_read_timeout: g.header_read_timeout,
        };
        listen::serve(self.app(), listener, limits, shutdown).await
    }

    /// End every session, then stop every upstream.
    pub async fn shutdown(&self) {
        self.faces.sessions.shutdown().await;
    }
}
