//! The innermost service of an upstream's layer stack: send one call on the live connection.

use super::Connection;
use crate::call::{Call, Deadline, Failure, Reply};
use futures::future::BoxFuture;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::time::Instant;

/// Where a call goes: resolved when it is sent, so a retry after a restart reaches the new
/// connection.
pub trait Connect: Send + Sync {
    /// The live connection, or why there is none.
    fn connection(&self) -> Result<Arc<Connection>, Failure>;

    /// The live connection, waiting until `until` for one that is being (re)started.
    fn ready(&self, until: Instant) -> BoxFuture<'_, Result<Arc<Connection>, Failure>> {
        let _ = until;
        Box::pin(std::future::ready(self.connection()))
    }
}

/// What a call's target is, for the layer stack.
pub type Target = Arc<dyn Connect>;

/// A fixed connection (a session's own, `isolation = "per-session"`).
pub struct Fixed(pub Arc<Connection>);

impl Connect for Fixed {
    fn connection(&self) -> Result<Arc<Connection>, Failure> {
        match self.0.is_closed() {
            false => Ok(self.0.clone()),
            true => Err(Failure::closed()),
        }
    }
}

/// Sends [`Call`]s.
#[derive(Clone, Copy, Default)]
pub struct Connector;

impl tower::Service<Call<Target>> for Connector {
    type Response = Reply;
    type Error = Failure;
    type Future = BoxFuture<'static, Result<Reply, Failure>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, c: Call<Target>) -> Self::Future {
        Box::pin(async move {
            let conn = match &c.deadline {
                Some(d) => c.target.ready(d.due()).await?,
                None => c.target.connection()?,
            };
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
