//! Upstream MCP servers: connectors (stdio, streamable HTTP, legacy SSE), the handshake, and the
//! per-server handle the gateway routes to.

mod connection;
mod handshake;
mod http;
mod lists;
mod peer;
mod pool;
mod process;
mod sse;
mod stdio;

pub use connection::{Caller, Connection, Event, OpenOptions};
pub use handshake::{InitInfo, Offers};
pub use lists::{Item, ListKind, Lists};
pub use peer::{Peer, Reply};
pub use pool::{Pool, State, Upstream};

use std::time::Duration;

/// What went wrong talking to an upstream. Every variant is the upstream's fault (or the network's),
/// never the client's: a circuit breaker may count all of them.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    /// The process could not be started.
    #[error("{0}")]
    Spawn(String),
    /// The network or HTTP layer failed.
    #[error("transport error: {0}")]
    Transport(String),
    /// The HTTP upstream answered a request with an error status and no JSON-RPC answer.
    #[error("transport error: HTTP {0}: {1}")]
    Status(reqwest::StatusCode, String),
    /// The process exited or closed its stdout.
    #[error("{0}")]
    Exited(String),
    /// The connection is closed (shutting down, or after a failure).
    #[error("connection closed")]
    Closed,
    /// No answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The upstream broke the protocol (bad handshake, bad list).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The HTTP upstream forgot our session (404); the connection re-initializes.
    #[error("upstream session expired")]
    SessionExpired,
    /// The upstream is not connected (failed to start, or still starting).
    #[error("not connected: {0}")]
    NotReady(String),
    /// The client cancelled the request (not the upstream's fault).
    #[error("cancelled by the client")]
    Cancelled,
}
