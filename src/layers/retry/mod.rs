//! Retry: a request that is safe to send twice (lists, reads, `completion/complete`, tools
//! annotated `readOnlyHint` or `idempotentHint`) and failed for an upstream fault that says
//! nothing about the request (connection lost, not connected, transport error) is sent again
//! after an exponential backoff with jitter (tower's), while its deadline allows. A plain
//! `tools/call` is never retried, nor a timeout, a cancellation, or any answer from the upstream.

mod policy;

pub use policy::Policy;

use std::time::Duration;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Retries after the first attempt (0: never).
    pub max: u32,
    /// First backoff.
    pub min_backoff: Duration,
    /// Longest backoff.
    pub max_backoff: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max: 2,
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
        }
    }
}

/// The retry layer for upstream `server`.
pub fn layer(server: &str, settings: Settings) -> tower::retry::RetryLayer<Policy> {
    tower::retry::RetryLayer::new(Policy::new(server, settings))
}

#[cfg(test)]
mod tests;
