//! Downstream faces: how clients reach the gateway: streamable HTTP at `/mcp`, legacy HTTP+SSE at
//! `/sse` + `/messages`, and stdio.

mod channel;
pub mod guard;
mod http;
pub(crate) mod modern;
mod reply;
mod sse;
pub mod stdio;

use crate::gateway::Gateway;
use axum::routing::get;
use axum::Router;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

pub use http::SESSION_HEADER;
pub use modern::MODERN_VERSIONS;

/// The HTTP application, without a socket (tests drive it with `oneshot`).
pub fn app(gw: Arc<Gateway>) -> Router {
    Router::new()
        .route("/mcp", get(http::get).post(http::post).delete(http::delete))
        .route("/sse", get(sse::open))
        .route("/messages", axum::routing::post(sse::message))
        .merge(crate::admin::routes())
        .with_state(gw)
}

/// Serve until `shutdown` resolves.
pub async fn serve(
    gw: Arc<Gateway>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer address names a stateless (2026-07-28) client for per-client limits.
    let app = app(gw).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
