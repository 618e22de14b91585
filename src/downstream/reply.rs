//! HTTP responses of the faces: JSON-RPC bodies with the status the failure's class gives.

use crate::call::Failure;
use crate::jsonrpc;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

/// A request turned away before it reached the gateway core: the HTTP status its failure's
/// class gives, and a JSON-RPC error body that says why (`id` is echoed when known).
#[derive(Debug)]
pub struct Rejection {
    failure: Failure,
    id: Option<String>,
}

impl Rejection {
    /// Echo the request's id.
    pub fn with_id(mut self, id: Option<&str>) -> Self {
        self.id = id.map(str::to_string);
        self
    }
}

impl From<Failure> for Rejection {
    fn from(failure: Failure) -> Self {
        Rejection { failure, id: None }
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let body = jsonrpc::error_message(self.id.as_deref(), &self.failure.to_rpc());
        json(status(&self.failure), body)
    }
}

/// The HTTP status of an answer that is `failure` alone.
pub fn status(failure: &Failure) -> StatusCode {
    StatusCode::from_u16(failure.class().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
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

/// How long a client whose stream the gateway closed is asked to wait before reconnecting
/// (the final event's `retry`).
pub const RECONNECT_AFTER: std::time::Duration = std::time::Duration::from_secs(3);

/// An event stream of JSON-RPC messages (`event: message`), kept alive while it is open.
pub fn sse(messages: impl futures::Stream<Item = Bytes> + Send + 'static) -> Response {
    events(messages, None)
}

/// A session's standalone stream (GET): [`sse`], and when the gateway closes it (the session
/// ends, the gateway stops) a last event saying when to reconnect (SSE `retry`, as the
/// 2025-11-25 transport allows before a server closes a stream).
pub fn standalone(messages: impl futures::Stream<Item = Bytes> + Send + 'static) -> Response {
    events(messages, Some(RECONNECT_AFTER))
}

fn events(
    messages: impl futures::Stream<Item = Bytes> + Send + 'static,
    retry: Option<std::time::Duration>,
) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use futures::StreamExt;
    let last = retry.map(|r| Event::default().retry(r));
    let events = messages
        .map(|m| {
            Event::default()
                .event("message")
                .data(String::from_utf8_lossy(&m))
        })
        .chain(futures::stream::iter(last))
        .map(Ok::<_, std::convert::Infallible>);
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}
