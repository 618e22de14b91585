//! Every way a request can fail, and what each one means, decided in one place.
//!
//! A [`Failure`] is a [`Kind`] plus a message that names the problem. [`Kind::class`] is the one
//! table that says whose fault it is, whether the upstream may have seen the request, whether
//! sending it again may help, what it tells the circuit breaker, which metric outcome it is, and
//! which JSON-RPC code and HTTP status the client gets. The layers, the faces and the README's
//! error table ([`table`]) all read that table; nothing else matches on failures.

use crate::jsonrpc::{code, RpcError};
use serde_json::{Map, Value};
use std::time::Duration;

/// Whose fault a failure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The client sent something wrong, or gave up.
    Client,
    /// The upstream server failed (or the network to it).
    Upstream,
    /// The gateway refused or could not do it.
    Gateway,
}

/// What a finished request says about the upstream's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It answered (a tool's own error or a JSON-RPC error is still an answer).
    Healthy,
    /// An upstream fault: timeout, transport error, crash.
    Fault,
    /// Says nothing about the upstream (the client cancelled, the gateway refused...).
    Neutral,
}

/// What a kind of failure means, for every part of the gateway that acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Class {
    /// Whose fault.
    pub origin: Origin,
    /// The upstream may have seen the request (so sending it again may run it twice).
    pub reached: bool,
    /// Sending it again may succeed (a restarted process, a re-established connection).
    pub retry: bool,
    /// What it tells the circuit breaker.
    pub verdict: Verdict,
    /// `switchboard_requests_total{outcome}`.
    pub outcome: &'static str,
    /// The JSON-RPC error code the client gets.
    pub code: i64,
    /// The HTTP status of an answer that is this failure alone: a refusal before the request
    /// reaches the gateway core, or any answer on the 2026-07-28 face. (A session's request that
    /// reached the core is answered `200` with the JSON-RPC error, as streamable HTTP says.)
    pub status: u16,
}

macro_rules! kinds {
    ($($(#[doc = $doc:literal])* $kind:ident => $reason:literal, $origin:ident, $reached:literal,
       $retry:literal, $verdict:ident, $outcome:literal, $code:expr, $status:literal;)*) => {
        /// The kinds of failure. Each row of [`Kind::class`] is documented with what it means.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Kind {
            $($(#[doc = $doc])* $kind,)*
        }

        impl Kind {
            /// Every kind, in table order.
            pub const ALL: &'static [Kind] = &[$(Kind::$kind,)*];

            /// The one classification of this kind.
            pub const fn class(self) -> Class {
                match self {
                    $(Kind::$kind => Class {
                        origin: Origin::$origin,
                        reached: $reached,
                        retry: $retry,
                        verdict: Verdict::$verdict,
                        outcome: $outcome,
                        code: $code,
                        status: $status,
                    },)*
                }
            }

            /// Its name in `data.reason` and in the README's table.
            pub const fn reason(self) -> &'static str {
                match self { $(Kind::$kind => $reason,)* }
            }

            /// What it means, in a sentence (the README's table).
            pub fn meaning(self) -> &'static str {
                match self { $(Kind::$kind => concat!($($doc),*).trim_ascii(),)* }
            }
        }
    };
}

kinds! {
    // The canonical client kinds come first: an upstream's own error code is given the status of
    // the first kind with that code (see `status_of_code`).
    /// The body is not JSON.
    Parse => "parse_error", Client, false, false, Neutral, "invalid", code::PARSE_ERROR, 400;
    /// JSON, but not a JSON-RPC message MCP accepts (a batch, a null id, a missing method).
    InvalidRequest => "invalid_request", Client, false, false, Neutral, "invalid", code::INVALID_REQUEST, 400;
    /// No such method, or one the protocol revision removed.
    MethodNotFound => "method_not_found", Client, false, false, Neutral, "invalid", code::METHOD_NOT_FOUND, 404;
    /// Bad params: a missing member, an unknown tool or prompt, a bad cursor.
    InvalidParams => "invalid_params", Client, false, false, Neutral, "invalid", code::INVALID_PARAMS, 400;
    /// A 2026-07-28 request's headers disagree with its body.
    HeaderMismatch => "header_mismatch", Client, false, false, Neutral, "invalid", code::HEADER_MISMATCH, 400;
    /// The request needs a client capability the client did not declare.
    MissingCapability => "missing_capability", Client, false, false, Neutral, "invalid", code::MISSING_CLIENT_CAPABILITY, 400;
    /// A protocol version the gateway does not speak (the data lists those it does).
    UnsupportedVersion => "unsupported_version", Client, false, false, Neutral, "invalid", code::UNSUPPORTED_PROTOCOL_VERSION, 400;
    /// A resource URI no configured server owns.
    ResourceNotFound => "resource_not_found", Client, false, false, Neutral, "invalid", code::RESOURCE_NOT_FOUND, 200;
    /// A request of the `initialize` generation without `Mcp-Session-Id`.
    MissingSession => "missing_session", Client, false, false, Neutral, "invalid", code::INVALID_REQUEST, 400;
    /// An unknown or ended session (the client initializes again).
    UnknownSession => "unknown_session", Client, false, false, Neutral, "invalid", code::INVALID_REQUEST, 404;
    /// A path naming no configured `[endpoints.NAME]` (or the plain aggregate, when
    /// `gateway.aggregate = false`).
    UnknownEndpoint => "unknown_endpoint", Client, false, false, Neutral, "invalid", code::INVALID_REQUEST, 404;
    /// `Origin` or `Host` not allowed (cross-site requests, DNS rebinding).
    Forbidden => "forbidden", Client, false, false, Neutral, "invalid", code::INVALID_REQUEST, 403;
    /// No credentials, or credentials that do not verify (401 with `WWW-Authenticate`).
    Unauthenticated => "unauthenticated", Client, false, false, Neutral, "denied", code::UNAUTHENTICATED, 401;
    /// A valid token without a scope the gateway requires (403 `insufficient_scope`).
    InsufficientScope => "insufficient_scope", Client, false, false, Neutral, "denied", code::POLICY_DENIED, 403;
    /// Policy does not let this caller see or call it (an admin endpoint without an admin role too).
    PolicyDenied => "policy_denied", Client, false, false, Neutral, "denied", code::POLICY_DENIED, 403;
    /// `Accept` allows neither JSON nor an event stream.
    NotAcceptable => "not_acceptable", Client, false, false, Neutral, "invalid", code::INVALID_REQUEST, 406;
    /// `Content-Type` is not JSON.
    UnsupportedMediaType => "unsupported_media_type", Client, false, false, Neutral, "invalid", code::INVALID_REQUEST, 415;
    /// The body is over `gateway.max_body_bytes`.
    TooLarge => "too_large", Client, false, false, Neutral, "invalid", code::INVALID_REQUEST, 413;
    /// The body went silent for `gateway.body_read_timeout`.
    BodyTimeout => "body_timeout", Client, false, false, Neutral, "invalid", code::INVALID_REQUEST, 408;
    /// The body could not be read (a malformed chunked encoding, a connection cut mid-body).
    BadBody => "bad_body", Client, false, false, Neutral, "invalid", code::INVALID_REQUEST, 400;
    /// A prompt over `router.max_prompt_bytes` (`/analyze`, `/route`).
    PromptTooLong => "prompt_too_long", Client, false, false, Neutral, "invalid", code::INVALID_PARAMS, 413;
    /// GET or DELETE where only POST is served.
    MethodNotAllowed => "method_not_allowed", Client, false, false, Neutral, "invalid", code::INVALID_REQUEST, 405;
    /// A second GET stream for a session that has one.
    StreamConflict => "stream_conflict", Client, false, false, Neutral, "invalid", code::INVALID_REQUEST, 409;
    /// The client cancelled the request.
    Cancelled => "cancelled", Client, true, false, Neutral, "cancelled", code::REQUEST_CANCELLED, 200;
    /// The client's own rate limit refused the request (`data.retry_after_ms`).
    ClientRateLimited => "client_rate_limited", Client, false, false, Neutral, "rate_limited", code::RATE_LIMITED, 200;
    /// A server-to-client request could not reach the client (no open stream, no capability, no answer in time).
    ClientUnreachable => "client_unreachable", Client, false, false, Neutral, "invalid", code::CLIENT_UNREACHABLE, 200;
    /// The upstream did not answer within the request's deadline (`notifications/cancelled` was sent).
    UpstreamTimeout => "upstream_timeout", Upstream, true, false, Fault, "timeout", code::REQUEST_TIMEOUT, 200;
    /// The upstream's connection was lost while the request was in flight (the process exited, the stream ended).
    UpstreamCrashed => "upstream_crashed", Upstream, true, true, Fault, "upstream_error", code::UPSTREAM_CRASHED, 200;
    /// The network or HTTP exchange with the upstream failed.
    UpstreamTransport => "upstream_transport", Upstream, true, true, Fault, "upstream_error", code::UPSTREAM_TRANSPORT, 200;
    /// The upstream broke the protocol (a bad handshake, a bad list, an answer that is not JSON-RPC).
    UpstreamProtocol => "upstream_protocol", Upstream, true, false, Fault, "upstream_error", code::UPSTREAM_PROTOCOL, 200;
    /// The upstream's HTTP session expired; the connection initializes again and resends.
    SessionExpired => "session_expired", Upstream, true, true, Neutral, "upstream_error", code::UPSTREAM_TRANSPORT, 200;
    /// The upstream is not connected: still starting, restarting after a crash, or failed to start.
    UpstreamUnavailable => "upstream_unavailable", Upstream, false, true, Neutral, "unavailable", code::UPSTREAM_UNAVAILABLE, 200;
    /// The upstream's circuit breaker is open after repeated faults (`data.retry_after_ms`).
    CircuitOpen => "circuit_open", Gateway, false, false, Neutral, "circuit_open", code::CIRCUIT_OPEN, 200;
    /// The upstream's rate limit refused the request (`data.retry_after_ms`).
    RateLimited => "rate_limited", Gateway, false, false, Neutral, "rate_limited", code::RATE_LIMITED, 200;
    /// The upstream already has `max_concurrent` requests in flight, or `max_per_session_children` per-session connections.
    Overloaded => "overloaded", Gateway, false, false, Neutral, "overloaded", code::RATE_LIMITED, 200;
    /// A shared (`[cluster]`) rate limit could not be checked: the store is down and
    /// `cluster.fail_open = false` (`data.retry_after_ms`).
    StoreUnavailable => "store_unavailable", Gateway, false, false, Neutral, "unavailable", code::RATE_LIMITED, 200;
    /// `gateway.max_connections` client connections are open already.
    ConnectionLimit => "connection_limit", Gateway, false, false, Neutral, "overloaded", code::RATE_LIMITED, 503;
    /// The replica that owns the session (`[cluster]`) went away while answering this request
    /// (forwarded there); the request may or may not have been carried out.
    ReplicaLost => "replica_lost", Gateway, false, false, Neutral, "unavailable", code::UPSTREAM_UNAVAILABLE, 502;
    /// `gateway.max_sessions` sessions are live and none is idle enough to end.
    SessionLimit => "session_limit", Gateway, false, false, Neutral, "overloaded", code::RATE_LIMITED, 503;
    /// The deadline passed before the request reached the upstream (the gateway's own timeout).
    Elapsed => "elapsed", Gateway, false, false, Neutral, "timeout", code::REQUEST_TIMEOUT, 200;
    /// Something the gateway does not support (yet), named in the message.
    Unsupported => "unsupported", Gateway, false, false, Neutral, "unsupported", code::UNSUPPORTED, 200;
    /// A tool whose definition changed since it was pinned (or a new one) awaits approval.
    ToolHeld => "tool_held", Gateway, false, false, Neutral, "denied", code::TOOL_HELD, 403;
    /// A fault of the gateway itself.
    Internal => "internal", Gateway, false, false, Neutral, "internal", code::INTERNAL_ERROR, 200;
}

/// One failure: what kind, a message naming the problem, and structured detail (`data`).
/// Boxed: failures are rare, and a small `Err` keeps every `Result` on the request path small.
#[derive(Debug, Clone)]
pub struct Failure(Box<Inner>);

#[derive(Debug, Clone)]
struct Inner {
    kind: Kind,
    message: String,
    data: Map<String, Value>,
    incident: Option<u64>,
}

impl Failure {
    /// A failure of `kind`.
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Failure(Box::new(Inner {
            kind,
            message: message.into(),
            data: Map::new(),
            incident: None,
        }))
    }

    /// Add a member to the `data` the client gets.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.data.insert(key.to_string(), value.into());
        self
    }

    /// Say when a refused request may be tried again (`data.retry_after_ms`).
    pub fn retry_after(self, wait: Duration) -> Self {
        let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
        self.with("retry_after_ms", ms)
    }

    /// Mark the failure as one of the failures a single event caused (one crash fails every
    /// request in flight; the breaker counts it once).
    pub fn in_incident(mut self, incident: u64) -> Self {
        self.0.incident = Some(incident);
        self
    }

    /// The kind.
    pub fn kind(&self) -> Kind {
        self.0.kind
    }

    /// What it means (see [`Kind::class`]).
    pub fn class(&self) -> Class {
        self.0.kind.class()
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// A `data` member.
    pub fn data(&self, key: &str) -> Option<&Value> {
        self.0.data.get(key)
    }

    /// The event it belongs to, if several requests failed of one cause.
    pub fn incident(&self) -> Option<u64> {
        self.0.incident
    }

    /// Prefix the message (`upstream server "x" failed on tools/call: ...`).
    pub fn context(mut self, prefix: impl std::fmt::Display) -> Self {
        self.0.message = format!("{prefix}: {}", self.0.message);
        self
    }

    /// The JSON-RPC error the client gets: the class's code, the message, and `data` with the
    /// kind's `reason` and the detail.
    pub fn to_rpc(&self) -> RpcError {
        let mut data = self.0.data.clone();
        data.insert("reason".into(), Value::from(self.0.kind.reason()));
        RpcError::new(self.class().code, self.0.message.clone()).with_data(Value::Object(data))
    }

    /// -32602 with a message.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(Kind::InvalidParams, message)
    }

    /// -32601 naming the method.
    pub fn method_not_found(method: &str) -> Self {
        Self::new(
            Kind::MethodNotFound,
            format!("method not found: {method:?} is not offered by this gateway"),
        )
    }

    /// A fault of the gateway itself.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Kind::Internal, message)
    }

    /// The upstream is not connected, and why.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(Kind::UpstreamUnavailable, message)
    }

    /// The connection is closed (shutting down, or after a failure).
    pub fn closed() -> Self {
        Self::new(Kind::UpstreamCrashed, "connection closed")
    }

    /// The client cancelled.
    pub fn cancelled() -> Self {
        Self::new(Kind::Cancelled, "cancelled by the client")
    }

    /// The upstream did not answer within `after`.
    pub fn timeout(after: Duration) -> Self {
        Self::new(Kind::UpstreamTimeout, format!("no answer within {after:?}"))
    }

    /// The upstream broke the protocol.
    pub fn protocol(message: impl std::fmt::Display) -> Self {
        Self::new(Kind::UpstreamProtocol, format!("protocol error: {message}"))
    }

    /// The network or HTTP exchange failed.
    pub fn transport(message: impl std::fmt::Display) -> Self {
        Self::new(
            Kind::UpstreamTransport,
            format!("transport error: {message}"),
        )
    }

    /// The upstream answered a request with HTTP `status` and no JSON-RPC answer.
    pub fn http_status(status: u16, body: &str) -> Self {
        Self::transport(format!("HTTP {status}: {body}")).with("http_status", status)
    }

    /// The HTTP status of [`Failure::http_status`], if this is one.
    pub fn status(&self) -> Option<u16> {
        self.data("http_status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
    }

    /// The upstream's connection was lost (the process exited, the stream ended).
    pub fn crashed(message: impl Into<String>) -> Self {
        Self::new(Kind::UpstreamCrashed, message)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for Failure {}

/// What tower's own layers report, as failures: load shedding is [`Kind::Overloaded`], tower's
/// timeout is [`Kind::Elapsed`]; a boxed [`Failure`] is itself.
impl From<Box<dyn std::error::Error + Send + Sync>> for Failure {
    fn from(e: Box<dyn std::error::Error + Send + Sync>) -> Self {
        match e.downcast::<Failure>() {
            Ok(f) => *f,
            Err(e) if e.is::<tower::load_shed::error::Overloaded>() => {
                Failure::new(Kind::Overloaded, "overloaded")
            }
            Err(e) if e.is::<tower::timeout::error::Elapsed>() => {
                Failure::new(Kind::Elapsed, "the deadline passed")
            }
            Err(e) => Failure::internal(e.to_string()),
        }
    }
}

/// A message that is not JSON ([`Kind::Parse`]) or not a JSON-RPC message MCP accepts
/// ([`Kind::InvalidRequest`]).
impl From<crate::jsonrpc::ParseError> for Failure {
    fn from(e: crate::jsonrpc::ParseError) -> Self {
        let kind = match e.code() {
            code::PARSE_ERROR => Kind::Parse,
            _ => Kind::InvalidRequest,
        };
        Failure::new(kind, e.to_string())
    }
}

/// The HTTP status of a JSON-RPC error answer with `code` on the 2026-07-28 face: the status of
/// the first kind with that code (the client kinds lead the table), else `200`.
pub fn status_of_code(code: i64) -> u16 {
    Kind::ALL
        .iter()
        .map(|k| k.class())
        .find(|c| c.code == code)
        .map_or(200, |c| c.status)
}

/// The README's error table, derived from [`Kind::class`].
pub fn table() -> String {
    let mut out = String::from(
        "| failure (`data.reason`) | whose | reached upstream | retried | breaker | metric outcome | code | HTTP | meaning |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for &k in Kind::ALL {
        let c = k.class();
        let yes = |b: bool| if b { "yes" } else { "no" };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            k.reason(),
            format!("{:?}", c.origin).to_lowercase(),
            yes(c.reached),
            match (c.retry, c.reached) {
                (false, _) => "no",
                (true, false) => "yes",
                (true, true) => "if safe",
            },
            format!("{:?}", c.verdict).to_lowercase(),
            c.outcome,
            c.code,
            c.status,
            k.meaning(),
        ));
    }
    out
}

#[cfg(test)]
#[path = "failure_tests.rs"]
mod tests;
