//! Circuit breaker: opens after N consecutive upstream faults, or when faults reach a share of the
//! last requests, fails fast while open (an error naming the server and when to retry), lets one
//! probe through when half-open, closes on its success. Only upstream faults count (the classifier decides); the decision is made off the
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
    /// Share of faults among the last `window` requests that opens it (above 1: never).
    pub error_rate: f64,
    /// How many recent requests `error_rate` looks at (it waits for that many).
    pub window: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            failures: 5,
            open_for: Duration::from_secs(30),
            error_rate: 0.5,
            window: 20,
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

/// The layer; every service it builds shares one breaker.
#[derive(Clone)]
pub struct BreakerLayer<C> {
    server: Arc<str>,
    gate: Arc<state::Gate>,
    classify: C,
}

impl<C> BreakerLayer<C> {
    /// A closed breaker for `server` (its deciding task starts on the current runtime);
    /// `classify` judges each outcome.
    pub fn new(server: Arc<str>, settings: Settings, classify: C) -> Self {
        BreakerLayer {
            gate: state::Gate::new(settings, &server),
            server,
            classify,
        }
    }

    /// Reads the breaker's phase (for `/servers`).
    pub fn handle(&self) -> Handle {
        Handle(self.gate.clone())
    }
}

/// Reads a breaker's phase.
#[derive(Clone)]
pub struct Handle(Arc<state::Gate>);

impl Handle {
    /// Where the breaker is.
    pub fn phase(&self) -> Phase {
        self.0.phase()
    }
}

impl<S, C: Clone> tower::Layer<S> for BreakerLayer<C> {
    type Service = Breaker<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        Breaker::new(
            inner,
            self.gate.clone(),
            self.server.clone(),
            self.classify.clone(),
        )
    }
}

#[cfg(test)]
mod tests;
