//! Endpoints beside the MCP faces: liveness and readiness, upstream status, metrics, and the
//! routing explanations.

mod routing;
mod status;

use crate::gateway::Gateway;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

/// The admin routes.
pub fn routes() -> Router<Arc<Gateway>> {
    Router::new()
        .route("/health", get(status::health))
        .route("/ready", get(status::ready))
        .route("/servers", get(status::servers))
        .route("/metrics", get(status::metrics))
        .route(
            "/analyze",
            get(routing::analyze_get).post(routing::analyze_post),
        )
        .route("/route", post(routing::route))
}
