//! The downstream side of a call, as the upstream connection sees it.

use crate::jsonrpc::RpcError;
use bytes::Bytes;
use futures::future::BoxFuture;
use std::sync::Arc;

/// Receives what an upstream sends in the context of one request (or of one per-session
/// connection): notifications to relay, and questions for the client.
pub trait Caller: Send + Sync {
    /// A notification from upstream `server` that belongs to this caller (progress, a log line,
    /// a per-session connection's list change); the whole message.
    fn relay(&self, server: &str, msg: Bytes);
    /// Whether the request carried a progress token (the gateway then sends its own upstream).
    fn wants_progress(&self) -> bool;
    /// Who is calling: a server's `${auth.*}` headers are filled in from it (never its token).
    fn identity(&self) -> Option<Arc<super::Identity>> {
        None
    }
    /// Ask the client `method` (an upstream's server-to-client request, or a 2026-07-28
    /// upstream's input request): the client's raw result, or the error it (or the gateway on
    /// its behalf) answered with.
    fn ask(
        self: Arc<Self>,
        method: String,
        params: Option<String>,
    ) -> BoxFuture<'static, Result<String, RpcError>>;
}
