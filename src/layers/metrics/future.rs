//! The metrics layer's response future: records the outcome when the request ends.

use super::{outcome, MetricsLayer};
use crate::call::{Failure, Reply};
use crate::observe;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::time::Instant;

/// The inner future, timed.
#[pin_project::pin_project]
pub struct ResponseFuture<F> {
    #[pin]
    inner: F,
    layer: MetricsLayer,
    method: &'static str,
    started: Instant,
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(inner: F, layer: MetricsLayer, method: &'static str) -> Self {
        ResponseFuture {
            inner,
            layer,
            method,
            started: Instant::now(),
        }
    }
}

impl<F> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Reply, Failure>>,
{
    type Output = Result<Reply, Failure>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let out = ready!(this.inner.poll(cx));
        let took = this.started.elapsed();
        this.layer.latency.record(took);
        let server = this.layer.server.clone();
        let result = outcome(&out);
        metrics::counter!(observe::REQUESTS, "server" => server.clone(), "method" => *this.method, "outcome" => result).increment(1);
        metrics::histogram!(observe::DURATION, "server" => server, "method" => *this.method)
            .record(took.as_secs_f64());
        Poll::Ready(out)
    }
}
