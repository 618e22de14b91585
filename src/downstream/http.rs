//! The streamable HTTP face at `/mcp`: POST one message, GET the server stream, DELETE the session.

use super::guard::{self, Wants};
use super::reply::{self, Rejection};
use crate::gateway::{negotiate_version, Gateway};
use crate::jsonrpc::{self, code, Kind, RpcError};
use crate::session::Session;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::convert::Infallible;
use std::sync::Arc;
use tokio_stream::StreamExt;

/// `Mcp-Session-Id`
pub const SESSION_HEADER: &str = "mcp-session-id";

/// POST /mcp
pub async fn post(State(gw): State<Arc<Gateway>>, headers: HeaderMap, body: Body) -> Response {
    match handle_post(&gw, &headers, body).await {
        Ok(r) => r,
        Err(rej) => rej.into_response(),
    }
}

async fn handle_post(
    gw: &Arc<Gateway>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Rejection> {
    let g = &gw.config.gateway;
    guard::origin_and_host(headers, g)?;
    let wants = guard::accept_for_post(headers)?;
    guard::content_type(headers)?;
    let body = read_body(headers, body, g.max_body_bytes).await?;
    let msg = jsonrpc::parse(&body).map_err(|e| {
        Rejection::rpc(
            StatusCode::BAD_REQUEST,
            RpcError::new(e.code(), e.to_string()),
        )
    })?;
    let kind = msg.kind().map_err(|e| {
        Rejection::rpc(
            StatusCode::BAD_REQUEST,
            RpcError::new(e.code(), e.to_string()),
        )
        .with_id(msg.id.map(|i| i.get()))
    })?;
    let (id, method, params) = match kind {
        Kind::Request { id, method, params } => (id.get(), method, params),
        Kind::Notification { method, .. } => {
            let session = session_of(gw, headers)?;
            if method == "notifications/initialized" {
                session.mark_initialized();
            }
            return Ok(StatusCode::ACCEPTED.into_response());
        }
        Kind::Response { .. } => {
            session_of(gw, headers)?;
            return Ok(StatusCode::ACCEPTED.into_response());
        }
    };
    if method == "server/discover" {
        return Err(discover_unsupported(params).with_id(Some(id)));
    }
    guard::protocol_version(headers).map_err(|r| r.with_id(Some(id)))?;
    if method == "initialize" {
        return Ok(initialize(gw, id, params, wants));
    }
    let session = session_of(gw, headers).map_err(|r| r.with_id(Some(id)))?;
    let span = tracing::debug_span!("request", session = %session.id, id, method);
    let answer =
        tracing::Instrument::instrument(gw.handle(&session, id, method, params), span).await;
    Ok(respond(answer, wants, None))
}

/// Answer `initialize`: negotiate, open a session, hand out its id.
fn initialize(gw: &Gateway, id: &str, params: Option<&RawValue>, wants: Wants) -> Response {
    #[derive(Deserialize)]
    struct InitParams {
        #[serde(rename = "protocolVersion")]
        protocol_version: Option<String>,
        capabilities: Option<Box<RawValue>>,
        #[serde(rename = "clientInfo")]
        client_info: Option<Box<RawValue>>,
    }
    let p: InitParams = match params.map(|p| serde_json::from_str(p.get())) {
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            let err = RpcError::invalid_params(format!("initialize params: {e}"));
            return reply::json(StatusCode::OK, jsonrpc::error_message(Some(id), &err));
        }
        None => {
            let err = RpcError::invalid_params("initialize needs params with protocolVersion");
            return reply::json(StatusCode::OK, jsonrpc::error_message(Some(id), &err));
        }
    };
    let version = negotiate_version(p.protocol_version.as_deref());
    let session = Arc::new(Session::new(version, p.client_info, p.capabilities));
    let sid = HeaderValue::from_str(&session.id).expect("hex is a valid header value");
    gw.sessions.insert(session.clone());
    tracing::info!(session = %session.id, version, "session opened");
    let result = gw.initialize_result(version);
    respond(jsonrpc::response_result(id, &result), wants, Some(sid))
}

/// A 2026-07-28 client probing `server/discover`: say which versions the gateway speaks, so it
/// falls back to `initialize`.
fn discover_unsupported(params: Option<&RawValue>) -> Rejection {
    let requested = params
        .and_then(|p| serde_json::from_str::<serde_json::Value>(p.get()).ok())
        .and_then(|v| {
            v.pointer("/_meta/io.modelcontextprotocol~1protocolVersion")
                .cloned()
        })
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "2026-07-28".into());
    let err = RpcError::new(
        code::UNSUPPORTED_PROTOCOL_VERSION,
        format!("protocol version {requested} is not supported; use initialize with one of the supported versions"),
    )
    .with_data(serde_json::json!({
        "supported": crate::config::PROTOCOL_VERSIONS,
        "requested": requested,
    }));
    Rejection::rpc(StatusCode::BAD_REQUEST, err)
}

fn respond(body: Bytes, wants: Wants, session: Option<HeaderValue>) -> Response {
    let mut r = match wants {
        Wants::Json => reply::json(StatusCode::OK, body),
        Wants::EventStream => reply::sse_single(body),
    };
    if let Some(sid) = session {
        r.headers_mut().insert(SESSION_HEADER, sid);
    }
    r
}

/// Read the body, refusing one over the limit with 413.
async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, Rejection> {
    let too_large = || {
        Rejection::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than the {limit}-byte limit (gateway.max_body_bytes)"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())
}

/// The session a request names: 400 without the header, 404 for an unknown or ended one.
fn session_of(gw: &Gateway, headers: &HeaderMap) -> Result<Arc<Session>, Rejection> {
    let Some(id) = headers.get(SESSION_HEADER) else {
        return Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            "missing Mcp-Session-Id header: send initialize first and echo the session id it returns",
        ));
    };
    let id = id.to_str().unwrap_or("");
    gw.sessions.get(id).ok_or_else(|| {
        Rejection::new(
            StatusCode::NOT_FOUND,
            format!("unknown or ended session {id:?}: initialize a new session"),
        )
    })
}

/// GET /mcp: the standalone server-to-client stream of a session.
pub async fn get(State(gw): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    let opened = (|| {
        guard::origin_and_host(&headers, &gw.config.gateway)?;
        guard::accept_for_get(&headers)?;
        guard::protocol_version(&headers)?;
        session_of(&gw, &headers)
    })();
    let session = match opened {
        Ok(s) => s,
        Err(rej) => return rej.into_response(),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(64);
    if !session.attach_stream(tx) {
        return Rejection::new(
            StatusCode::CONFLICT,
            "this session already has an open GET stream",
        )
        .into_response();
    }
    let events = tokio_stream::wrappers::ReceiverStream::new(rx).map(|msg| {
        Ok::<_, Infallible>(
            SseEvent::default()
                .event("message")
                .data(String::from_utf8_lossy(&msg)),
        )
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// DELETE /mcp: end a session.
pub async fn delete(State(gw): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    let ended = (|| {
        guard::origin_and_host(&headers, &gw.config.gateway)?;
        let s = session_of(&gw, &headers)?;
        gw.sessions.remove(&s.id);
        tracing::info!(session = %s.id, "session ended by the client");
        Ok::<_, Rejection>(())
    })();
    match ended {
        Ok(()) => StatusCode::OK.into_response(),
        Err(rej) => rej.into_response(),
    }
}
