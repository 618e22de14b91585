//! Downstream faces: how clients reach the gateway: streamable HTTP at `/mcp` (both protocol
//! generations; the stateless 2026-07-28 parts in [`stateless`]), legacy HTTP+SSE at `/sse` +
//! `/messages`, and stdio.

pub mod body;
mod channel;
mod endpoint;
mod forward;
pub mod guard;
mod http;
mod reply;
mod sse;
pub mod stateless;
pub mod stdio;

pub use http::SESSION_HEADER;
pub use reply::Rejection;

use crate::gateway::Gateway;
use crate::session::Sessions;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

/// What the faces of one gateway share: its sessions, and the stateless calls parked for a
/// client's next round.
pub struct Faces {
    /// Every live session (and through it, the gateway).
    pub sessions: Arc<Sessions>,
    parked: stateless::Parked,
}

impl Faces {
    /// The faces over `sessions`.
    pub fn new(sessions: Arc<Sessions>) -> Arc<Faces> {
        Arc::new(Faces {
            sessions,
            parked: Default::default(),
        })
    }

    /// The gateway.
    pub fn gateway(&self) -> &Arc<Gateway> {
        self.sessions.gateway()
    }
}

/// The MCP routes: `/mcp`, `/sse`, `/messages`, and each named endpoint's `/mcp/NAME` and
/// `/sse/NAME` (an SSE session posts to `/messages` wherever it was opened).
pub fn routes(faces: Arc<Faces>) -> Router {
    let mcp = || get(http::get).post(http::post).delete(http::delete);
    Router::new()
        .route("/mcp", mcp())
        .route("/mcp/{endpoint}", mcp())
        .route("/sse", get(sse::open))
        .route("/sse/{endpoint}", get(sse::open))
        .route("/messages", post(sse::message))
        .with_state(faces)
}
