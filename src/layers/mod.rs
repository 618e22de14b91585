//! Tower layers wrapped around each upstream, one folder per layer. A request passes them
//! outermost first:
//!
//! metrics -> timeout -> rate limit -> load shed / concurrency limit -> circuit breaker -> retry
//! -> connector (the innermost service, which the upstream side provides).
//!
//! [`Stack`] builds them once per upstream from its [`crate::config::Resilience`]. The layers know
//! only the shared call vocabulary ([`crate::call`]): every error between them is a
//! [`Failure`](crate::call::Failure), and what a failure means is read from its classification.

pub mod breaker;
pub mod concurrency;
pub mod metrics;
pub mod rate_limit;
pub mod retry;
mod stack;
pub mod timeout;

pub use stack::Stack;

#[cfg(test)]
mod testing;
