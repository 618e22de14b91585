//! HTTP responses of the `/mcp` face: JSON-RPC bodies with the right status.

use crate::jsonrpc::{self, code, RpcError};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

/// A request turned away before it reached the gateway: an HTTP status and a JSON-RPC error
/// body that says why (`id` is echoed when the request's id is known).
#[derive(Debug)]
pub struct Rejection {
    status: StatusCode,
    error: RpcError,
    id: Option<String>,
}

impl Rejection {
    /// A transport-level rejection: the HTTP status says what; the body is -32600 with the reason.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Rejection {
            status,
            error: RpcError::new(code::INVALID_REQUEST, message),
            id: None,
        }
    }

    /// A rejection carrying a specific JSON-RPC error.
    pub fn rpc(status: StatusCode, error: RpcError) -> Self {
        Rejection {
            status,
            error,
            id: None,
        }
    }

    /// Echo the request's id.
    pub fn with_id(mut self, id: Option<&str>) -> Self {
        self.id = id.map(str::to_string);
        self
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let body = jsonrpc::error_message(self.id.as_deref(), &self.error);
        json(self.status, body)
    }
}

/// A JSON body.
pub fn json(status: StatusCode, body: Bytes) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// An event stream of JSON-RPC messages (`event: message`), kept alive while it is open.
pub fn sse(messages: impl futures::Stream<Item = Bytes> + Send + 'static) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use futures::StreamExt;
    let events = messages.map(|m| {
        Ok::<_, std::convert::Infallible>(
            Event::default()
                .event("message")
                .data(String::from_utf8_lossy(&m)),
        )
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}
