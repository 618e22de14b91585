//! Rate limit: token buckets (GCRA, from `governor`) per upstream and per downstream client (its
//! session; its identity once authentication exists). A refused request is answered at once with
//! a failure that says which bucket refused and when to retry; it never waits in the gateway.
//! In a cluster (`[cluster]`) the buckets live in the shared store, so a limit holds across
//! replicas; while the store is down, this replica's own buckets decide (`fail_open = true`) or
//! the call is refused (`false`).

mod clock;
mod future;

use crate::call::{Call, Failure, Kind};
use crate::config::resilience::{Rate, RateLimits};
use clock::TokioClock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// governor's quota for one bucket.
fn quota(rate: Rate) -> Quota {
    let period = Duration::from_secs_f64(1.0 / rate.per_second.max(1e-6));
    let burst = NonZeroU32::new(rate.burst.max(1)).expect("at least one");
    Quota::with_period(period.max(Duration::from_nanos(1)))
        .expect("a positive period")
        .allow_burst(burst)
}

/// Which bucket refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The upstream's, shared by all clients.
    Upstream,
    /// The client's own.
    Client,
}

impl Scope {
    /// As written in errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Upstream => "upstream",
            Scope::Client => "client",
        }
    }
}

/// A request refused by a rate limit, as the client hears it.
fn refusal(server: &str, scope: Scope, retry_in: Duration) -> Failure {
    let kind = match scope {
        Scope::Upstream => Kind::RateLimited,
        Scope::Client => Kind::ClientRateLimited,
    };
    Failure::new(
        kind,
        format!(
            "rate limit ({}) of upstream {server:?} exceeded; retry in {retry_in:?}",
            scope.as_str()
        ),
    )
    .with("server", server)
    .with("scope", scope.as_str())
    .retry_after(retry_in)
}

type Direct = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Duration>>;
type Keyed = RateLimiter<
    Arc<str>,
    governor::state::keyed::DefaultKeyedStateStore<Arc<str>>,
    TokioClock,
    NoOpMiddleware<Duration>,
>;

/// Forget idle clients' buckets every this many checks (keeps the per-client map small).
const SWEEP_EVERY: u64 = 4096;

struct Limiters {
    server: Arc<str>,
    rates: RateLimits,
    /// The cluster's store, when there is one.
    shared: Option<&'static Arc<crate::cluster::Store>>,
    /// `rl:SERVER:upstream`
    upstream_bucket: String,
    upstream: Option<Direct>,
    client: Option<Keyed>,
    clock: TokioClock,
    refused: metrics::Counter,
    checks: AtomicU64,
}

impl Limiters {
    /// The shared buckets decide; while the store is down, this replica's (or nobody: refused).
    async fn check_shared(
        &self,
        store: &crate::cluster::Store,
        client: &Arc<str>,
    ) -> Result<(), Failure> {
        use crate::cluster::{Admission, Bucket};
        let client_bucket = format!("rl:{}:client:{client}", self.server);
        let mut buckets = Vec::with_capacity(2);
        let mut scopes = Vec::with_capacity(2);
        if let Some(rate) = self.rates.client {
            buckets.push(Bucket {
                name: &client_bucket,
                rate,
            });
            scopes.push(Scope::Client);
        }
        if let Some(rate) = self.rates.upstream {
            buckets.push(Bucket {
                name: &self.upstream_bucket,
                rate,
            });
            scopes.push(Scope::Upstream);
        }
        match store.admit(&buckets).await {
            Admission::Admitted => Ok(()),
            Admission::Refused { bucket, retry_in } => {
                Err(refusal(&self.server, scopes[bucket.min(scopes.len() - 1)], retry_in))
            }
            Admission::Unknown if store.settings().fail_open => self.check(client),
            Admission::Unknown => Err(Failure::new(
                Kind::StoreUnavailable,
                format!(
                    "the rate limits of upstream {:?} are shared through the cluster store, which is unreachable (cluster.fail_open = false); retry shortly",
                    self.server
                ),
            )
            .with("server", &*self.server)
            .retry_after(std::time::Duration::from_secs(1))),
        }
    }

    fn check(&self, client: &Arc<str>) -> Result<(), Failure> {
        let now = governor::clock::Clock::now(&self.clock);
        let refuse = |scope, retry_in| refusal(&self.server, scope, retry_in);
        // The client's own bucket first: a client over its limit does not drain the shared one.
        if let Some(k) = &self.client {
            if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
                k.retain_recent();
            }
            if let Err(not_until) = k.check_key(client) {
                return Err(refuse(Scope::Client, not_until.wait_time_from(now)));
            }
        }
        if let Some(u) = &self.upstream {
            if let Err(not_until) = u.check() {
                return Err(refuse(Scope::Upstream, not_until.wait_time_from(now)));
            }
        }
        Ok(())
    }
}

/// The layer (its buckets are shared by every service it builds).
#[derive(Clone)]
pub struct RateLimitLayer {
    limits: Option<Arc<Limiters>>,
}

impl RateLimitLayer {
    /// Buckets for upstream `server` per `settings`.
    pub fn new(server: Arc<str>, settings: RateLimits) -> Self {
        if settings == RateLimits::default() {
            return RateLimitLayer { limits: None };
        }
        let clock = TokioClock::default();
        let limits = Limiters {
            upstream: settings
                .upstream
                .map(|r| RateLimiter::direct_with_clock(quota(r), clock.clone())),
            client: settings
                .client
                .map(|r| RateLimiter::new(quota(r), Default::default(), clock.clone())),
            refused: metrics::counter!(crate::observe::RATE_LIMITED, "server" => server.to_string()),
            rates: settings,
            shared: crate::cluster::store(),
            upstream_bucket: format!("rl:{server}:upstream"),
            server,
            clock,
            checks: AtomicU64::new(0),
        };
        RateLimitLayer {
            limits: Some(Arc::new(limits)),
        }
    }
}

impl<S> tower::Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> RateLimit<S> {
        RateLimit {
            inner,
            limits: self.limits.clone(),
        }
    }
}

/// Refuses requests over the limits.
#[derive(Clone)]
pub struct RateLimit<S> {
    inner: S,
    limits: Option<Arc<Limiters>>,
}

impl<S, T> tower::Service<Call<T>> for RateLimit<S>
where
    S: tower::Service<Call<T>> + Clone + Send + 'static,
    S::Error: Into<Failure>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    T: Send + 'static,
{
    type Response = S::Response;
    type Error = Failure;
    type Future = future::ResponseFuture<S::Future, S::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Failure>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, call: Call<T>) -> Self::Future {
        let Some(l) = &self.limits else {
            return future::ResponseFuture::Passed {
                inner: self.inner.call(call),
            };
        };
        if let Some(store) = l.shared {
            // The store answers asynchronously: the service made ready goes with the call.
            let fresh = self.inner.clone();
            let mut ready = std::mem::replace(&mut self.inner, fresh);
            let l = l.clone();
            return future::ResponseFuture::Shared(Box::pin(async move {
                if let Err(limited) = l.check_shared(store, &call.client).await {
                    l.refused.increment(1);
                    return Err(limited);
                }
                ready.call(call).await.map_err(Into::into)
            }));
        }
        if let Err(limited) = l.check(&call.client) {
            l.refused.increment(1);
            return future::ResponseFuture::Refused(Some(limited));
        }
        future::ResponseFuture::Passed {
            inner: self.inner.call(call),
        }
    }
}

#[cfg(test)]
mod tests;
