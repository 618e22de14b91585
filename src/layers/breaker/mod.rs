//! Circuit breaker: opens after N consecutive upstream faults, fails fast while open (an error
//! naming the server and when to retry), lets one probe through when half-open, closes on its
//! success. Only upstream faults count (the classifier decides); the decision is made off the
//! request path, by a task fed outcomes over a channel; requests only read a gate.

mod future;
mod service;
mod state;

pub use service::Breaker;
pub use state::Phase;

use std::sync::Arc;
use std::time::Duration;

/// When the breaker opens and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Consecutive faults that open it.
    pub failures: u32,
    /// How long it stays open before letting a probe through.
    pub open_for: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            failures: 5,
            open_for: Duration::from_secs(30),
        }
    }
}

/// What a finished request says about the upstream's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It answered (a tool's own error or a JSON-RPC error is still an answer).
    Healthy,
    /// An upstream fault: timeout, transport error, crash.
    Fault,
    /// Says nothing about the upstream (the client cancelled, say).
    Neutral,
}

/// Judges a finished request (only upstream faults should count).
pub trait Classify<T>: Clone {
    /// The verdict on one outcome.
    fn classify(&self, outcome: &Result<T, crate::layers::BoxError>) -> Verdict;
}

/// The breaker refused a request without trying the upstream.
#[derive(Debug, Clone, thiserror::Error)]
#[error("circuit open for upstream {server:?} after repeated failures; retry in {retry_in:?}")]
pub struct Open {
    /// Whose breaker.
    pub server: Arc<str>,
    /// How long until a probe is allowed.
    pub retry_in: Duration,
}

/// The layer.
#[derive(Clone)]
pub struct BreakerLayer<C> {
    server: Arc<str>,
    settings: Settings,
    classify: C,
}

impl<C> BreakerLayer<C> {
    /// A breaker for `server`; `classify` judges each outcome.
    pub fn new(server: Arc<str>, settings: Settings, classify: C) -> Self {
        BreakerLayer {
            server,
            settings,
            classify,
        }
    }
}

impl<S, C: Clone> tower::Layer<S> for BreakerLayer<C> {
    type Service = Breaker<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        Breaker::new(
            inner,
            self.server.clone(),
            self.settings,
            self.classify.clone(),
        )
    }
}

#[cfg(test)]
mod tests;
