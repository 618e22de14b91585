//! Tower layers wrapped around each upstream, one folder per layer. A request passes them
//! outermost first:
//!
//! metrics -> timeout -> rate limit -> load shed / concurrency limit -> circuit breaker -> retry
//! -> connector.
//!
//! [`Stack`] builds them once per upstream from its [`Settings`].

pub mod breaker;
pub mod concurrency;
mod connector;
pub mod metrics;
pub mod rate_limit;
pub mod retry;
mod stack;
pub mod timeout;

pub use connector::{Call, Connect, Connector, Fixed};
pub use stack::{Settings, Stack};

/// Errors between layers (each layer's own error, or the upstream's, boxed).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[cfg(test)]
mod testing;
