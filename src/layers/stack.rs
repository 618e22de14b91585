//! One upstream's layer stack, built once from its settings.

use super::breaker::{self, BreakerLayer, Classify, Verdict};
use super::metrics::MetricsLayer;
use super::rate_limit::RateLimitLayer;
use super::timeout::TimeoutLayer;
use super::{concurrency, rate_limit, retry, timeout, BoxError, Call, Connector};
use crate::observe::Window;
use crate::upstream::{Reply, UpstreamError};
use std::sync::Arc;
use tower::util::BoxCloneSyncService;
use tower::ServiceExt;

/// Every layer's settings for one upstream.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Deadlines by method and tool.
    pub timeouts: timeout::Settings,
    /// Token buckets (none by default).
    pub rate: rate_limit::Settings,
    /// Requests in flight before shedding.
    pub concurrency: Option<usize>,
    /// When the breaker opens.
    pub breaker: breaker::Settings,
    /// When safe requests are retried.
    pub retry: retry::Settings,
}

/// The stack requests to one upstream go through.
#[derive(Clone)]
pub struct Stack {
    service: BoxCloneSyncService<Call, Reply, BoxError>,
    breaker: breaker::Handle,
    max_in_flight: usize,
}

/// What an outcome says about the upstream's health: only its own faults count. Not being
/// connected is no news (the supervisor already knows and is restarting it; counting it would
/// keep the breaker open after the upstream is back).
#[derive(Clone, Copy)]
pub struct UpstreamFaults;

impl Classify<Reply> for UpstreamFaults {
    fn classify(&self, r: &Result<Reply, BoxError>) -> Verdict {
        match r {
            Ok(_) => Verdict::Healthy, // an answer, even a JSON-RPC error or a tool's isError
            Err(e) => match e.downcast_ref::<UpstreamError>() {
                Some(
                    UpstreamError::Cancelled
                    | UpstreamError::SessionExpired
                    | UpstreamError::NotReady(_),
                ) => Verdict::Neutral,
                _ => Verdict::Fault,
            },
        }
    }
}

impl Stack {
    /// The stack of upstream `server` (call on a runtime: the breaker starts its task).
    pub fn new(server: Arc<str>, settings: &Settings, latency: Arc<Window>) -> Stack {
        let breaker = BreakerLayer::new(server.clone(), settings.breaker, UpstreamFaults);
        let handle = breaker.handle();
        let max_in_flight = settings.concurrency.unwrap_or(concurrency::DEFAULT_MAX);
        // One layer per line, outermost first.
        let service = tower::ServiceBuilder::new()
            // metrics: outcome and duration of every request
            .layer(MetricsLayer::new(server.clone(), latency))
            // timeout: a deadline per method/tool, extended by progress up to a maximum
            .layer(TimeoutLayer::new(settings.timeouts.clone()))
            // rate limit: per upstream and per client, refused with a retry time
            .layer(RateLimitLayer::new(server.clone(), settings.rate))
            // load shed / concurrency limit: refuse rather than queue on a saturated upstream
            .layer(concurrency::layer(max_in_flight))
            // circuit breaker: fail fast while the upstream keeps failing
            .layer(breaker)
            // retry: safe requests only, with backoff and jitter
            .layer(retry::layer(&server, settings.retry))
            // connector: one request on the live connection
            .service(Connector);
        Stack {
            service: BoxCloneSyncService::new(service),
            breaker: handle,
            max_in_flight,
        }
    }

    /// Send one request through the stack.
    pub async fn call(&self, call: Call) -> Result<Reply, BoxError> {
        self.service.clone().oneshot(call).await
    }

    /// Requests in flight before more are refused.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    /// The breaker's phase.
    pub fn phase(&self) -> breaker::Phase {
        self.breaker.phase()
    }
}
