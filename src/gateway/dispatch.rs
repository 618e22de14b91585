//! What the gateway does with each message a client sends, whatever the face.

use super::access::Audited;
use super::forward::{failed, Route};
use super::{resolve, subscriptions, tools, Client, Gateway, Related, View};
use crate::call::{Failure, Kind, Reply};
use crate::catalog::{naming, Named};
use crate::jsonrpc;
use crate::upstream::ListKind;
use bytes::Bytes;
use serde_json::value::RawValue;
use std::sync::Arc;
use tracing::Instrument;

impl Gateway {
    /// Answer one request of an initialized client with the whole response message. Messages
    /// tied to the request (progress, logs, server-to-client requests) go to `related` when
    /// given, else to the client's stream.
    /// Each request runs in its own span (client, request id, method; server and tool once
    /// routed; see `observe::trace::request` for when it is recorded).
    pub async fn request(
        &self,
        client: &Arc<Client>,
        id: &str,
        method: &str,
        params: Option<&RawValue>,
        related: Option<Related>,
    ) -> Bytes {
        let span = crate::observe::trace::request(&client.id, id, method);
        let started = tokio::time::Instant::now();
        let answer = self
            .answer(client, id, method, params.map(RawValue::get), related)
            .instrument(span)
            .await;
        answer.unwrap_or_else(|e| {
            if method != "ping" {
                self.refused(method, params, &e, started.elapsed());
            }
            jsonrpc::error_message(Some(id), &e.to_rpc())
        })
    }

    async fn answer(
        &self,
        client: &Arc<Client>,
        id: &str,
        method: &str,
        p: Option<&str>,
        related: Option<Related>,
    ) -> Result<Bytes, Failure> {
        let done = |()| jsonrpc::response_result(id, "{}");
        let view = self.view_of(client);
        let list = |kind| self.list(&view, client, id, kind, p);
        let route = match method {
            "ping" => return Ok(jsonrpc::response_result(id, "{}")),
            "tools/list" => return list(ListKind::Tools),
            "prompts/list" => return list(ListKind::Prompts),
            "resources/list" => return list(ListKind::Resources),
            "resources/templates/list" => return list(ListKind::Templates),
            "tools/call" => return self.tools_call(&view, client, related, id, p).await,
            "resources/subscribe" => {
                return Ok(match self.subscribe(client, p).await? {
                    None => jsonrpc::response_result(id, "{}"),
                    Some(refused) => jsonrpc::response_error_raw(id, refused.payload()),
                })
            }
            "resources/unsubscribe" => return self.unsubscribe(client, p).await.map(done),
            "logging/setLevel" => return self.set_level(client, p).await.map(done),
            "prompts/get" => ("prompts/get", resolve::prompt(&view.catalog, p)),
            "resources/read" => ("resources/read", resolve::read(&view.catalog, p)),
            "completion/complete" => ("completion/complete", resolve::completion(&view.catalog, p)),
            _ => return Err(Failure::method_not_found(method)),
        };
        let (method, target) = route;
        let named = resolve::named(method, p).unwrap_or_default();
        if !self.may_see(&view, &client.identity, &named) {
            return Err(self.hidden(&view, client, method, &named));
        }
        let mut route = Route::read(target?);
        route.audited = self.admit(&view, client, method, &named, &route, p)?;
        Ok(self
            .forward(&view, client, related, id, method, route)
            .await)
    }

    /// A request answered with `e` before reaching any upstream, for the admin page's list.
    fn refused(
        &self,
        method: &str,
        params: Option<&RawValue>,
        e: &Failure,
        took: std::time::Duration,
    ) {
        let p = params.map(RawValue::get);
        let name = match method {
            "tools/call" => jsonrpc::string_member(p, "name"),
            "resources/subscribe" => jsonrpc::string_member(p, "uri"),
            _ => resolve::named(method, p),
        };
        self.recent.push(super::recent::Entry {
            at: 0.0,
            method: method.to_string().into(),
            name: name.map(Arc::from),
            server: None,
            outcome: e.kind().reason(),
            latency_ms: took.as_secs_f64() * 1e3,
            error: Some(e.to_string()),
        });
    }

    /// Policy on a call about to be forwarded (deciding on the aggregate's name of `name`):
    /// refused, or allowed with what its audit line will say. Without rules and without an
    /// audit log, nothing is read from `params`.
    fn admit(
        &self,
        view: &View,
        client: &Client,
        method: &'static str,
        name: &str,
        route: &Route,
        params: Option<&str>,
    ) -> Result<Option<Audited>, Failure> {
        if !self.policy().active() && !self.audit.enabled() {
            return Ok(None);
        }
        let arguments = jsonrpc::member(params, "arguments");
        let arguments = arguments.as_deref().map(RawValue::get);
        let decided = view.admitted(name).unwrap_or(name);
        let up = &view.pool.all()[route.server];
        let rule = self.authorize(client, method, decided, &up.spec.name, arguments)?;
        if !self.audit.enabled() {
            return Ok(None);
        }
        Ok(Some(Audited {
            method,
            name: Arc::from(name),
            upstream_name: route.tool.clone().unwrap_or_else(|| Arc::from(name)),
            rule,
            arguments: arguments
                .filter(|_| up.spec.audit_arguments)
                .and_then(|a| RawValue::from_string(a.to_string()).ok()),
        }))
    }

    /// `tools/call`: the gateway's own tools, else the upstream that owns the name.
    async fn tools_call(
        &self,
        view: &View,
        client: &Arc<Client>,
        related: Option<Related>,
        id: &str,
        params: Option<&str>,
    ) -> Result<Bytes, Failure> {
        let name = jsonrpc::view(params.unwrap_or("{}"))
            .name
            .ok_or_else(|| Failure::invalid_params("tools/call needs params with a \"name\""))?
            .into_owned();
        let unwrapped;
        let (name, params) = match name.as_str() {
            tools::FIND_TOOLS => {
                let result = self.find_tools(view, &client.identity, params).await;
                return Ok(jsonrpc::response_result(id, &result));
            }
            tools::CALL_TOOL if view.lean => {
                let (inner, p) = tools::unwrap_call(params)?;
                unwrapped = p;
                (inner, Some(unwrapped.as_str()))
            }
            _ => (name, params),
        };
        let mut route = match self.resolve_tool(view, client, &name, params).await {
            Err(_) if !self.may_see(view, &client.identity, &name) => {
                return Err(self.hidden(view, client, "tools/call", &name))
            }
            Err(e) => match self.held_reason(view.admitted(&name).unwrap_or(&name)) {
                Some(why) => return Err(Failure::new(Kind::ToolHeld, why).with("tool", &*name)),
                None => return Err(e),
            },
            other => other?,
        };
        let exposed = route
            .exposed
            .clone()
            .unwrap_or_else(|| Arc::from(name.as_str()));
        route.audited = self.admit(view, client, "tools/call", &exposed, &route, params)?;
        Ok(self
            .forward(view, client, related, id, "tools/call", route)
            .await)
    }

    /// The route of tool `name` among those `client` may see in `view`; a name with the prefix
    /// of a lazy server not started yet starts it first (and is looked up in the new view).
    async fn resolve_tool(
        &self,
        view: &View,
        client: &Client,
        name: &str,
        params: Option<&str>,
    ) -> Result<Route, Failure> {
        let max = self.config().router.max_prompt_bytes;
        let found = {
            let visible = |t: &Named| self.may_see(view, &client.identity, &t.exposed);
            resolve::tool(&view.catalog, &view.router, max, name, params, &visible)
        };
        if found.is_ok() {
            return found;
        }
        let (sep, aggregate) = (&self.config().gateway.separator, view.admitted(name));
        let woken = view.pool.all().iter().find(|u| {
            let prefix = format!("{}{sep}", naming::prefix_of(&u.spec.name));
            u.dormant() && aggregate.is_some_and(|n| n.starts_with(&prefix))
        });
        match woken {
            Some(up) => {
                self.wake(up).await;
                let view = self.view_of(client);
                let visible = |t: &Named| self.may_see(&view, &client.identity, &t.exposed);
                resolve::tool(&view.catalog, &view.router, max, name, params, &visible)
            }
            None => found,
        }
    }

    /// A notification from the client.
    pub async fn notification(&self, client: &Client, method: &str, params: Option<&RawValue>) {
        match method {
            "notifications/initialized" => client.mark_initialized(),
            "notifications/cancelled" => {
                if let Some(id) = jsonrpc::member(params.map(RawValue::get), "requestId") {
                    if !client.cancel(id.get()) {
                        tracing::debug!(client = %client.id, id = id.get(), "cancellation of a request not in flight");
                    }
                }
            }
            "notifications/roots/list_changed" => {
                let conns = client.private_connections();
                for c in conns {
                    let _ = c.notify(method, None).await;
                }
            }
            _ => tracing::debug!(client = %client.id, method, "ignoring a client notification"),
        }
    }

    /// A response from the client: the answer to a server-to-client request we relayed.
    pub fn response(&self, client: &Client, id: &str, msg: Bytes) {
        if !client.answer(id, msg) {
            tracing::debug!(client = %client.id, id, "a response nobody waits for");
        }
    }

    /// A page of a list, holding only what `client` may see (its endpoint's view is a list
    /// of its own: only policy filters it further).
    fn list(
        &self,
        view: &View,
        client: &Client,
        id: &str,
        kind: ListKind,
        params: Option<&str>,
    ) -> Result<Bytes, Failure> {
        let cursor = jsonrpc::string_member(params, "cursor");
        let (catalog, size) = (&view.catalog, self.config().gateway.page_size);
        let page = if self.policy().active() {
            let (all, shown) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
            let page = catalog.page_where(kind, cursor.as_deref(), size, |n| {
                let keep = self.may_see(view, &client.identity, n);
                all.set(all.get() + 1);
                shown.set(shown.get() + usize::from(keep));
                keep
            });
            let method = match kind {
                ListKind::Tools => "tools/list",
                ListKind::Prompts => "prompts/list",
                ListKind::Resources => "resources/list",
                ListKind::Templates => "resources/templates/list",
            };
            self.audit_list(client, method, shown.get(), all.get());
            page
        } else {
            catalog.page(kind, cursor.as_deref(), size)
        };
        Ok(jsonrpc::response_result(
            id,
            &page.map_err(Failure::invalid_params)?,
        ))
    }

    /// Subscribe `client` to an exposed resource URI (`params` = `{"uri": ...}`); also for faces
    /// that subscribe on the client's behalf (2026-07-28 `subscriptions/listen`).
    /// `Ok(Some(reply))`: the upstream refused with that JSON-RPC error, which the client gets as
    /// it is; nothing is held then.
    pub async fn subscribe(
        &self,
        client: &Client,
        params: Option<&str>,
    ) -> Result<Option<Reply>, Failure> {
        let uri = resolve::required(params, "uri")?;
        let view = self.view_of(client);
        if !self.may_see(&view, &client.identity, &uri) {
            return Err(self.hidden(&view, client, "resources/subscribe", &uri));
        }
        let (server, original) = resolve::uri(&view.catalog, &uri)?;
        if !client.subscriptions.lock().insert(uri.clone()) {
            return Ok(None); // already subscribed
        }
        let up = &view.pool.all()[server];
        if !self.subscriptions.hold(&up.spec.name, &original) {
            return Ok(None); // held upstream for another client already
        }
        let refused = match subscriptions::subscribe(up, &original).await {
            Ok(None) => return Ok(None),
            Ok(Some(error)) => Ok(Some(error)),
            Err(e) => Err(failed(&up.spec.name, "resources/subscribe", e)),
        };
        client.subscriptions.lock().remove(&uri);
        self.subscriptions.drop_one(&up.spec.name, &original);
        refused
    }

    async fn unsubscribe(&self, client: &Client, params: Option<&str>) -> Result<(), Failure> {
        let uri = resolve::required(params, "uri")?;
        if client.subscriptions.lock().remove(&uri) {
            self.unsubscribe_upstream(&uri).await;
        }
        Ok(())
    }

    /// One client stopped watching `uri`: unsubscribe upstream when it was the last.
    pub(super) async fn unsubscribe_upstream(&self, uri: &str) {
        let view = self.view(None).expect("the aggregate's view always exists");
        let Ok((server, original)) = resolve::uri(&view.catalog, uri) else {
            return;
        };
        let up = &view.pool.all()[server];
        if self.subscriptions.drop_one(&up.spec.name, &original) {
            subscriptions::unsubscribe(up, &original).await;
        }
    }

    /// `logging/setLevel`: remembered for the client and fanned out to every upstream that logs.
    async fn set_level(&self, client: &Client, params: Option<&str>) -> Result<(), Failure> {
        let level = resolve::required(params, "level")?;
        *client.log_level.lock() = Some(level);
        let p = params.unwrap_or("{}");
        let mut conns: Vec<_> = self
            .pool()
            .all()
            .iter()
            .filter_map(|u| u.connection().ok())
            .collect();
        conns.extend(client.private_connections());
        let sets = conns
            .iter()
            // 2026-07-28 sets the level per request; its upstreams have no logging/setLevel.
            .filter(|c| c.init().offers.logging && !c.init().stateless)
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
