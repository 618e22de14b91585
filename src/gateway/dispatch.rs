//! What the gateway does with each message a client sends, whatever the face.

use super::forward::{upstream_error, Route};
use super::{tools, Gateway};
use crate::jsonrpc::{self, code, RpcError};
use crate::session::Session;
use crate::upstream::ListKind;
use bytes::Bytes;
use serde_json::value::RawValue;
use std::sync::Arc;
use tokio::sync::mpsc;
use tracing::Instrument;

impl Gateway {
    /// Answer one request of an initialized session with the whole response message. Messages tied
    /// to the request (progress, logs, server-to-client requests) go to `related` when given, else
    /// to the session's stream.
    /// Each request runs in its own span (session, request id, method; server and tool once
    /// routed), so every log line about it carries them.
    pub async fn request(
        &self,
        session: &Arc<Session>,
        id: &str,
        method: &str,
        params: Option<&RawValue>,
        related: Option<mpsc::UnboundedSender<Bytes>>,
    ) -> Bytes {
        let span = tracing::info_span!(
            "request",
            session = %session.id,
            id,
            method,
            server = tracing::field::Empty,
            tool = tracing::field::Empty,
        );
        self.answer(session, id, method, params, related)
            .instrument(span)
            .await
    }

    async fn answer(
        &self,
        session: &Arc<Session>,
        id: &str,
        method: &str,
        params: Option<&RawValue>,
        related: Option<mpsc::UnboundedSender<Bytes>>,
    ) -> Bytes {
        session.touch();
        let p = params.map(RawValue::get);
        let result = match method {
            "ping" => Ok(jsonrpc::response_result(id, "{}")),
            "tools/list" => self.list(id, ListKind::Tools, params),
            "prompts/list" => self.list(id, ListKind::Prompts, params),
            "resources/list" => self.list(id, ListKind::Resources, params),
            "resources/templates/list" => self.list(id, ListKind::Templates, params),
            "tools/call" => self.tools_call(session, related, id, p).await,
            "prompts/get" => {
                self.forward_to(
                    session,
                    related,
                    id,
                    "prompts/get",
                    self.prompt_target(p).map(read),
                )
                .await
            }
            "resources/read" => {
                self.forward_to(
                    session,
                    related,
                    id,
                    "resources/read",
                    self.by_uri(p).map(read),
                )
                .await
            }
            "completion/complete" => {
                self.forward_to(
                    session,
                    related,
                    id,
                    "completion/complete",
                    self.completion_target(p).map(read),
                )
                .await
            }
            "resources/subscribe" => self
                .subscribe(session, p)
                .await
                .map(|()| jsonrpc::response_result(id, "{}")),
            "resources/unsubscribe" => self
                .unsubscribe(session, p)
                .await
                .map(|()| jsonrpc::response_result(id, "{}")),
            "logging/setLevel" => self
                .set_level(session, p)
                .await
                .map(|()| jsonrpc::response_result(id, "{}")),
            _ => Err(RpcError::method_not_found(method)),
        };
        result.unwrap_or_else(|e| jsonrpc::error_message(Some(id), &e))
    }

    /// `tools/call`: the gateway's own tools, else the upstream that owns the name.
    async fn tools_call(
        &self,
        session: &Arc<Session>,
        related: Option<mpsc::UnboundedSender<Bytes>>,
        id: &str,
        params: Option<&str>,
    ) -> Result<Bytes, RpcError> {
        let name = jsonrpc::view(params.unwrap_or("{}"))
            .name
            .ok_or_else(|| RpcError::invalid_params("tools/call needs params with a \"name\""))?
            .into_owned();
        let lean = self.config.router.expose == crate::config::Expose::Search;
        let unwrapped;
        let (name, params) = match name.as_str() {
            tools::FIND_TOOLS => {
                // Bad arguments are the model's to fix: a tool error result, not a protocol error.
                let result = self.find_tools(params).unwrap_or_else(|e| {
                    serde_json::json!({ "content": [{ "type": "text", "text": e.message }], "isError": true })
                        .to_string()
                });
                return Ok(jsonrpc::response_result(id, &result));
            }
            tools::CALL_TOOL if lean => {
                let args = jsonrpc::member(params, "arguments").ok_or_else(|| {
                    RpcError::invalid_params(format!(
                        "{} needs arguments with a \"name\"",
                        tools::CALL_TOOL
                    ))
                })?;
                let inner = jsonrpc::str_member(Some(&args), "name").ok_or_else(|| {
                    RpcError::invalid_params(format!(
                        "{} needs the \"name\" of the tool to call",
                        tools::CALL_TOOL
                    ))
                })?;
                let inner_args = jsonrpc::member(Some(args.get()), "arguments")
                    .map_or("{}".to_string(), |a| a.get().to_string());
                let inner_name = serde_json::to_string(&inner).expect("a string serializes");
                unwrapped = jsonrpc::set_members(
                    params,
                    &[("name", &inner_name), ("arguments", &inner_args)],
                );
                (inner, Some(unwrapped.as_str()))
            }
            _ => (name, params),
        };
        let target = self.resolve_tool(&name, params).await;
        self.forward_to(session, related, id, "tools/call", target)
            .await
    }

    /// Forward along the route a lookup found (or pass the lookup's error on).
    async fn forward_to(
        &self,
        session: &Arc<Session>,
        related: Option<mpsc::UnboundedSender<Bytes>>,
        id: &str,
        method: &'static str,
        route: Result<Route, RpcError>,
    ) -> Result<Bytes, RpcError> {
        Ok(self.forward(session, related, id, method, route?).await)
    }

    /// A notification from the client.
    pub async fn notification(
        &self,
        session: &Arc<Session>,
        method: &str,
        params: Option<&RawValue>,
    ) {
        session.touch();
        match method {
            "notifications/initialized" => session.mark_initialized(),
            "notifications/cancelled" => {
                if let Some(id) = jsonrpc::member(params.map(RawValue::get), "requestId") {
                    if !session.cancel(id.get()) {
                        tracing::debug!(session = %session.id, id = id.get(), "cancellation of a request not in flight");
                    }
                }
            }
            "notifications/roots/list_changed" => {
                let conns: Vec<_> = session.private.iter().map(|c| c.value().clone()).collect();
                for c in conns {
                    let _ = c.notify(method, None).await;
                }
            }
            _ => tracing::debug!(session = %session.id, method, "ignoring a client notification"),
        }
    }

    /// A response from the client: the answer to a server-to-client request we relayed.
    pub fn response(&self, session: &Session, id: &str, msg: Bytes) {
        session.touch();
        if !session.answer(id, msg) {
            tracing::debug!(session = %session.id, id, "a response nobody waits for");
        }
    }

    fn list(&self, id: &str, kind: ListKind, params: Option<&RawValue>) -> Result<Bytes, RpcError> {
        let cursor = jsonrpc::str_member(params, "cursor");
        let page = self
            .catalog()
            .page(kind, cursor.as_deref(), self.config.gateway.page_size)
            .map_err(RpcError::invalid_params)?;
        Ok(jsonrpc::response_result(id, &page))
    }

    /// `prompts/get` (and `ref/prompt`): find the owner of the exposed name, restore the original.
    fn prompt_target(&self, params: Option<&str>) -> Result<(usize, String), RpcError> {
        let text = params.unwrap_or("{}");
        let view = jsonrpc::view(text);
        let (Some(name), Some(span)) = (view.name, view.name_span) else {
            return Err(RpcError::invalid_params("needs params with a \"name\""));
        };
        let catalog = self.catalog();
        let item = catalog.prompts.get(&name).ok_or_else(|| {
            RpcError::invalid_params(format!("unknown prompt: {name:?}"))
                .with_data(serde_json::json!({ "prompt": name }))
        })?;
        let original = serde_json::to_string(&*item.original).expect("a string serializes");
        Ok((item.server, jsonrpc::splice(text, span, &original)))
    }

    /// `resources/read`: find the server of the exposed URI, restore the original.
    fn by_uri(&self, params: Option<&str>) -> Result<(usize, String), RpcError> {
        let (server, original) = self.route_uri(&required(params, "uri")?)?;
        let original = serde_json::to_string(&original).expect("a string serializes");
        Ok((server, jsonrpc::set_members(params, &[("uri", &original)])))
    }

    fn route_uri(&self, uri: &str) -> Result<(usize, String), RpcError> {
        self.catalog().resources.route(uri).ok_or_else(|| {
            RpcError::new(
                code::RESOURCE_NOT_FOUND,
                format!("resource not found: {uri:?} belongs to no configured server"),
            )
            .with_data(serde_json::json!({ "uri": uri }))
        })
    }

    /// `completion/complete`: the `ref` names a prompt or a resource (template).
    fn completion_target(&self, params: Option<&str>) -> Result<(usize, String), RpcError> {
        let r = jsonrpc::member(params, "ref")
            .ok_or_else(|| RpcError::invalid_params("completion/complete needs \"ref\""))?;
        let kind = jsonrpc::str_member(Some(&r), "type").unwrap_or_default();
        let (server, new_ref) = match kind.as_str() {
            "ref/prompt" => {
                let (server, p) = self.prompt_target(Some(r.get()))?;
                (server, p)
            }
            "ref/resource" => {
                let uri = jsonrpc::str_member(Some(&r), "uri")
                    .ok_or_else(|| RpcError::invalid_params("ref/resource needs \"uri\""))?;
                let (server, original) = self.route_uri(&uri)?;
                let original = serde_json::to_string(&original).expect("a string serializes");
                (
                    server,
                    jsonrpc::set_members(Some(r.get()), &[("uri", &original)]),
                )
            }
            other => {
                return Err(RpcError::invalid_params(format!(
                    "unknown ref type {other:?}"
                )))
            }
        };
        Ok((server, jsonrpc::set_members(params, &[("ref", &new_ref)])))
    }

    /// Subscribe `session` to an exposed resource URI (`params` = `{"uri": ...}`); for faces that
    /// subscribe on the client's behalf (2026-07-28 `subscriptions/listen`).
    pub async fn subscribe_for(
        &self,
        session: &Arc<Session>,
        params: &str,
    ) -> Result<(), RpcError> {
        self.subscribe(session, Some(params)).await
    }

    async fn subscribe(
        &self,
        session: &Arc<Session>,
        params: Option<&str>,
    ) -> Result<(), RpcError> {
        let uri = required(params, "uri")?;
        let (server, original) = self.route_uri(&uri)?;
        if !session.subscriptions.lock().insert(uri.clone()) {
            return Ok(()); // already subscribed
        }
        let first = {
            let mut n = self
                .subscriptions
                .entry((server, original.clone()))
                .or_insert(0);
            *n += 1;
            *n == 1
        };
        if first {
            let up = &self.pool.all()[server];
            let conn = up
                .connection()
                .map_err(|e| upstream_error(&up.spec.name, "resources/subscribe", e))?;
            if conn.init().modern {
                session.subscriptions.lock().remove(&uri);
                return Err(RpcError::internal(format!(
                    "upstream server {:?} speaks 2026-07-28, whose resource subscriptions (subscriptions/listen) the gateway does not relay yet",
                    up.spec.name
                )));
            }
            let p = serde_json::json!({ "uri": original }).to_string();
            let reply = conn.request("resources/subscribe", Some(&p)).await;
            match reply {
                Ok(r) if !r.is_error() => {}
                Ok(r) => {
                    return Err(RpcError::internal(format!(
                        "upstream refused the subscription: {}",
                        r.payload()
                    )))
                }
                Err(e) => return Err(upstream_error(&up.spec.name, "resources/subscribe", e)),
            }
        }
        Ok(())
    }

    async fn unsubscribe(
        &self,
        session: &Arc<Session>,
        params: Option<&str>,
    ) -> Result<(), RpcError> {
        let uri = required(params, "uri")?;
        if session.subscriptions.lock().remove(&uri) {
            self.unsubscribe_upstream(&uri).await;
        }
        Ok(())
    }

    /// One session stopped watching `uri`: unsubscribe upstream when it was the last.
    pub(super) async fn unsubscribe_upstream(&self, uri: &str) {
        let Ok((server, original)) = self.route_uri(uri) else {
            return;
        };
        let last = match self.subscriptions.get_mut(&(server, original.clone())) {
            Some(mut n) => {
                *n = n.saturating_sub(1);
                *n == 0
            }
            None => false,
        };
        if last {
            self.subscriptions.remove(&(server, original.clone()));
            if let Ok(conn) = self.pool.all()[server].connection() {
                let p = serde_json::json!({ "uri": original }).to_string();
                let _ = conn.request("resources/unsubscribe", Some(&p)).await;
            }
        }
    }

    /// `logging/setLevel`: remembered for the session and fanned out to every upstream that logs.
    async fn set_level(
        &self,
        session: &Arc<Session>,
        params: Option<&str>,
    ) -> Result<(), RpcError> {
        let level = required(params, "level")?;
        *session.log_level.lock() = Some(level);
        let p = params.unwrap_or("{}");
        let mut conns: Vec<_> = self
            .pool
            .all()
            .iter()
            .filter_map(|u| u.connection().ok())
            .collect();
        conns.extend(session.private.iter().map(|c| c.value().clone()));
        let sets = conns
            .iter()
            // 2026-07-28 sets the level per request; its upstreams have no logging/setLevel.
            .filter(|c| c.init().offers.logging && !c.init().modern)
            .map(|c| async move {
                (
                    c.server().clone(),
                    c.request("logging/setLevel", Some(p)).await,
                )
            });
        for (server, r) in futures::future::join_all(sets).await {
            if let Err(e) = r {
                tracing::warn!(server = %server, error = %e, "logging/setLevel failed upstream");
            }
        }
        Ok(())
    }
}

/// A string member the method cannot do without: -32602 naming it when absent.
fn required(params: Option<&str>, key: &str) -> Result<String, RpcError> {
    jsonrpc::string_member(params, key)
        .ok_or_else(|| RpcError::invalid_params(format!("needs params with a string {key:?}")))
}

/// A read-only method's route (safe to retry).
fn read((server, params): (usize, String)) -> Route {
    Route::read(server, params)
}
