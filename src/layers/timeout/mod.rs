//! Timeout: each request gets a deadline chosen by method and tool (`tools/call` 60 s by default,
//! list fetches shorter, per-tool overrides), which progress notifications extend up to a hard
//! maximum. The deadline travels with the request, so the connector gives up at the same
//! instant (and tells the upstream `notifications/cancelled`); this layer is the backstop for time
//! spent before the connector, and says so with its own failure ([`Kind::Elapsed`]).

mod future;

use crate::call::{Call, Deadline, Failure};
use crate::config::resilience::Timeouts;
use std::sync::Arc;
use std::task::{Context, Poll};

#[cfg(doc)]
use crate::call::Kind;

/// The layer.
#[derive(Clone)]
pub struct TimeoutLayer {
    settings: Arc<Timeouts>,
}

impl TimeoutLayer {
    /// Deadlines per `settings`.
    pub fn new(settings: Timeouts) -> Self {
        TimeoutLayer {
            settings: Arc::new(settings),
        }
    }
}

impl<S> tower::Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            inner,
            settings: self.settings.clone(),
        }
    }
}

/// Gives each request its deadline.
#[derive(Clone)]
pub struct Timeout<S> {
    inner: S,
    settings: Arc<Timeouts>,
}

impl<S, T> tower::Service<Call<T>> for Timeout<S>
where
    S: tower::Service<Call<T>>,
    S::Error: Into<Failure>,
{
    type Response = S::Response;
    type Error = Failure;
    type Future = future::ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Failure>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut call: Call<T>) -> Self::Future {
        let timeout = self.settings.for_call(call.method, call.tool.as_deref());
        let deadline = Deadline::extendable(timeout, self.settings.max, call.activity.clone());
        call.deadline = Some(deadline.clone());
        future::ResponseFuture::new(self.inner.call(call), deadline)
    }
}

#[cfg(test)]
mod tests;
