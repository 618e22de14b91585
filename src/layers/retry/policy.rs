//! Which failures are retried, and when.

use crate::call::{Call, Failure, Reply};
use crate::config::resilience::Retry;
use tower::retry::backoff::{Backoff, ExponentialBackoff, ExponentialBackoffMaker, MakeBackoff};
use tower::util::rng::HasherRng;

/// Per-request retry state (tower clones the policy for each request).
#[derive(Clone)]
pub struct Policy {
    left: u32,
    backoff: ExponentialBackoff<HasherRng>,
    retried: metrics::Counter,
}

impl Policy {
    /// Retries per `settings`.
    pub fn new(server: &str, settings: Retry) -> Policy {
        let max_backoff = settings
            .max_backoff
            .max(settings.min_backoff)
            .max(std::time::Duration::from_millis(1));
        let mut maker = ExponentialBackoffMaker::new(
            settings.min_backoff,
            max_backoff,
            1.0, // full jitter on top of the base: clients that failed together spread out
            HasherRng::default(),
        )
        .expect("backoff bounds are ordered and non-zero");
        Policy {
            left: settings.max,
            backoff: maker.make_backoff(),
            retried: metrics::counter!(crate::observe::RETRIES, "server" => server.to_string()),
        }
    }
}

/// Whether sending `req` again may help after `failure`: the failure says a second attempt may
/// succeed, and the upstream never saw the first one, or seeing it twice is harmless.
fn worth_retrying<T>(req: &Call<T>, failure: &Failure) -> bool {
    let class = failure.class();
    class.retry && (req.retry_safe || !class.reached)
}

impl<T: Clone> tower::retry::Policy<Call<T>, Reply, Failure> for Policy {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        req: &mut Call<T>,
        result: &mut Result<Reply, Failure>,
    ) -> Option<Self::Future> {
        let Err(e) = result else { return None };
        if self.left == 0 || !worth_retrying(req, e) || req.cancel.is_cancelled() {
            return None;
        }
        let wait = self.backoff.next_backoff();
        if req
            .deadline
            .as_ref()
            .is_some_and(|d| wait.deadline() >= d.due())
        {
            return None; // it would not finish in time anyway
        }
        self.left -= 1;
        self.retried.increment(1);
        tracing::debug!(method = req.method, error = %e, "retrying after a failure a second attempt may cure");
        Some(wait)
    }

    fn clone_request(&mut self, req: &Call<T>) -> Option<Call<T>> {
        (self.left > 0).then(|| req.clone())
    }
}
