//! Metrics, outermost: every request's outcome and duration, per server and method
//! (`switchboard_requests_total`, `switchboard_request_duration_seconds`), and the latency window
//! behind `/servers`' p50/p99.

mod future;

use crate::call::{Call, Failure, Reply};
use crate::observe::Window;
use std::sync::Arc;
use std::task::{Context, Poll};

/// How a request ended, as the `outcome` label says it: `ok`, `error` (the upstream answered
/// with a JSON-RPC error), or the failure's classified outcome.
pub fn outcome(r: &Result<Reply, Failure>) -> &'static str {
    match r {
        Ok(reply) if reply.is_error() => "error",
        Ok(_) => "ok",
        Err(f) => f.class().outcome,
    }
}

/// The layer.
#[derive(Clone)]
pub struct MetricsLayer {
    server: Arc<str>,
    latency: Arc<Window>,
}

impl MetricsLayer {
    /// Measures upstream `server`'s requests; durations also go to `latency`.
    pub fn new(server: Arc<str>, latency: Arc<Window>) -> Self {
        MetricsLayer { server, latency }
    }
}

impl<S> tower::Layer<S> for MetricsLayer {
    type Service = Metrics<S>;

    fn layer(&self, inner: S) -> Metrics<S> {
        Metrics {
            inner,
            layer: self.clone(),
        }
    }
}

/// Measures each request.
#[derive(Clone)]
pub struct Metrics<S> {
    inner: S,
    layer: MetricsLayer,
}

impl<S, T> tower::Service<Call<T>> for Metrics<S>
where
    S: tower::Service<Call<T>, Response = Reply, Error = Failure>,
{
    type Response = Reply;
    type Error = Failure;
    type Future = future::ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Failure>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, call: Call<T>) -> Self::Future {
        let method = call.method;
        future::ResponseFuture::new(self.inner.call(call), self.layer.clone(), method)
    }
}

#[cfg(test)]
mod tests;
