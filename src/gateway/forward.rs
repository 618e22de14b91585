//! Forwarding a client's request upstream, and relaying what the upstream sends in its context
//! (progress, log messages, server-to-client requests) back to that client only.

use super::Gateway;
use crate::jsonrpc::param_headers::{self, Annotation};
use crate::jsonrpc::{self, code, Kind, RpcError};
use crate::layers::timeout::Activity;
use crate::layers::{breaker, concurrency, rate_limit, BoxError, Call, Connect, Fixed};
use crate::session::Session;
use crate::upstream::{Caller, Connection, Reply, Upstream, UpstreamError};
use bytes::Bytes;
use serde_json::value::RawValue;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long a client gets to answer a server-to-client request (a person may be answering).
const CLIENT_ANSWER: Duration = Duration::from_secs(600);

/// The downstream side of one forwarded request (or, without a request, of a session).
pub struct CallContext {
    /// The session the request came from.
    pub session: Arc<Session>,
    /// Messages tied to the request go here (the POST's event stream); `None`: the session stream.
    pub related: Option<mpsc::UnboundedSender<Bytes>>,
    /// The client's own progress token, restored on the way back.
    pub progress: Option<Box<RawValue>>,
    /// Signs of life of the request (they extend its deadline).
    pub activity: Option<Arc<Activity>>,
}

impl CallContext {
    fn touch(&self) {
        if let Some(a) = &self.activity {
            a.touch();
        }
    }

    fn send(&self, msg: Bytes) -> bool {
        match &self.related {
            Some(tx) if tx.send(msg.clone()).is_ok() => true,
            _ => self.session.push(msg),
        }
    }
}

impl Caller for CallContext {
    fn wants_progress(&self) -> bool {
        self.progress.is_some()
    }

    fn ask(
        self: Arc<Self>,
        method: String,
        params: Option<String>,
    ) -> futures::future::BoxFuture<'static, Result<String, RpcError>> {
        Box::pin(async move {
            self.touch(); // the upstream waits for the client: not a hung request
            match self.ask_client(&method, params.as_deref()).await? {
                Ok(result) => Ok(result),
                Err(error) => Err(RpcError::from_raw(&error)),
            }
        })
    }

    fn relay(&self, conn: &Arc<Connection>, buf: Bytes) {
        let Ok(msg) = jsonrpc::parse(&buf) else {
            return;
        };
        match msg.kind() {
            Ok(Kind::Notification {
                method: "notifications/progress",
                params,
            }) => {
                let Some(token) = &self.progress else { return };
                self.touch();
                let p = jsonrpc::set_members(
                    params.map(RawValue::get),
                    &[("progressToken", token.get())],
                );
                self.send(jsonrpc::notification("notifications/progress", Some(&p)));
            }
            Ok(Kind::Notification {
                method: "notifications/message",
                params,
            }) => {
                self.send(tag_log(conn.server(), params));
            }
            Ok(Kind::Notification { method, .. })
                if method.ends_with("/list_changed")
                    || method == "notifications/resources/updated" =>
            {
                self.send(buf.clone());
            }
            Ok(Kind::Notification { method, .. }) => {
                tracing::debug!(server = %conn.server(), method, "dropping an upstream notification the gateway does not relay");
            }
            Ok(Kind::Request { id, method, params }) => {
                self.touch(); // the upstream waits for the client: not a hung request
                let ctx = CallContext {
                    session: self.session.clone(),
                    related: self.related.clone(),
                    progress: None,
                    activity: self.activity.clone(),
                };
                let (conn, up_id, method) =
                    (conn.clone(), id.get().to_string(), method.to_string());
                let params = params.map(|p| p.get().to_string());
                tokio::spawn(async move {
                    ctx.relay_request(&conn, &up_id, &method, params.as_deref())
                        .await
                });
            }
            _ => {}
        }
    }
}

impl CallContext {
    /// Ask the client `method` with an id of ours and wait for its answer: the raw `result`, or
    /// the raw `error` object it sent. `Err`: it could not be asked, or did not answer in time.
    async fn ask_client(
        &self,
        method: &str,
        params: Option<&str>,
    ) -> Result<Result<String, String>, RpcError> {
        let accepts = self
            .session
            .negotiated()
            .map(|n| n.accepts)
            .unwrap_or_default();
        if !accepts.allows(method) {
            return Err(RpcError::new(
                code::METHOD_NOT_FOUND,
                format!("the client of this session does not accept {method:?}"),
            ));
        }
        let (down_id, rx) = self.session.expect_answer();
        if !self.send(jsonrpc::request_with_id(&down_id, method, params)) {
            self.session.forget_answer(&down_id);
            return Err(RpcError::internal(
                "the client has no open stream to receive this request",
            ));
        }
        let Ok(Ok(buf)) = tokio::time::timeout(CLIENT_ANSWER, rx).await else {
            self.session.forget_answer(&down_id);
            return Err(RpcError::new(
                code::REQUEST_TIMEOUT,
                "the client did not answer in time",
            ));
        };
        self.touch();
        match jsonrpc::parse(&buf).ok().and_then(|m| match m.kind() {
            Ok(Kind::Response {
                outcome: jsonrpc::Outcome::Result(r),
                ..
            }) => Some(Ok(r.get().to_string())),
            Ok(Kind::Response {
                outcome: jsonrpc::Outcome::Error(e),
                ..
            }) => Some(Err(e.get().to_string())),
            _ => None,
        }) {
            Some(answer) => Ok(answer),
            None => Err(RpcError::internal("the client's answer was not a response")),
        }
    }

    /// Ask the client what the upstream asked, and carry the answer back under the upstream's id.
    async fn relay_request(
        &self,
        conn: &Arc<Connection>,
        up_id: &str,
        method: &str,
        params: Option<&str>,
    ) {
        let reply = match self.ask_client(method, params).await {
            Ok(Ok(result)) => jsonrpc::response_result(up_id, &result),
            Ok(Err(error)) => jsonrpc::response_error_raw(up_id, &error),
            Err(e) => jsonrpc::error_message(Some(up_id), &e),
        };
        if let Err(e) = conn.send_message(reply).await {
            tracing::warn!(server = %conn.server(), error = %e, "cannot return the client's answer upstream");
        }
    }
}

/// A `notifications/message` with the server's name in `logger`.
pub fn tag_log(server: &str, params: Option<&RawValue>) -> Bytes {
    let logger = jsonrpc::str_member(params, "logger")
        .map_or_else(|| server.to_string(), |l| format!("{server}/{l}"));
    let logger = serde_json::to_string(&logger).expect("a string serializes");
    let p = jsonrpc::set_members(params.map(RawValue::get), &[("logger", &logger)]);
    jsonrpc::notification("notifications/message", Some(&p))
}

impl Gateway {
    /// The connection a session's request to `up` goes to: shared, or the session's own.
    pub(super) async fn connection_for(
        &self,
        session: &Arc<Session>,
        up: &Upstream,
    ) -> Result<Arc<Connection>, UpstreamError> {
        if !up.per_session() {
            return up.connection();
        }
        if let Some(c) = session.private_connection(up.index) {
            return Ok(c);
        }
        let _one_at_a_time = session.opening.lock().await;
        if let Some(c) = session.private_connection(up.index) {
            return Ok(c); // opened while we waited
        }
        let caps = session
            .negotiated()
            .map_or("{}", |n| n.capabilities.as_str())
            .to_string();
        let owner = Arc::new(CallContext {
            session: session.clone(),
            related: None,
            progress: None,
            activity: None,
        });
        let conn = up.open_private(&caps, owner).await?;
        tracing::info!(server = %up.spec.name, session = %session.id, "opened a per-session upstream connection");
        session.private.insert(up.index, conn.clone());
        Ok(conn)
    }

    /// Forward a request along `route`; the answer carries the client's id `id`. The client may
    /// cancel it (`notifications/cancelled`) while it is in flight.
    pub(super) async fn forward(
        &self,
        session: &Arc<Session>,
        related: Option<mpsc::UnboundedSender<Bytes>>,
        id: &str,
        method: &'static str,
        route: Route,
    ) -> Bytes {
        let up = &self.pool.all()[route.server];
        let name = &up.spec.name;
        let span = tracing::Span::current();
        span.record("server", &**name);
        if let Some(t) = &route.tool {
            span.record("tool", &**t);
        }
        let target: Arc<dyn Connect> = if up.per_session() {
            match self.connection_for(session, up).await {
                Ok(c) => Arc::new(Fixed(c)),
                Err(e) => {
                    return jsonrpc::error_message(Some(id), &upstream_error(name, method, e))
                }
            }
        } else {
            up.clone()
        };
        let activity = Activity::new();
        let param_headers = Some(route.mirrored())
            .filter(|h| !h.is_empty())
            .map(Arc::new);
        let ctx = Arc::new(CallContext {
            session: session.clone(),
            related,
            progress: jsonrpc::progress_token(&route.params),
            activity: Some(activity.clone()),
        });
        let call = Call {
            target,
            method,
            tool: route.tool,
            params: Arc::new(route.params),
            caller: Some(ctx),
            cancel: session.begin(id),
            client: session.client(),
            activity,
            deadline: None,
            retry_safe: route.retry_safe,
            param_headers,
        };
        let outcome = up.stack.call(call).await;
        session.end(id);
        match outcome {
            Ok(reply) => {
                tracing::debug!(error = reply.is_error(), "upstream answered");
                splice(id, &reply)
            }
            Err(e) => {
                let err = layer_error(name, method, up.stack.max_in_flight(), e);
                tracing::warn!(code = err.code, error = %err.message, "request failed");
                jsonrpc::error_message(Some(id), &err)
            }
        }
    }
}

/// Where a request goes: which upstream, with which params (original names restored), and what
/// the layers need to know about it.
pub struct Route {
    /// Index of the upstream.
    pub server: usize,
    /// Params as the upstream expects them.
    pub params: String,
    /// The upstream's own tool name (`tools/call`).
    pub tool: Option<Arc<str>>,
    /// Whether sending it twice is harmless.
    pub retry_safe: bool,
    /// The tool's `x-mcp-header` annotations.
    pub param_headers: Arc<[Annotation]>,
}

impl Route {
    /// A route for a method that only reads (`resources/read`, `prompts/get`, `completion/complete`).
    pub fn read(server: usize, params: String) -> Route {
        Route {
            server,
            params,
            tool: None,
            retry_safe: true,
            param_headers: Arc::new([]),
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

impl Gateway {
    /// A `tools/call` made by the gateway itself (`/route`), answered as a whole message.
    pub async fn forward_call(&self, session: &Arc<Session>, server: usize, params: &str) -> Bytes {
        let tool: Option<Arc<str>> = jsonrpc::view(params).name.map(|n| Arc::from(n.as_ref()));
        let catalog = self.catalog();
        let known = tool
            .as_deref()
            .and_then(|t| catalog.tool_by_original(server, t));
        let route = Route {
            server,
            params: params.to_string(),
            retry_safe: known.is_some_and(|t| t.retry_safe),
            param_headers: known.map_or_else(|| Arc::from([]), |t| t.param_headers.clone()),
            tool,
        };
        self.forward(session, None, "\"route\"", "tools/call", route)
            .await
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

/// A failure from the layer stack as the client sees it: which server, what happened, and for a
/// refusal, when to try again (`data.retry_after_ms`).
fn layer_error(server: &str, method: &str, max_in_flight: usize, e: BoxError) -> RpcError {
    let e = match e.downcast::<UpstreamError>() {
        Ok(up) => return upstream_error(server, method, *up),
        Err(e) => e,
    };
    if let Some(open) = e.downcast_ref::<breaker::Open>() {
        RpcError::new(code::INTERNAL_ERROR, open.to_string()).with_data(serde_json::json!({
            "server": server, "reason": "circuit_open",
            "retry_after_ms": open.retry_in.as_millis() as u64,
        }))
    } else if let Some(l) = e.downcast_ref::<rate_limit::Limited>() {
        RpcError::new(code::RATE_LIMITED, l.to_string()).with_data(serde_json::json!({
            "server": server, "reason": "rate_limited", "scope": l.scope.as_str(),
            "retry_after_ms": l.retry_in.as_millis().max(1) as u64,
        }))
    } else if e.is::<concurrency::Overloaded>() {
        let saturated = concurrency::Saturated {
            server: server.into(),
            max: max_in_flight,
        };
        RpcError::new(code::RATE_LIMITED, saturated.to_string())
            .with_data(serde_json::json!({ "server": server, "reason": "overloaded" }))
    } else {
        RpcError::internal(format!(
            "upstream server {server:?} failed on {method}: {e}"
        ))
    }
}

/// An upstream failure as the client sees it: which server, which method, what happened.
pub fn upstream_error(server: &str, method: &str, e: UpstreamError) -> RpcError {
    let code = match e {
        UpstreamError::Timeout(_) => code::REQUEST_TIMEOUT,
        _ => code::INTERNAL_ERROR,
    };
    RpcError::new(
        code,
        format!("upstream server {server:?} failed on {method}: {e}"),
    )
    .with_data(serde_json::json!({ "server": server }))
}
