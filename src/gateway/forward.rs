//! Forwarding a client's request through its upstream's layer stack, on the shared connection or
//! the client's own (`isolation = "per-session"`).

use super::access::Audited;
use super::relay::CallContext;
use super::{recent, Client, Gateway, Handle, Related};
use crate::call::{Activity, Call, Failure, Kind, Origin, Reply};
use crate::jsonrpc;
use crate::jsonrpc::param_headers::{self, Annotation};
use crate::upstream::{Connection, Fixed, Target};
use bytes::Bytes;
use std::sync::Arc;
use tracing::Instrument;

/// Where a request goes: which upstream, with which params (original names restored), and what
/// the layers need to know about it.
pub struct Route {
    /// Index of the upstream.
    pub server: usize,
    /// Params as the upstream expects them.
    pub params: String,
    /// The upstream's own tool name (`tools/call`).
    pub tool: Option<Arc<str>>,
    /// The tool's exposed name (`tools/call`).
    pub exposed: Option<Arc<str>>,
    /// Whether sending it twice is harmless.
    pub retry_safe: bool,
    /// The tool's `x-mcp-header` annotations.
    pub param_headers: Arc<[Annotation]>,
    /// What the audit line of this call says, when there is an audit log.
    pub audited: Option<Audited>,
}

impl Route {
    /// A route for a method that only reads (`resources/read`, `prompts/get`, `completion/complete`).
    pub fn read((server, params): (usize, String)) -> Route {
        Route {
            server,
            params,
            tool: None,
            exposed: None,
            retry_safe: true,
            param_headers: Arc::new([]),
            audited: None,
        }
    }

    /// The `Mcp-Param-*` headers this call carries to a 2026-07-28 HTTP upstream.
    fn mirrored(&self) -> Vec<(String, String)> {
        if self.param_headers.is_empty() {
            return Vec::new();
        }
        let arguments = jsonrpc::member(Some(&self.params), "arguments")
            .and_then(|a| serde_json::from_str::<serde_json::Value>(a.get()).ok())
            .unwrap_or_default();
        param_headers::mirror(&self.param_headers, &arguments)
    }
}

/// A failure of a forwarded request as the client hears it: an upstream's fault says which
/// server failed on which method; every failure names the server in `data`.
pub fn failed(server: &str, method: &str, f: Failure) -> Failure {
    let f = match f.class().origin {
        Origin::Upstream => f.context(format_args!(
            "upstream server {server:?} failed on {method}"
        )),
        _ => f,
    };
    f.with("server", server)
}

impl Gateway {
    /// The connection a client's request to `up` goes to: shared, or the client's own.
    async fn connection_for(&self, client: &Arc<Client>, up: &Handle) -> Result<Target, Failure> {
        if !up.per_session() {
            return Ok(up.upstream.clone());
        }
        if let Some(c) = client.private_connection(up.serial) {
            return Ok(Arc::new(Fixed(c)));
        }
        let _one_at_a_time = client.opening.lock().await;
        if let Some(c) = client.private_connection(up.serial) {
            return Ok(Arc::new(Fixed(c))); // opened while we waited
        }
        let Some(slot) = up.per_session.take(up.serial, client).await else {
            return Err(Failure::new(
                Kind::Overloaded,
                format!(
                    "upstream {:?} already has {} per-session connections, all in use (its max_per_session_children)",
                    up.spec.name, up.spec.max_per_session_children
                ),
            ));
        };
        let caps = client
            .negotiated()
            .map_or("{}", |n| n.capabilities.as_str())
            .to_string();
        let owner = Arc::new(CallContext::of_client(
            client.clone(),
            self.config().gateway.client_answer_timeout,
        ));
        let conn: Arc<Connection> = up.open_private(&caps, owner).await?;
        tracing::info!(server = %up.spec.name, client = %client.id, "opened a per-session upstream connection");
        client.keep_private(up.serial, conn.clone(), slot);
        Ok(Arc::new(Fixed(conn)))
    }

    /// Forward a request along `route` (an upstream of `view`); the answer carries the client's
    /// id `id`. The client may cancel it (`notifications/cancelled`) while it is in flight.
    /// Holding the view holds its upstream: a reload that retires it waits for this call.
    pub(super) async fn forward(
        &self,
        view: &super::View,
        client: &Arc<Client>,
        related: Option<Related>,
        id: &str,
        method: &'static str,
        route: Route,
    ) -> Bytes {
        let up = &view.pool.all()[route.server];
        let name = &up.spec.name;
        let span = tracing::Span::current();
        span.record("server", &**name);
        if let Some(t) = &route.tool {
            span.record("tool", &**t);
        }
        let target = match self.connection_for(client, up).await {
            Ok(t) => t,
            Err(e) => return jsonrpc::error_message(Some(id), &failed(name, method, e).to_rpc()),
        };
        let activity = Activity::new();
        let param_headers = Some(route.mirrored())
            .filter(|h| !h.is_empty())
            .map(Arc::new);
        let ctx = Arc::new(CallContext {
            client: client.clone(),
            related,
            progress: jsonrpc::progress_token(&route.params),
            activity: Some(activity.clone()),
            answer_within: self.config().gateway.client_answer_timeout,
        });
        let call = Call {
            target,
            method,
            tool: route.tool,
            params: Arc::new(route.params),
            caller: Some(ctx),
            cancel: client.begin(id),
            client: client.key(),
            activity,
            deadline: None,
            retry_safe: route.retry_safe,
            param_headers,
        };
        let started = tokio::time::Instant::now();
        let upstream = crate::observe::trace::upstream(name, method);
        let outcome = up.stack.call(call).instrument(upstream).await;
        client.end(id);
        let took = started.elapsed();
        if let Some(a) = &route.audited {
            let result = crate::layers::metrics::outcome(&outcome);
            self.audit_call(client, name, a, result, took);
        }
        let (answer, outcome, error) = settle(&client.id, id, name, method, outcome);
        self.recent.push(recent::Entry {
            at: 0.0,
            method: method.into(),
            name: route.exposed.clone(),
            server: Some(name.clone()),
            outcome,
            latency_ms: took.as_secs_f64() * 1e3,
            error,
        });
        answer
    }
}

/// The answer to the client (under its id `id`) of a call to `server` that ended with
/// `outcome`, logged (the line names the session and request itself: the request's span is
/// recorded only inside a trace or at `debug`), and what the recent requests say of it.
fn settle(
    session: &str,
    id: &str,
    server: &str,
    method: &str,
    outcome: Result<Reply, Failure>,
) -> (Bytes, &'static str, Option<String>) {
    match outcome {
        Ok(reply) => {
            tracing::debug!(error = reply.is_error(), "upstream answered");
            let outcome = if reply.is_error() {
                "upstream_error"
            } else {
                "ok"
            };
            (splice(id, &reply), outcome, None)
        }
        Err(e) => {
            let e = failed(server, method, e);
            tracing::warn!(session, id, server, method, reason = e.kind().reason(), error = %e, "request failed");
            let answer = jsonrpc::error_message(Some(id), &e.to_rpc());
            (answer, e.kind().reason(), Some(e.to_string()))
        }
    }
}

/// The upstream's answer under the client's id.
fn splice(id: &str, reply: &Reply) -> Bytes {
    if reply.is_error() {
        jsonrpc::response_error_raw(id, reply.payload())
    } else {
        jsonrpc::response_result(id, reply.payload())
    }
}
