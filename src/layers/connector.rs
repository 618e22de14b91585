//! The innermost service: send one request on the upstream's live connection.

use super::timeout::{Activity, Deadline};
use crate::upstream::{Caller, Connection, Reply, UpstreamError};
use futures::future::BoxFuture;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio_util::sync::CancellationToken;

/// Where a request goes: resolved when it is sent, so a retry after a restart reaches the new
/// connection.
pub trait Connect: Send + Sync {
    /// The live connection, or why there is none.
    fn connection(&self) -> Result<Arc<Connection>, UpstreamError>;
}

/// A fixed connection (a session's own, `isolation = "per-session"`).
pub struct Fixed(pub Arc<Connection>);

impl Connect for Fixed {
    fn connection(&self) -> Result<Arc<Connection>, UpstreamError> {
        match self.0.is_closed() {
            false => Ok(self.0.clone()),
            true => Err(UpstreamError::Closed),
        }
    }
}

/// One request to an upstream, as the layers see it. Cheap to clone (a retry re-sends a clone).
#[derive(Clone)]
pub struct Call {
    /// Where it goes.
    pub target: Arc<dyn Connect>,
    /// JSON-RPC method.
    pub method: &'static str,
    /// The upstream's own tool name, for `tools/call` (per-tool timeouts).
    pub tool: Option<Arc<str>>,
    /// Raw params.
    pub params: Arc<String>,
    /// Who receives what the upstream sends in the request's context.
    pub caller: Option<Arc<dyn Caller>>,
    /// Fires if the client cancels.
    pub cancel: CancellationToken,
    /// The client (rate limits per client): its session id.
    pub client: Arc<str>,
    /// Signs of life (progress) that extend the deadline.
    pub activity: Arc<Activity>,
    /// Set by the timeout layer.
    pub deadline: Option<Deadline>,
    /// Whether sending it twice is harmless (lists, reads, read-only or idempotent tools).
    pub retry_safe: bool,
    /// `Mcp-Param-*` headers for a 2026-07-28 HTTP upstream (the tool's `x-mcp-header`s).
    pub param_headers: Option<Arc<Vec<(String, String)>>>,
}

/// Sends [`Call`]s.
#[derive(Clone, Copy, Default)]
pub struct Connector;

impl tower::Service<Call> for Connector {
    type Response = Reply;
    type Error = UpstreamError;
    type Future = BoxFuture<'static, Result<Reply, UpstreamError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, c: Call) -> Self::Future {
        Box::pin(async move {
            let conn = c.target.connection()?;
            let deadline = c
                .deadline
                .unwrap_or_else(|| Deadline::fixed(conn.timeout()));
            conn.call(
                c.method,
                Some(&c.params),
                c.caller,
                Some(&c.cancel),
                &deadline,
                c.param_headers.as_deref().map_or(&[], Vec::as_slice),
            )
            .await
        })
    }
}
