//! `/health` (the process is alive), `/ready` (its upstreams are), `/servers` (each upstream's
//! state) and `/metrics` (Prometheus text). `/servers` and `/metrics` name servers and errors, so
//! they pass the same Origin/Host checks as the MCP faces (a DNS-rebinding page cannot read
//! them); the probes stay open, and `/ready` names servers only to a caller that passes them.

use crate::catalog::Catalog;
use crate::downstream::{guard, Rejection};
use crate::gateway::Handle;
use crate::layers::breaker::Phase;
use crate::session::Sessions;
use crate::upstream::{State as Life, Upstream};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

/// `GET /health`: 200 while the process serves.
pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /ready`: 200 when every upstream that should run (all but lazy ones) is ready, or at
/// least `gateway.ready_minimum` of them; else 503 naming those that are not (to a caller that
/// passes the Origin/Host checks; a probe from elsewhere gets the status and the counts).
pub async fn ready(State(sessions): State<Arc<Sessions>>, headers: HeaderMap) -> Response {
    let gw = sessions.gateway();
    let pool = gw.pool();
    let eager: Vec<_> = pool.all().iter().filter(|u| !u.spec.lazy).collect();
    let ready = eager.iter().filter(|u| u.state() == Life::Ready).count();
    let needed = gw
        .config()
        .gateway
        .ready_minimum
        .map_or(eager.len(), |m| m.min(eager.len()));
    let trusted = guard::origin_and_host(&headers, &gw.config().gateway).is_ok();
    let waiting: Vec<Value> = gw
        .pool()
        .all()
        .iter()
        .filter(|u| trusted && !matches!(u.state(), Life::Ready | Life::Dormant))
        .map(|u| json!({ "server": &*u.spec.name, "state": u.state(), "last_error": u.last_error() }))
        .collect();
    let mut body = json!({
        "status": if ready >= needed { "ready" } else { "not ready" },
        "ready": ready,
        "required": needed,
        "servers": waiting,
    });
    // A store that is down degrades the replica (limits are local, or refused) but leaves it
    // serving: it stays in rotation, and says so.
    if let Some(store) = crate::cluster::store() {
        body["cluster"] = store.describe();
    }
    match ready >= needed {
        true => Json(body).into_response(),
        false => (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response(),
    }
}

/// `GET /servers`: per upstream, its state, restarts, last error, tool count and recent latency.
pub async fn servers(State(sessions): State<Arc<Sessions>>, headers: HeaderMap) -> Response {
    let gw = sessions.gateway();
    if let Err(f) = guard::origin_and_host(&headers, &gw.config().gateway) {
        return Rejection::from(f).into_response();
    }
    let view = gw.view(None).expect("the aggregate's view always exists");
    let rows: Vec<Value> = view
        .pool
        .all()
        .iter()
        .map(|u| describe(u, &view.catalog, gw.held_count(&u.spec.name)))
        .collect();
    let endpoints = gw.endpoints();
    let mut config = serde_json::to_value(gw.loaded.get()).unwrap_or_default();
    config["source"] = json!(gw.config().source);
    let cluster = crate::cluster::store().map(|s| s.describe());
    Json(json!({ "servers": rows, "endpoints": endpoints, "sessions": sessions.len(), "config": config, "cluster": cluster }))
        .into_response()
}

/// One upstream as `/servers` (and `switchboard check`) describe it.
pub fn describe(u: &Handle, catalog: &Catalog, held: usize) -> Value {
    let (p50, p99) = u
        .latency()
        .percentiles()
        .map_or((None, None), |(a, b)| (Some(a), Some(b)));
    json!({
        "server": &*u.spec.name,
        "transport": u.spec.transport.kind(),
        "isolation": u.spec.isolation,
        "lazy": u.spec.lazy,
        "state": shown_state(u, u.stack.phase()),
        "protocol": u.connection().ok().map(|c| c.init().protocol_version.clone()),
        "pid": u.connection().ok().and_then(|c| c.pid()),
        "restarts": u.restarts(),
        "breaker": match u.stack.phase() {
            Phase::Closed => "closed",
            Phase::Open => "open",
            Phase::HalfOpen => "half-open",
        },
        "ready_in_ms": u.ready_in().map(|d| d.as_millis() as u64),
        "last_error": u.last_error(),
        "next_try_in_ms": u.next_try_in().map(|d| d.as_millis() as u64),
        "stderr": if u.state() == Life::Ready { Vec::new() } else { u.stderr().last() },
        "tools": catalog.tools.items().iter().filter(|t| t.server == u.index).count(),
        "held": held,
        "on_tool_change": u.spec.on_tool_change,
        "latency_p50_us": p50,
        "latency_p99_us": p99,
    })
}

/// The state `/servers` shows: a ready upstream whose breaker is open is `open`, half-open
/// (probing) is `degraded`.
fn shown_state(u: &Upstream, breaker: Phase) -> Value {
    match (u.state(), breaker) {
        (Life::Ready, Phase::Open) => json!("open"),
        (Life::Ready, Phase::HalfOpen) => json!("degraded"),
        (state, _) => json!(state),
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(sessions): State<Arc<Sessions>>, headers: HeaderMap) -> Response {
    if let Err(f) = guard::origin_and_host(&headers, &sessions.gateway().config().gateway) {
        return Rejection::from(f).into_response();
    }
    match crate::observe::prometheus() {
        Some(handle) => {
            let mut r = handle.render().into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            r
        }
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable",
        )
            .into_response(),
    }
}

/// `POST /admin/reload`: read the configuration again and apply it; 200 with what changed, or
/// 422 with why it was refused (the running configuration stays).
pub async fn reload(
    State(sessions): State<Arc<Sessions>>,
    axum::Extension(reload): axum::Extension<crate::admin::Reload>,
    headers: HeaderMap,
) -> Response {
    if let Err(f) = guard::origin_and_host(&headers, &sessions.gateway().config().gateway) {
        return Rejection::from(f).into_response();
    }
    match reload().await {
        Ok(applied) => Json(json!({ "status": "applied", "applied": applied })).into_response(),
        Err(why) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "status": "refused", "error": why })),
        )
            .into_response(),
    }
}
