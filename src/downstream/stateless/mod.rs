//! The stateless (2026-07-28) face on `/mcp` and on stdio: every request is self-contained. Its
//! `_meta` carries the version and the client's capabilities, `MCP-Protocol-Version`/`Mcp-Method`/
//! `Mcp-Name` mirror the body (checked by [`ladder`]), and there is no session: each request gets
//! a throw-away [`Client`] so the gateway core serves it like any other. Server-to-client
//! requests of an upstream become `input_required` results ([`exchange`], parked in [`Parked`]);
//! change notifications flow on `subscriptions/listen` streams ([`listen`]).

mod exchange;
mod ladder;
mod listen;
mod running;

pub use exchange::Parked;

use super::guard::Wants;
use super::{reply, Faces};
use crate::call::{failure, Failure, Kind};
use crate::gateway::{Accepts, Client, Gateway, Negotiated};
use crate::jsonrpc;
use crate::protocol::{self, STATELESS_VERSION};
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use serde_json::value::RawValue;
use std::sync::Arc;

/// Methods of the `initialize` generation that 2026-07-28 removed.
const REMOVED: &[(&str, &str)] = &[
    ("initialize", "protocol 2026-07-28 has no initialize: send requests with their _meta envelope"),
    ("ping", "protocol 2026-07-28 has no ping"),
    ("logging/setLevel", "protocol 2026-07-28 sets the log level per request (_meta io.modelcontextprotocol/logLevel)"),
    ("resources/subscribe", "protocol 2026-07-28 subscribes with subscriptions/listen"),
    ("resources/unsubscribe", "protocol 2026-07-28 subscribes with subscriptions/listen (close the stream to stop)"),
];

/// Whether a POST speaks 2026-07-28: no session, and `server/discover` or a version (header or
/// envelope) that is not one of the `initialize` generation's.
pub fn is_stateless(headers: &HeaderMap, method: &str, params: Option<&RawValue>) -> bool {
    if headers.contains_key(super::SESSION_HEADER) {
        return false;
    }
    method == "server/discover"
        || ladder::requested_version(headers, params).is_some_and(|v| !protocol::is_initialize(&v))
}

/// Answer one 2026-07-28 request over HTTP.
pub async fn handle(
    faces: &Arc<Faces>,
    headers: &HeaderMap,
    caller: super::http::Caller,
    id: &str,
    method: &str,
    params: Option<&RawValue>,
    wants: Wants,
) -> Response {
    let gw = faces.gateway();
    let who = (caller.identity, "http", caller.endpoint);
    let client = match prepare(gw, Some(headers), method, params, who) {
        Ok(c) => c,
        Err(e) => return refuse(id, e),
    };
    if let Some(ip) = caller.peer {
        // No session to tell anonymous stateless clients apart: per-client limits count per
        // address (an authenticated one counts under its identity).
        client.set_key(Arc::from(format!("peer:{ip}")));
    }
    let stripped = strip_envelope(params);
    let params = stripped.as_deref().or(params);
    match method {
        "server/discover" => reply::json(
            axum::http::StatusCode::OK,
            jsonrpc::response_result(id, &gw.discover_result()),
        ),
        "subscriptions/listen" => listen::open(faces, client, id, params).await,
        _ => exchange::start(faces, client, id, method, params, wants).await,
    }
}

/// In a cluster, the answer of the replica that holds the parked call a retry's `requestState`
/// names, when that is another one (the retry is forwarded there); `None`: served here (parked
/// here, unknown, or its replica gone: then the state is unknown, and the client starts over).
pub async fn parked_elsewhere(
    faces: &Faces,
    req: &super::forward::Incoming<'_>,
    params: Option<&RawValue>,
) -> Option<Response> {
    let store = crate::cluster::store()?;
    if req.forwarded() {
        return None;
    }
    let state = jsonrpc::string_member(params.map(RawValue::get), "requestState")?;
    if faces.parked.holds(&state) {
        return None;
    }
    let url = store.parked_at(&state).await?;
    match super::forward::send(&url, req).await {
        Ok(answer) => Some(answer),
        Err(missed) => {
            tracing::warn!(
                ?missed,
                "the replica holding a parked call does not answer; its requestState is lost"
            );
            None
        }
    }
}

/// Whether a message on a face without headers (stdio) speaks 2026-07-28: `server/discover`, or
/// an envelope naming a version outside the `initialize` generation.
pub fn is_stateless_message(method: &str, params: Option<&RawValue>) -> bool {
    is_stateless(&HeaderMap::new(), method, params)
}

/// Answer one 2026-07-28 request on a face that writes messages (stdio): its notifications, then
/// its answer. `owner` is the face's own session: its id is the key per-client limits count
/// under, its identity the caller's; `cancel` fires when it cancels the request.
pub fn messages(
    faces: &Arc<Faces>,
    owner: &Client,
    id: &str,
    method: &str,
    params: Option<&RawValue>,
    cancel: tokio_util::sync::CancellationToken,
) -> futures::stream::BoxStream<'static, Bytes> {
    use futures::StreamExt;
    let one = |msg: Bytes| futures::stream::iter([msg]).boxed();
    let gw = faces.gateway();
    let who = (owner.identity.clone(), owner.face, owner.endpoint.clone());
    let client = match prepare(gw, None, method, params, who) {
        Ok(c) => c,
        Err(e) => return one(jsonrpc::error_message(Some(id), &e.to_rpc())),
    };
    client.set_key(owner.id.clone()); // one client per stdio face
    let stripped = strip_envelope(params);
    let params = stripped.as_deref().or(params);
    match method {
        "server/discover" => one(jsonrpc::response_result(id, &gw.discover_result())),
        "subscriptions/listen" => {
            let e = Failure::new(
                Kind::Unsupported,
                "subscriptions/listen is not served on the stdio face yet",
            );
            one(jsonrpc::error_message(Some(id), &e.to_rpc()))
        }
        _ => exchange::start_messages(faces, client, id, method, params, cancel),
    }
}

/// The checks every 2026-07-28 request passes (envelope, headers when there are any, removed
/// methods), and the throw-away client it is served as: of `who` (identity, face, endpoint).
fn prepare(
    gw: &Gateway,
    headers: Option<&HeaderMap>,
    method: &str,
    params: Option<&RawValue>,
    who: (Arc<crate::call::Identity>, &'static str, Option<Arc<str>>),
) -> Result<Arc<Client>, Failure> {
    let (identity, face, endpoint) = who;
    let envelope = ladder::check(headers, method, params)?;
    if let (Some(headers), "tools/call") = (headers, method) {
        let view = gw.view(endpoint.as_deref());
        let catalog = view.map(|v| v.catalog.clone()).unwrap_or_default();
        param_headers(&catalog, headers, params)
            .map_err(|why| Failure::new(Kind::HeaderMismatch, format!("header mismatch: {why}")))?;
    }
    if let Some((_, why)) = REMOVED.iter().find(|(m, _)| *m == method) {
        return Err(Failure::new(
            Kind::MethodNotFound,
            format!("method not found: {method:?}; {why}"),
        ));
    }
    let client = Arc::new(Client::for_caller(identity, face).at(endpoint));
    let accepts: Accepts = serde_json::from_str(&envelope.capabilities).unwrap_or_default();
    client.negotiate(Negotiated {
        version: STATELESS_VERSION,
        client_info: envelope.client_info,
        capabilities: envelope.capabilities,
        accepts,
    });
    client.mark_initialized();
    *client.log_level.lock() = jsonrpc::member(params.map(RawValue::get), "_meta")
        .and_then(|m| jsonrpc::string_member(Some(m.get()), "io.modelcontextprotocol/logLevel"));
    Ok(client)
}

/// The params without the envelope's `io.modelcontextprotocol/*` `_meta` keys: they describe
/// this hop, and an upstream of the `initialize` generation refuses requests carrying them.
/// `None` when there is nothing to remove.
fn strip_envelope(params: Option<&RawValue>) -> Option<Box<RawValue>> {
    type Object = indexmap::IndexMap<String, Box<RawValue>>;
    let mut p: Object = serde_json::from_str(params?.get()).ok()?;
    let mut meta: Object = serde_json::from_str(p.get("_meta")?.get()).ok()?;
    meta.retain(|k, _| !k.starts_with("io.modelcontextprotocol/"));
    if meta.is_empty() {
        p.shift_remove("_meta");
    } else {
        p.insert("_meta".into(), serde_json::value::to_raw_value(&meta).ok()?);
    }
    serde_json::value::to_raw_value(&p).ok()
}

/// A `tools/call`'s `Mcp-Param-*` headers against its arguments, per the tool's `x-mcp-header`
/// annotations (a tool the gateway does not know is left to the dispatcher to refuse).
fn param_headers(
    catalog: &crate::catalog::Catalog,
    headers: &HeaderMap,
    params: Option<&RawValue>,
) -> Result<(), String> {
    use crate::jsonrpc::param_headers::validate;
    let p = params.map(RawValue::get);
    let Some(name) = jsonrpc::string_member(p, "name") else {
        return Ok(());
    };
    let Some(tool) = catalog.tools.get(&name) else {
        return Ok(());
    };
    let marked = &tool.param_headers;
    if marked.is_empty() {
        return Ok(());
    }
    let arguments = jsonrpc::member(p, "arguments")
        .and_then(|a| serde_json::from_str::<serde_json::Value>(a.get()).ok())
        .unwrap_or_default();
    validate(marked, &arguments, |h| {
        headers
            .get_all(h)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    })
}

/// A failure as the whole answer, with the status its class gives.
fn refuse(id: &str, e: Failure) -> Response {
    reply::json(
        reply::status(&e),
        jsonrpc::error_message(Some(id), &e.to_rpc()),
    )
}

/// The answer to a 2026-07-28 client: results say `resultType` (and lists and reads their
/// caching hints); errors keep their code, and get the revision's HTTP status.
fn finish(answer: &Bytes, id: &str, method: &str) -> (axum::http::StatusCode, Bytes) {
    let Ok(msg) = jsonrpc::parse(answer) else {
        return (axum::http::StatusCode::OK, answer.clone());
    };
    match msg.kind() {
        Ok(jsonrpc::Kind::Response {
            outcome: jsonrpc::Outcome::Result(r),
            ..
        }) => {
            let cacheable = matches!(
                method,
                "tools/list"
                    | "prompts/list"
                    | "resources/list"
                    | "resources/templates/list"
                    | "resources/read"
            );
            let mut members: Vec<(&str, &str)> = Vec::new();
            let text = r.get();
            if !has_member(text, "resultType") {
                members.push(("resultType", "\"complete\""));
            }
            if cacheable && !has_member(text, "ttlMs") {
                // Lists change when an upstream says so; subscriptions/listen carries that.
                members.push(("ttlMs", "0"));
            }
            if cacheable && !has_member(text, "cacheScope") {
                members.push(("cacheScope", "\"private\""));
            }
            let result = if members.is_empty() {
                text.to_string()
            } else {
                jsonrpc::set_members(Some(text), &members)
            };
            (
                axum::http::StatusCode::OK,
                jsonrpc::response_result(id, &result),
            )
        }
        Ok(jsonrpc::Kind::Response {
            outcome: jsonrpc::Outcome::Error(e),
            ..
        }) => {
            let code = jsonrpc::member(Some(e.get()), "code")
                .and_then(|c| c.get().parse::<i64>().ok())
                .unwrap_or(0);
            let status = axum::http::StatusCode::from_u16(failure::status_of_code(code))
                .unwrap_or(axum::http::StatusCode::OK);
            (status, jsonrpc::response_error_raw(id, e.get()))
        }
        _ => (axum::http::StatusCode::OK, answer.clone()),
    }
}

/// Whether a JSON object has a top-level member `key`.
fn has_member(object: &str, key: &str) -> bool {
    jsonrpc::member(Some(object), key).is_some()
}
