//! The timeout's response future: the inner future, or [`Kind::Elapsed`] once the deadline passes.

use crate::call::{Deadline, Failure, Kind};
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::time::Sleep;

/// Polls the inner future first, so an inner layer that gives up at the same instant answers.
#[pin_project::pin_project]
pub struct ResponseFuture<F> {
    #[pin]
    inner: F,
    #[pin]
    sleep: Sleep,
    deadline: Deadline,
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(inner: F, deadline: Deadline) -> Self {
        ResponseFuture {
            inner,
            sleep: tokio::time::sleep_until(deadline.due()),
            deadline,
        }
    }
}

impl<F, T, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<Failure>,
{
    type Output = Result<T, Failure>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(out) = this.inner.poll(cx) {
            return Poll::Ready(out.map_err(Into::into));
        }
        loop {
            ready!(this.sleep.as_mut().poll(cx));
            let due = this.deadline.due();
            if tokio::time::Instant::now() >= due {
                let err = Failure::new(
                    Kind::Elapsed,
                    format!(
                        "the {:?} deadline passed before the upstream was reached",
                        this.deadline.timeout()
                    ),
                );
                return Poll::Ready(Err(err));
            }
            this.sleep.as_mut().reset(due); // progress moved it
        }
    }
}
