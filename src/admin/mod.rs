//! Endpoints beside the MCP faces: liveness and readiness, upstream status, metrics, and the
//! routing explanations (`/analyze`, `/route`).

mod analyze;
mod status;

use crate::session::Sessions;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

/// The admin routes.
pub fn routes(sessions: Arc<Sessions>) -> Router {
    Router::new()
        .route("/health", get(status::health))
        .route("/ready", get(status::ready))
        .route("/servers", get(status::servers))
        .route("/metrics", get(status::metrics))
        .route(
            "/analyze",
            get(analyze::analyze_get).post(analyze::analyze_post),
        )
        .route("/route", post(analyze::route))
        .with_state(sessions)
}
