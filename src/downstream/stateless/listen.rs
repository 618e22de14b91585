//! `subscriptions/listen`: a long-lived event stream carrying the change notifications the
//! client opted in to (list changes, updates of the resources it names), and nothing else.

use super::{reply, Faces};
use crate::call::Failure;
use crate::gateway::Client;
use crate::jsonrpc;
use axum::response::Response;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::sync::Arc;
use tokio::sync::mpsc;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Filter {
    #[serde(default)]
    tools_list_changed: bool,
    #[serde(default)]
    prompts_list_changed: bool,
    #[serde(default)]
    resources_list_changed: bool,
    #[serde(default)]
    resource_subscriptions: Vec<String>,
}

#[derive(Deserialize)]
struct Params {
    #[serde(default)]
    notifications: Option<Filter>,
}

impl Filter {
    fn wants(&self, method: &str) -> bool {
        match method {
            "notifications/tools/list_changed" => self.tools_list_changed,
            "notifications/prompts/list_changed" => self.prompts_list_changed,
            "notifications/resources/list_changed" => self.resources_list_changed,
            "notifications/resources/updated" => !self.resource_subscriptions.is_empty(),
            _ => false,
        }
    }
}

/// Open the stream: acknowledge what will be sent, then relay it until the client closes it.
pub async fn open(
    faces: &Arc<Faces>,
    client: Arc<Client>,
    id: &str,
    params: Option<&RawValue>,
) -> Response {
    let filter = match params.map(|p| serde_json::from_str::<Params>(p.get())) {
        Some(Ok(p)) => p.notifications.unwrap_or_default(),
        Some(Err(e)) => {
            return super::refuse(
                id,
                Failure::invalid_params(format!("subscriptions/listen params: {e}")),
            )
        }
        None => Filter::default(),
    };
    let mut honored = serde_json::Map::new();
    let mut subscribed = Vec::new();
    for uri in &filter.resource_subscriptions {
        let p = serde_json::json!({ "uri": uri }).to_string();
        match faces.gateway().subscribe(&client, Some(&p)).await {
            Ok(None) => subscribed.push(uri.clone()),
            Ok(Some(refused)) => {
                tracing::info!(
                    uri,
                    error = refused.payload(),
                    "subscriptions/listen: the upstream refused the subscription"
                )
            }
            Err(e) => {
                tracing::info!(uri, error = %e, "subscriptions/listen: cannot subscribe")
            }
        }
    }
    for (key, on) in [
        ("toolsListChanged", filter.tools_list_changed),
        ("promptsListChanged", filter.prompts_list_changed),
        ("resourcesListChanged", filter.resources_list_changed),
    ] {
        if on {
            honored.insert(key.into(), serde_json::Value::Bool(true));
        }
    }
    if !subscribed.is_empty() {
        honored.insert(
            "resourceSubscriptions".into(),
            serde_json::json!(subscribed),
        );
    }
    let ack = jsonrpc::notification(
        "notifications/subscriptions/acknowledged",
        Some(&serde_json::json!({ "notifications": honored }).to_string()),
    );
    let tag = id.to_string();
    let (tx, rx) = mpsc::channel::<Bytes>(faces.gateway().config().gateway.max_queued_messages);
    client.attach_stream(tx);
    if let Err(f) = faces.sessions.insert(client.clone()).await {
        return super::refuse(id, f);
    }
    tracing::info!(client = %client.id, id, "subscriptions/listen stream opened");
    let closer = Closer {
        faces: faces.clone(),
        client: client.id.clone(),
    };
    let updates = futures::StreamExt::filter(
        tokio_stream::wrappers::ReceiverStream::new(rx),
        move |msg| {
            let _keep = &closer; // ends the client when the stream is dropped
            let wanted = jsonrpc::parse(msg).ok().is_some_and(|m| match m.kind() {
                Ok(jsonrpc::Kind::Notification { method, .. }) => filter.wants(method),
                _ => false,
            });
            std::future::ready(wanted)
        },
    );
    let frames = futures::StreamExt::chain(futures::stream::iter([ack]), updates);
    reply::sse(futures::StreamExt::map(frames, move |m| tagged(&m, &tag)))
}

/// A notification with the listen request's id as `_meta["io.modelcontextprotocol/subscriptionId"]`.
fn tagged(msg: &Bytes, id: &str) -> Bytes {
    let Ok(m) = jsonrpc::parse(msg) else {
        return msg.clone();
    };
    let Ok(jsonrpc::Kind::Notification { method, params }) = m.kind() else {
        return msg.clone();
    };
    let p = params.map(RawValue::get);
    let meta = jsonrpc::member(p, "_meta");
    let meta = jsonrpc::set_members(
        meta.as_deref().map(RawValue::get),
        &[("io.modelcontextprotocol/subscriptionId", id)],
    );
    jsonrpc::notification(method, Some(&jsonrpc::set_members(p, &[("_meta", &meta)])))
}

/// Ends the listening client (and its upstream subscriptions) when it closes the stream.
struct Closer {
    faces: Arc<Faces>,
    client: Arc<str>,
}

impl Drop for Closer {
    fn drop(&mut self) {
        let (faces, id) = (self.faces.clone(), self.client.clone());
        tokio::spawn(async move {
            faces.sessions.end(&id).await;
        });
    }
}
