//! One upstream's layer stack, built once from its settings around the connector it is given.

use super::breaker::{self, BreakerLayer, ByClass};
use super::metrics::MetricsLayer;
use super::rate_limit::RateLimitLayer;
use super::timeout::TimeoutLayer;
use super::{concurrency, retry};
use crate::call::{Call, Failure, Reply};
use crate::config::Resilience;
use crate::observe::Window;
use std::sync::Arc;
use tower::util::BoxCloneSyncService;
use tower::ServiceExt;

/// The stack requests to one upstream go through; `T` is where a call goes (the connector's
/// business). A clone is the same stack: its limits, buckets and breaker are shared.
#[derive(Clone)]
pub struct Stack<T> {
    service: BoxCloneSyncService<Call<T>, Reply, Failure>,
    breaker: breaker::Handle,
}

impl<T: Clone + Send + Sync + 'static> Stack<T> {
    /// The stack of upstream `server` around `connector` (call on a runtime: the breaker starts
    /// its task).
    pub fn new<C>(
        server: Arc<str>,
        settings: &Resilience,
        latency: Arc<Window>,
        connector: C,
    ) -> Stack<T>
    where
        C: tower::Service<Call<T>, Response = Reply, Error = Failure> + Clone + Send + Sync,
        C: 'static,
        C::Future: Send + 'static,
    {
        let breaker = BreakerLayer::new(server.clone(), settings.breaker, ByClass);
        let handle = breaker.handle();
        // One layer per line, outermost first.
        let service = tower::ServiceBuilder::new()
            // metrics: outcome and duration of every request
            .layer(MetricsLayer::new(server.clone(), latency))
            // timeout: a deadline per method/tool, extended by progress up to a maximum
            .layer(TimeoutLayer::new(settings.timeouts.clone()))
            // rate limit: per upstream and per client, refused with a retry time
            .layer(RateLimitLayer::new(server.clone(), settings.rate))
            // load shed / concurrency limit: refuse rather than queue on a saturated upstream
            .layer(concurrency::layer(server.clone(), settings.max_concurrent))
            // circuit breaker: fail fast while the upstream keeps failing
            .layer(breaker)
            // retry: safe requests only, with backoff and jitter
            .layer(retry::layer(&server, settings.retry))
            // connector: one request on the live connection
            .service(connector);
        Stack {
            service: BoxCloneSyncService::new(service),
            breaker: handle,
        }
    }

    /// Send one request through the stack.
    pub async fn call(&self, call: Call<T>) -> Result<Reply, Failure> {
        self.service.clone().oneshot(call).await
    }

    /// The breaker's phase.
    pub fn phase(&self) -> breaker::Phase {
        self.breaker.phase()
    }
}
