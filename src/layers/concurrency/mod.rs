//! Concurrency limit with load shedding: at most N requests in flight per upstream; one more is
//! refused at once (tower's `ConcurrencyLimit` under `LoadShed`) rather than queued behind a
//! backend that is already saturated.

use std::sync::Arc;

/// The refusal, as tower's `LoadShed` reports it.
pub use tower::load_shed::error::Overloaded;

/// Default requests in flight per upstream.
pub const DEFAULT_MAX: usize = 64;

/// A load-shedding concurrency limit of `max` requests.
pub fn layer(
    max: usize,
) -> tower::layer::util::Stack<tower::limit::ConcurrencyLimitLayer, tower::load_shed::LoadShedLayer>
{
    tower::layer::util::Stack::new(
        tower::limit::ConcurrencyLimitLayer::new(max.max(1)),
        tower::load_shed::LoadShedLayer::new(),
    )
}

/// A request refused at the limit, named for the client.
#[derive(Debug, Clone, thiserror::Error)]
#[error("upstream {server:?} already has {max} requests in flight (its limit); retry shortly")]
pub struct Saturated {
    /// Whose limit.
    pub server: Arc<str>,
    /// The limit.
    pub max: usize,
}

#[cfg(test)]
mod tests;
