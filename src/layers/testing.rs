//! Helpers for the layers' unit tests: requests that go nowhere, replies from nowhere.

use super::timeout::Activity;
use super::{Call, Connect};
use crate::upstream::{Connection, UpstreamError};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

struct Nowhere;

impl Connect for Nowhere {
    fn connection(&self) -> Result<Arc<Connection>, UpstreamError> {
        Err(UpstreamError::NotReady("a test request".into()))
    }
}

/// A request for `method` from client `client`.
pub fn call(method: &'static str, client: &str) -> Call {
    Call {
        target: Arc::new(Nowhere),
        method,
        tool: None,
        params: Arc::new("{}".into()),
        caller: None,
        cancel: CancellationToken::new(),
        client: Arc::from(client),
        activity: Activity::new(),
        deadline: None,
        retry_safe: false,
        param_headers: Default::default(),
    }
}
