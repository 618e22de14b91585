//! Endpoints beside the MCP faces: a home page, liveness and readiness, upstream status,
//! metrics, and the routing explanations (`/analyze`, `/route`).

mod analyze;
mod home;
mod meaning;
mod page;
mod pins;
mod status;

pub use analyze::{routed, RouteInput};
pub use status::describe;

use crate::session::Sessions;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

/// The endpoints open to anyone who can reach the port: `/health` and `/ready`, and the admin
/// page's assets (which hold no data: [`page`]).
pub fn open_routes(sessions: Arc<Sessions>) -> Router {
    Router::new()
        .route("/health", get(status::health))
        .route("/ready", get(status::ready))
        .route("/admin", get(page::page))
        .route("/admin/app.js", get(page::script))
        .route("/admin/style.css", get(page::style))
        .with_state(sessions)
}

/// What `POST /admin/reload` runs: the server's reload, with what it did.
pub type Reload = Arc<
    dyn Fn() -> futures::future::BoxFuture<'static, Result<serde_json::Value, String>>
        + Send
        + Sync,
>;

/// The admin routes (an admin role is needed once authentication is on).
pub fn routes(sessions: Arc<Sessions>, reload: Reload) -> Router {
    Router::new()
        .route("/admin/reload", post(status::reload))
        .route("/admin/catalog", get(page::catalog))
        .route("/admin/recent", get(page::recent))
        .route("/", get(home::home))
        .route("/servers", get(status::servers))
        .route("/metrics", get(status::metrics))
        .route(
            "/analyze",
            get(analyze::analyze_get).post(analyze::analyze_post),
        )
        .route("/route", post(analyze::route))
        .route("/pins", get(pins::list))
        .route("/pins/approve", post(pins::approve))
        .layer(axum::Extension(reload))
        .with_state(sessions)
}
