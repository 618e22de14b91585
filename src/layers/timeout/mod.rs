//! Timeout: each request gets a deadline chosen by method and tool (`tools/call` 60 s by default,
//! list fetches shorter, per-tool overrides), which progress notifications extend up to a hard
//! maximum. The deadline travels with the request, so the connector gives up at the same
//! instant (and tells the upstream `notifications/cancelled`); this layer is the backstop for time
//! spent before the connector.

mod deadline;
mod future;

pub use deadline::{Activity, Deadline};

use crate::layers::{BoxError, Call};
use std::collections::HashMap;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// The list methods (fetched by the gateway itself; shorter default).
pub const LIST_METHODS: &[&str] = &[
    "tools/list",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
];

/// Deadlines of one upstream.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Every method not named below (`tools/call` included).
    pub default: Duration,
    /// The list methods.
    pub lists: Duration,
    /// By method name.
    pub methods: HashMap<String, Duration>,
    /// By the upstream's own tool name (`tools/call`).
    pub tools: HashMap<String, Duration>,
    /// How far progress notifications may extend a request, from its start.
    pub max: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default: Duration::from_secs(60),
            lists: Duration::from_secs(15),
            methods: HashMap::new(),
            tools: HashMap::new(),
            max: Duration::from_secs(600),
        }
    }
}

impl Settings {
    /// The timeout of one request: per tool, else per method, else lists or default.
    pub fn for_call(&self, method: &str, tool: Option<&str>) -> Duration {
        if let Some(d) = tool.and_then(|t| self.tools.get(t)) {
            return *d;
        }
        if let Some(d) = self.methods.get(method) {
            return *d;
        }
        if LIST_METHODS.contains(&method) {
            self.lists
        } else {
            self.default
        }
    }
}

/// The layer.
#[derive(Clone)]
pub struct TimeoutLayer {
    settings: Arc<Settings>,
}

impl TimeoutLayer {
    /// Deadlines per `settings`.
    pub fn new(settings: Settings) -> Self {
        TimeoutLayer {
            settings: Arc::new(settings),
        }
    }
}

impl<S> tower::Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            inner,
            settings: self.settings.clone(),
        }
    }
}

/// Gives each request its deadline.
#[derive(Clone)]
pub struct Timeout<S> {
    inner: S,
    settings: Arc<Settings>,
}

impl<S> tower::Service<Call> for Timeout<S>
where
    S: tower::Service<Call>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = future::ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut call: Call) -> Self::Future {
        let timeout = self.settings.for_call(call.method, call.tool.as_deref());
        let deadline = Deadline::extendable(timeout, self.settings.max, call.activity.clone());
        call.deadline = Some(deadline.clone());
        future::ResponseFuture::new(self.inner.call(call), deadline)
    }
}

#[cfg(test)]
mod tests;
