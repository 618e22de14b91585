//! Circuit breaker: opens after N consecutive upstream faults, or when faults reach a share of the
//! last requests, fails fast while open (an error naming the server and when to retry), lets one
//! probe through when half-open, closes on its success. Only upstream faults count (the classifier decides); the decision is made off the
//! request path, by a task fed outcomes over a channel; requests only read a gate.

mod future;
mod service;
mod state;

pub use service::Breaker;
pub use state::Phase;

use crate::call::{Failure, Kind, Verdict};
use crate::config::resilience::Breaker as Settings;
use std::sync::Arc;
use std::time::Duration;

/// Judges a finished request (only upstream faults should count).
pub trait Classify<T>: Clone {
    /// The verdict on one outcome.
    fn classify(&self, outcome: &Result<T, Failure>) -> Verdict;

    /// The event an outcome belongs to, when several requests failed of one cause: the breaker
    /// counts such an event once.
    fn incident(&self, outcome: &Result<T, Failure>) -> Option<u64> {
        outcome.as_ref().err().and_then(Failure::incident)
    }
}

/// The gateway's judge: an answer is healthy (a tool's own error or a JSON-RPC error is still an
/// answer); a failure is what its classification says ([`crate::call::Class::verdict`]).
#[derive(Debug, Clone, Copy)]
pub struct ByClass;

impl<T> Classify<T> for ByClass {
    fn classify(&self, outcome: &Result<T, Failure>) -> Verdict {
        match outcome {
            Ok(_) => Verdict::Healthy,
            Err(f) => f.class().verdict,
        }
    }
}

/// The failure of a request the open breaker refused without trying the upstream.
fn open(server: &str, retry_in: Duration) -> Failure {
    Failure::new(
        Kind::CircuitOpen,
        format!(
            "circuit open for upstream {server:?} after repeated failures; retry in {retry_in:?}"
        ),
    )
    .with("server", server)
    .retry_after(retry_in)
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
