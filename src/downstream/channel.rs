//! Faces where everything the gateway says travels on the client's one stream (legacy SSE,
//! stdio): each request is answered there, in its own task, so a slow call blocks nobody.

use super::Faces;
use crate::call::Failure;
use crate::gateway::Client;
use crate::jsonrpc::{self, Kind};
use bytes::Bytes;
use std::sync::Arc;
use tokio::task::JoinHandle;
use tracing::Instrument;

/// Handle one message from the client. A message that cannot be read is answered with the error
/// returned here (the face decides how to send it); everything else is answered on the stream.
/// A request is answered by the task returned, which a face may wait for before it closes.
pub async fn on_message(
    faces: &Arc<Faces>,
    client: &Arc<Client>,
    buf: Bytes,
) -> Result<Option<JoinHandle<()>>, Bytes> {
    let gw = faces.gateway();
    let refuse = |id: Option<&str>, f: Failure| jsonrpc::error_message(id, &f.to_rpc());
    let msg = jsonrpc::parse(&buf).map_err(|e| refuse(None, e.into()))?;
    let kind = msg
        .kind()
        .map_err(|e| refuse(msg.id.map(|i| i.get()), e.into()))?;
    match kind {
        Kind::Notification { method, params } => gw.notification(client, method, params).await,
        Kind::Response { id, .. } => gw.response(client, id.get(), buf.clone()),
        Kind::Request {
            id,
            method: "initialize",
            params,
        } => {
            let answer = gw
                .initialize(client, id.get(), params)
                .unwrap_or_else(|e| refuse(Some(id.get()), e));
            client.deliver(answer).await;
        }
        Kind::Request { id, method, params }
            if super::stateless::is_stateless_message(method, params) =>
        {
            // 2026-07-28 on a message face: stateless, each request in its own task.
            // Registered with the face's client, so notifications/cancelled reaches it.
            let cancel = client.begin(id.get());
            let mut answers =
                super::stateless::messages(faces, client, id.get(), method, params, cancel);
            let (client, id) = (client.clone(), id.get().to_string());
            return Ok(Some(tokio::spawn(
                async move {
                    while let Some(msg) = futures::StreamExt::next(&mut answers).await {
                        if !client.deliver(msg).await {
                            break;
                        }
                    }
                    client.end(&id);
                }
                .in_current_span(),
            )));
        }
        Kind::Request { id, method, params } => {
            let (gw, client) = (gw.clone(), client.clone());
            let (id, method, params) = (
                id.get().to_string(),
                method.to_string(),
                params.map(|p| p.to_owned()),
            );
            return Ok(Some(tokio::spawn(
                async move {
                    let answer = gw
                        .request(&client, &id, &method, params.as_deref(), None)
                        .await;
                    if !client.deliver(answer).await {
                        tracing::debug!(client = %client.id, id, "client left before its answer");
                    }
                }
                .in_current_span(),
            )));
        }
    }
    Ok(None)
}
