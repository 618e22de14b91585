//! The legacy HTTP+SSE face (2024-11-05): `GET /sse` opens a session's stream, whose first event
//! names the endpoint to POST messages to (`/messages?sessionId=...`); answers come on the stream.

use super::channel;
use super::endpoint::At;
use super::guard;
use super::reply::{self, Rejection};
use super::Faces;
use crate::call::{Failure, Identity, Kind};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use bytes::Bytes;
use futures::StreamExt;
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::Arc;

/// GET /sse (and /sse/NAME)
pub async fn open(
    State(faces): State<Arc<Faces>>,
    Extension(caller): Extension<Arc<Identity>>,
    at: Result<At, Rejection>,
    headers: HeaderMap,
) -> Response {
    let endpoint = match at {
        Ok(At(e)) => e,
        Err(rej) => return rej.into_response(),
    };
    if let Err(f) = guard::origin_and_host(&headers, &faces.gateway().config().gateway) {
        return Rejection::from(f).into_response();
    }
    let client = match faces.sessions.open(caller, "sse", endpoint).await {
        Ok(c) => c,
        Err(f) => return Rejection::from(f).into_response(),
    };
    let (tx, rx) =
        tokio::sync::mpsc::channel::<Bytes>(faces.gateway().config().gateway.max_queued_messages);
    client.attach_stream(tx);
    tracing::info!(session = %client.id, "legacy SSE session opened");
    let endpoint = Event::default()
        .event("endpoint")
        .data(format!("/messages?sessionId={}", client.id));
    // Ends the session when the client goes away (the stream is dropped).
    let closer = EndOnDrop {
        faces: faces.clone(),
        id: client.id.to_string(),
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
    faces: Arc<Faces>,
    id: String,
}

impl Drop for EndOnDrop {
    fn drop(&mut self) {
        let (faces, id) = (self.faces.clone(), std::mem::take(&mut self.id));
        tokio::spawn(async move { faces.sessions.end(&id).await });
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
    State(faces): State<Arc<Faces>>,
    Extension(caller): Extension<Arc<Identity>>,
    Query(t): Query<Target>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let gw = faces.gateway();
    let checked = (|| {
        guard::origin_and_host(&headers, &gw.config().gateway)?;
        guard::content_type(&headers)?;
        let id = t.session_id.as_deref().ok_or_else(|| {
            Failure::new(Kind::MissingSession, "missing sessionId query parameter")
        })?;
        faces.sessions.find(id, &caller)
    })();
    let client = match checked {
        Ok(c) => c,
        Err(f) => return Rejection::from(f).into_response(),
    };
    let g = &gw.config().gateway;
    let buf = match super::body::read(&headers, body, g.max_body_bytes, g.body_read_timeout).await {
        Ok(b) => b,
        Err(f) => return Rejection::from(f).into_response(),
    };
    match channel::on_message(&faces, &client, buf).await {
        Ok(_) => StatusCode::ACCEPTED.into_response(),
        Err(error) => reply::json(StatusCode::BAD_REQUEST, error),
    }
}
