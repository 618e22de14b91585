//! The vocabulary the layers and the upstream connector share: one call to an upstream, its
//! deadline and signs of life, the upstream's reply, the downstream caller that receives what the
//! upstream sends meanwhile, who is calling, and the one classification of every failure.

mod caller;
mod deadline;
pub mod failure;
mod identity;
mod reply;

pub use caller::Caller;
pub use deadline::{Activity, Deadline};
pub use failure::{Class, Failure, Kind, Origin, Verdict};
pub use identity::{Identity, Via, ANONYMOUS};
pub use reply::Reply;

use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// One request to an upstream, as the layers see it; `T` says where it goes (the layers never
/// look at it: the connector does). Cheap to clone: a retry re-sends a clone.
#[derive(Clone)]
pub struct Call<T> {
    /// Where it goes.
    pub target: T,
    /// JSON-RPC method.
    pub method: &'static str,
    /// The upstream's own tool name, for `tools/call` (per-tool timeouts).
    pub tool: Option<Arc<str>>,
    /// Raw params.
    pub params: Arc<String>,
    /// Who receives what the upstream sends in the request's context.
    pub caller: Option<Arc<dyn Caller>>,
    /// Fires if the client cancels.
    pub cancel: CancellationToken,
    /// Who the client is, for per-client rate limits.
    pub client: Arc<str>,
    /// Signs of life (progress) that extend the deadline.
    pub activity: Arc<Activity>,
    /// Set by the timeout layer.
    pub deadline: Option<Deadline>,
    /// Whether sending it twice is harmless (lists, reads, read-only or idempotent tools).
    pub retry_safe: bool,
    /// `Mcp-Param-*` headers for a 2026-07-28 HTTP upstream (the tool's `x-mcp-header`s).
    pub param_headers: Option<Arc<Vec<(String, String)>>>,
}

impl<T> Call<T> {
    /// A call of `method` to `target` with `params`, from `client`; everything else unset.
    pub fn new(target: T, method: &'static str, params: String, client: Arc<str>) -> Self {
        Call {
            target,
            method,
            tool: None,
            params: Arc::new(params),
            caller: None,
            cancel: CancellationToken::new(),
            client,
            activity: Activity::new(),
            deadline: None,
            retry_safe: false,
            param_headers: None,
        }
    }
}
