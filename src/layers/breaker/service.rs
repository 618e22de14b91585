//! The breaker service: consult the gate, pass or fail fast.

use super::future::ResponseFuture;
use super::state::{Admit, Gate, Phase};
use super::{open, Classify};
use crate::call::Failure;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Wraps an upstream's service with a circuit breaker.
#[derive(Clone)]
pub struct Breaker<S, C> {
    inner: S,
    gate: Arc<Gate>,
    server: Arc<str>,
    classify: C,
}

impl<S, C> Breaker<S, C> {
    pub(super) fn new(inner: S, gate: Arc<Gate>, server: Arc<str>, classify: C) -> Self {
        Breaker {
            inner,
            gate,
            server,
            classify,
        }
    }

    /// Where the breaker is (for `/servers` and metrics).
    pub fn phase(&self) -> Phase {
        self.gate.phase()
    }
}

impl<S, C, Req> tower::Service<Req> for Breaker<S, C>
where
    S: tower::Service<Req>,
    S::Error: Into<Failure>,
    C: Classify<S::Response>,
{
    type Response = S::Response;
    type Error = Failure;
    type Future = ResponseFuture<S::Future, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        match self.gate.admit() {
            Admit::Yes { probe } => ResponseFuture::pass(
                self.inner.call(req),
                self.gate.clone(),
                probe,
                self.classify.clone(),
            ),
            Admit::No { retry_in_ms } => {
                ResponseFuture::refuse(open(&self.server, Duration::from_millis(retry_in_ms)))
            }
        }
    }
}
