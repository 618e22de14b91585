//! The rate limit's response future: the inner future, or the refusal.

use crate::call::Failure;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Passed on, refused at once, or first checked against the cluster's shared buckets.
#[pin_project::pin_project(project = Proj)]
pub enum ResponseFuture<F, T> {
    /// Within the limits.
    Passed {
        #[pin]
        inner: F,
    },
    /// Over a limit.
    Refused(Option<Failure>),
    /// Checked with the store, then passed on.
    Shared(futures::future::BoxFuture<'static, Result<T, Failure>>),
}

impl<F, T, E> Future for ResponseFuture<F, T>
where
    F: Future<Output = Result<T, E>>,
    E: Into<Failure>,
{
    type Output = Result<T, Failure>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            Proj::Passed { inner } => inner.poll(cx).map_err(Into::into),
            Proj::Refused(l) => Poll::Ready(Err(l.take().expect("polled after completion"))),
            Proj::Shared(f) => f.as_mut().poll(cx),
        }
    }
}
