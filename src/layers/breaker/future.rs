//! The breaker's response future: reports how the request went.

use super::state::Gate;
use super::Classify;
use crate::call::{Failure, Verdict};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Either the inner future (reported on completion) or an immediate refusal.
#[pin_project::pin_project(project = Proj)]
pub enum ResponseFuture<F, C> {
    /// Admitted.
    Pass {
        #[pin]
        inner: F,
        report: Report,
        classify: C,
    },
    /// Refused while open.
    Refuse(Option<Failure>),
}

impl<F, C> ResponseFuture<F, C> {
    pub(super) fn pass(inner: F, gate: Arc<Gate>, probe: bool, classify: C) -> Self {
        ResponseFuture::Pass {
            inner,
            report: Report {
                gate,
                probe,
                sent: false,
            },
            classify,
        }
    }

    pub(super) fn refuse(open: Failure) -> Self {
        ResponseFuture::Refuse(Some(open))
    }
}

impl<F, C, T, E> Future for ResponseFuture<F, C>
where
    F: Future<Output = Result<T, E>>,
    E: Into<Failure>,
    C: Classify<T>,
{
    type Output = Result<T, Failure>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            Proj::Pass {
                inner,
                report,
                classify,
            } => {
                let out = std::task::ready!(inner.poll(cx)).map_err(Into::into);
                report.send(classify.classify(&out), classify.incident(&out));
                Poll::Ready(out)
            }
            Proj::Refuse(open) => Poll::Ready(Err(open.take().expect("polled after completion"))),
        }
    }
}

/// Reports a request's outcome exactly once; a request dropped before it finished (the client
/// went away) reports nothing about the upstream, but frees the probe slot.
pub struct Report {
    gate: Arc<Gate>,
    probe: bool,
    sent: bool,
}

impl Report {
    fn send(&mut self, verdict: Verdict, incident: Option<u64>) {
        if !self.sent {
            self.sent = true;
            self.gate.report(verdict, self.probe, incident);
        }
    }
}

impl Drop for Report {
    fn drop(&mut self) {
        self.send(Verdict::Neutral, None);
    }
}
