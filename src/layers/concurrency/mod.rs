//! Concurrency limit with load shedding: at most N requests in flight per upstream; one more is
//! refused at once (tower's `ConcurrencyLimit` under `LoadShed`) rather than queued behind a
//! backend that is already saturated. The refusal is [`Kind::Overloaded`], naming the limit.

use crate::call::{Failure, Kind};
use std::sync::Arc;
use tower::layer::util::Stack;
use tower::limit::ConcurrencyLimitLayer;
use tower::load_shed::LoadShedLayer;
use tower::util::MapErrLayer;

/// A load-shedding concurrency limit of `max` requests for upstream `server`, whose refusal
/// names the upstream and the limit.
pub fn layer(
    server: Arc<str>,
    max: usize,
) -> Stack<
    ConcurrencyLimitLayer,
    Stack<LoadShedLayer, MapErrLayer<impl Fn(tower::BoxError) -> Failure + Clone + Send + Sync>>,
> {
    let max = max.max(1);
    let refuse = move |e: tower::BoxError| {
        let f = Failure::from(e);
        match f.kind() {
            Kind::Overloaded => Failure::new(
                Kind::Overloaded,
                format!(
                    "upstream {server:?} already has {max} requests in flight (its limit); retry shortly"
                ),
            )
            .with("server", &*server),
            _ => f,
        }
    };
    Stack::new(
        ConcurrencyLimitLayer::new(max),
        Stack::new(LoadShedLayer::new(), MapErrLayer::new(refuse)),
    )
}

#[cfg(test)]
mod tests;
