//! The innermost service: send one request on a live connection.

use crate::upstream::{Caller, Connection, Reply, UpstreamError};
use futures::future::BoxFuture;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::oneshot;

/// One request to an upstream, as the layers see it.
pub struct Call {
    /// The connection to use (shared, or the session's own).
    pub conn: Arc<Connection>,
    /// JSON-RPC method.
    pub method: &'static str,
    /// Raw params.
    pub params: String,
    /// Who receives what the upstream sends in the request's context.
    pub caller: Option<Arc<dyn Caller>>,
    /// Fires if the client cancels.
    pub cancel: Option<oneshot::Receiver<()>>,
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
            c.conn
                .call(c.method, Some(&c.params), c.caller, c.cancel)
                .await
        })
    }
}
