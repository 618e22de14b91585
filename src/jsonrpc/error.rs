//! JSON-RPC error codes and the gateway's own error value.

use serde_json::value::RawValue;

/// Error codes used on the wire.
pub mod code {
    /// Invalid JSON.
    pub const PARSE_ERROR: i64 = -32700;
    /// Not a valid JSON-RPC request.
    pub const INVALID_REQUEST: i64 = -32600;
    /// Method does not exist or is not offered.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Invalid method parameters (also: unknown tool, bad cursor).
    pub const INVALID_PARAMS: i64 = -32602;
    /// Internal error (a fault of the gateway itself).
    pub const INTERNAL_ERROR: i64 = -32603;
    /// The request timed out (as the TypeScript and Python SDKs use it).
    pub const REQUEST_TIMEOUT: i64 = -32001;
    /// Resource not found (MCP, up to 2025-11-25).
    pub const RESOURCE_NOT_FOUND: i64 = -32002;
    /// Refused by a rate or concurrency limit; `data.retry_after_ms` says when to try again
    /// (implementation-defined server error range).
    pub const RATE_LIMITED: i64 = -32029;
    /// HTTP headers do not match the body (MCP 2026-07-28).
    pub const HEADER_MISMATCH: i64 = -32020;
    /// The request needs a client capability the client did not declare (MCP 2026-07-28).
    pub const MISSING_CLIENT_CAPABILITY: i64 = -32021;
    /// Unsupported protocol version (MCP 2026-07-28).
    pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
    /// The client cancelled the request (the code LSP uses for the same).
    pub const REQUEST_CANCELLED: i64 = -32800;
    /// The gateway's own codes, in the implementation-defined server error range.
    /// The upstream's connection was lost while the request was in flight.
    pub const UPSTREAM_CRASHED: i64 = -32030;
    /// The upstream is not connected (starting, restarting, failed to start).
    pub const UPSTREAM_UNAVAILABLE: i64 = -32031;
    /// The upstream's circuit breaker is open.
    pub const CIRCUIT_OPEN: i64 = -32032;
    /// Not supported by the gateway.
    pub const UNSUPPORTED: i64 = -32033;
    /// The upstream broke the protocol.
    pub const UPSTREAM_PROTOCOL: i64 = -32034;
    /// The network or HTTP exchange with the upstream failed.
    pub const UPSTREAM_TRANSPORT: i64 = -32035;
    /// A server-to-client request could not reach the client.
    pub const CLIENT_UNREACHABLE: i64 = -32036;
    /// No valid credentials (the HTTP answer is 401 with `WWW-Authenticate`).
    pub const UNAUTHENTICATED: i64 = -32040;
    /// Authenticated, but policy or a missing scope or role forbids it.
    pub const POLICY_DENIED: i64 = -32041;
    /// The tool's definition changed (or is new) since it was pinned, and awaits approval.
    pub const TOOL_HELD: i64 = -32042;
}

/// An error the gateway answers with: code, message and optional raw `data`.
#[derive(Debug, Clone)]
pub struct RpcError {
    /// JSON-RPC code.
    pub code: i64,
    /// Human-readable message that names the problem.
    pub message: String,
    /// Optional structured detail.
    pub data: Option<Box<RawValue>>,
}

impl RpcError {
    /// An error without data.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Attach structured data.
    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.data = serde_json::value::to_raw_value(&data).ok();
        self
    }

    /// An error object as a peer sent it (`{"code":..,"message":..,"data":..}`); a malformed one
    /// becomes an internal error quoting it.
    pub fn from_raw(raw: &str) -> Self {
        #[derive(serde::Deserialize)]
        struct Wire {
            code: i64,
            message: String,
            data: Option<Box<RawValue>>,
        }
        match serde_json::from_str::<Wire>(raw) {
            Ok(w) => RpcError {
                code: w.code,
                message: w.message,
                data: w.data,
            },
            Err(_) => Self::internal(format!("malformed error object: {raw}")),
        }
    }

    /// -32601 naming the method.
    pub fn method_not_found(method: &str) -> Self {
        Self::new(
            code::METHOD_NOT_FOUND,
            format!("method not found: {method:?} is not offered by this gateway"),
        )
    }

    /// -32602 with a message.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(code::INVALID_PARAMS, message)
    }

    /// -32603 with a message.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(code::INTERNAL_ERROR, message)
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for RpcError {}
