//! The legacy HTTP+SSE face (2024-11-05): `GET /sse` opens a session's stream, whose first event
//! names the endpoint to POST messages to (`/messages?sessionId=...`); answers come on the stream.

use super::channel;
use super::guard;
use super::reply::{self, Rejection};
use crate::gateway::Gateway;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::Arc;

/// GET /sse
pub async fn open(State(gw): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    if let Err(rej) = guard::origin_and_host(&headers, &gw.config.gateway) {
        return rej.into_response();
    }
    let session = gw.open_session();
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(256);
    session.attach_stream(tx);
    tracing::info!(session = %session.id, "legacy SSE session opened");
    let endpoint = Event::default()
        .event("endpoint")
        .data(format!("/messages?sessionId={}", session.id));
    // Ends the session when the client goes away (the stream is dropped).
    let closer = EndOnDrop {
        gw: gw.clone(),
        id: session.id.to_string(),
    };
    let messages = tokio_stream::wrappers::ReceiverStream::new(rx).map(move |m| {
        let _ = &closer;
        Ok::<_, Infallible>(
            Event::default()
                .event("message")
                .data(String::from_utf8_lossy(&m)),
        )
    });
    let events = futures::stream::iter([Ok(endpoint)]).chain(messages);
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

struct EndOnDrop {
    gw: Arc<Gateway>,
    id: String,
}

impl Drop for EndOnDrop {
    fn drop(&mut self) {
        let (gw, id) = (self.gw.clone(), std::mem::take(&mut self.id));
        tokio::spawn(async move { gw.end_session(&id).await });
    }
}

/// The query of `POST /messages`.
#[derive(Deserialize)]
pub struct Target {
    #[serde(rename = "sessionId")]
    session_id: Option<String>,
}

/// POST /messages?sessionId=...
pub async fn message(
    State(gw): State<Arc<Gateway>>,
    Query(t): Query<Target>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let checked = (|| {
        guard::origin_and_host(&headers, &gw.config.gateway)?;
        guard::content_type(&headers)?;
        let id = t.session_id.as_deref().ok_or_else(|| {
            Rejection::new(StatusCode::BAD_REQUEST, "missing sessionId query parameter")
        })?;
        gw.sessions.get(id).ok_or_else(|| {
            Rejection::new(
                StatusCode::NOT_FOUND,
                format!("unknown or ended session {id:?}"),
            )
        })
    })();
    let session = match checked {
        Ok(s) => s,
        Err(rej) => return rej.into_response(),
    };
    let limit = gw.config.gateway.max_body_bytes;
    let Ok(buf) = axum::body::to_bytes(body, limit).await else {
        return Rejection::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than the {limit}-byte limit"),
        )
        .into_response();
    };
    match channel::on_message(&gw, &session, buf).await {
        Ok(_) => StatusCode::ACCEPTED.into_response(),
        Err(error) => reply::json(StatusCode::BAD_REQUEST, error),
    }
}
