//! Retry: a request that failed for a reason a second attempt may cure ([`Class::retry`]: the
//! connection was lost, the upstream was not connected, a transport error) is sent again after an
//! exponential backoff with jitter (tower's), while its deadline allows; one the upstream may have
//! seen ([`Class::reached`]) only when it is safe to send twice (lists, reads,
//! `completion/complete`, tools annotated `readOnlyHint` or `idempotentHint`). A timeout, a
//! cancellation, or any answer from the upstream is never retried.
//!
//! [`Class::retry`]: crate::call::Class::retry
//! [`Class::reached`]: crate::call::Class::reached

mod policy;

pub use policy::Policy;

use crate::config::resilience::Retry;

/// The retry layer for upstream `server`.
pub fn layer(server: &str, settings: Retry) -> tower::retry::RetryLayer<Policy> {
    tower::retry::RetryLayer::new(Policy::new(server, settings))
}

#[cfg(test)]
mod tests;
