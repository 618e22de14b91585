//! Metrics, outermost: every request's outcome and duration, per server and method
//! (`switchboard_requests_total`, `switchboard_request_duration_seconds`), and the latency window
//! behind `/servers`' p50/p99.

mod future;

use crate::layers::{breaker, concurrency, rate_limit, BoxError, Call};
use crate::observe::Window;
use crate::upstream::{Reply, UpstreamError};
use std::sync::Arc;
use std::task::{Context, Poll};

/// How a request ended, as the `outcome` label says it.
pub fn outcome(r: &Result<Reply, BoxError>) -> &'static str {
    match r {
        Ok(reply) if reply.is_error() => "error",
        Ok(_) => "ok",
        Err(e) => {
            if let Some(up) = e.downcast_ref::<UpstreamError>() {
                match up {
                    UpstreamError::Timeout(_) => "timeout",
                    UpstreamError::Cancelled => "cancelled",
                    _ => "upstream_error",
                }
            } else if e.is::<breaker::Open>() {
                "circuit_open"
            } else if e.is::<rate_limit::Limited>() {
                "rate_limited"
            } else if e.is::<concurrency::Overloaded>() {
                "overloaded"
            } else {
                "upstream_error"
            }
        }
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

impl<S> tower::Service<Call> for Metrics<S>
where
    S: tower::Service<Call, Response = Reply, Error = BoxError>,
{
    type Response = Reply;
    type Error = BoxError;
    type Future = future::ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, call: Call) -> Self::Future {
        let method = call.method;
        future::ResponseFuture::new(self.inner.call(call), self.layer.clone(), method)
    }
}

#[cfg(test)]
mod tests;
