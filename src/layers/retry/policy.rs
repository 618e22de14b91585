//! Which failures are retried, and when.

use super::Settings;
use crate::layers::Call;
use crate::upstream::{Reply, UpstreamError};
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
    pub fn new(server: &str, settings: Settings) -> Policy {
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

/// An upstream fault after which the same request may well succeed (a restarted process, a
/// re-established connection); not a timeout (the deadline is spent) nor a cancellation.
fn transient(e: &UpstreamError) -> bool {
    matches!(
        e,
        UpstreamError::Closed
            | UpstreamError::Exited(_)
            | UpstreamError::NotReady(_)
            | UpstreamError::Transport(_)
            | UpstreamError::Status(..)
    )
}

impl tower::retry::Policy<Call, Reply, UpstreamError> for Policy {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        req: &mut Call,
        result: &mut Result<Reply, UpstreamError>,
    ) -> Option<Self::Future> {
        let Err(e) = result else { return None };
        if self.left == 0 || !req.retry_safe || !transient(e) || req.cancel.is_cancelled() {
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
        tracing::debug!(method = req.method, error = %e, "retrying a safe request after an upstream fault");
        Some(wait)
    }

    fn clone_request(&mut self, req: &Call) -> Option<Call> {
        (req.retry_safe && self.left > 0).then(|| req.clone())
    }
}
