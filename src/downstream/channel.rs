//! Faces where everything the gateway says travels on the session's one stream (legacy SSE,
//! stdio): each request is answered there, in its own task, so a slow call blocks nobody.

use crate::gateway::Gateway;
use crate::jsonrpc::{self, Kind, RpcError};
use crate::session::Session;
use bytes::Bytes;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Handle one message from the client. A message that cannot be read is answered with the error
/// returned here (the face decides how to send it); everything else is answered on the stream.
/// A request is answered by the task returned, which a face may wait for before it closes.
pub async fn on_message(
    gw: &Arc<Gateway>,
    session: &Arc<Session>,
    buf: Bytes,
) -> Result<Option<JoinHandle<()>>, Bytes> {
    let msg = jsonrpc::parse(&buf)
        .map_err(|e| jsonrpc::error_message(None, &RpcError::new(e.code(), e.to_string())))?;
    let kind = msg.kind().map_err(|e| {
        jsonrpc::error_message(
            msg.id.map(|i| i.get()),
            &RpcError::new(e.code(), e.to_string()),
        )
    })?;
    match kind {
        Kind::Notification { method, params } => gw.notification(session, method, params).await,
        Kind::Response { id, .. } => gw.response(session, id.get(), buf.clone()),
        Kind::Request {
            id,
            method: "initialize",
            params,
        } => {
            let answer = gw
                .initialize(session, id.get(), params)
                .unwrap_or_else(|e| e);
            session.deliver(answer).await;
        }
        Kind::Request { id, method, params }
            if super::modern::is_modern_message(method, params) =>
        {
            // 2026-07-28 on a message face: stateless, each request in its own task.
            // Registered with the face's session, so notifications/cancelled reaches it.
            let cancel = session.begin(id.get());
            let mut answers =
                super::modern::messages(gw, session.id.clone(), id.get(), method, params, cancel);
            let (session, id) = (session.clone(), id.get().to_string());
            return Ok(Some(tokio::spawn(async move {
                while let Some(msg) = futures::StreamExt::next(&mut answers).await {
                    if !session.deliver(msg).await {
                        break;
                    }
                }
                session.end(&id);
            })));
        }
        Kind::Request { id, method, params } => {
            let (gw, session) = (gw.clone(), session.clone());
            let (id, method, params) = (
                id.get().to_string(),
                method.to_string(),
                params.map(|p| p.to_owned()),
            );
            return Ok(Some(tokio::spawn(async move {
                let answer = gw
                    .request(&session, &id, &method, params.as_deref(), None)
                    .await;
                if !session.deliver(answer).await {
                    tracing::debug!(session = %session.id, id, "client left before its answer");
                }
            })));
        }
    }
    Ok(None)
}
