//! `GET /admin`: the admin page, built into the binary (HTML, one script, one stylesheet; no
//! build step, nothing fetched from elsewhere), and the two lists it reads besides `/servers`,
//! `/analyze` and `/admin/reload`: the merged catalog and the recent requests. The page itself
//! holds no data, so a browser can load it before it has credentials; everything it shows comes
//! from admin endpoints, which need an admin role once authentication is on (the page asks
//! for a key when one answers 401).

use crate::downstream::{guard, Rejection};
use crate::session::Sessions;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::sync::Arc;

const PAGE: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/app.js");
const STYLE: &str = include_str!("page/style.css");

/// The page's own headers: no framing by other sites, no script from anywhere else.
fn asset(body: &'static str, kind: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// `GET /admin`.
pub async fn page() -> Response {
    asset(PAGE, "text/html; charset=utf-8")
}

/// `GET /admin/app.js`.
pub async fn script() -> Response {
    asset(SCRIPT, "text/javascript; charset=utf-8")
}

/// `GET /admin/style.css`.
pub async fn style() -> Response {
    asset(STYLE, "text/css; charset=utf-8")
}

/// `GET /admin/catalog`: every tool of the aggregate (exposed name, server, description).
pub async fn catalog(State(sessions): State<Arc<Sessions>>, headers: HeaderMap) -> Response {
    let gw = sessions.gateway();
    if let Err(f) = guard::origin_and_host(&headers, &gw.config().gateway) {
        return Rejection::from(f).into_response();
    }
    let catalog = gw.catalog();
    let tools: Vec<_> = catalog
        .tools
        .items()
        .iter()
        .map(|t| json!({ "name": &*t.exposed, "server": &*t.server_name, "description": t.description }))
        .collect();
    Json(json!({
        "tools": tools,
        "prompts": catalog.prompts.items().len(),
        "resources": catalog.resources.resources.len(),
    }))
    .into_response()
}

/// `GET /admin/recent`: the last requests answered, newest first.
pub async fn recent(State(sessions): State<Arc<Sessions>>, headers: HeaderMap) -> Response {
    let gw = sessions.gateway();
    if let Err(f) = guard::origin_and_host(&headers, &gw.config().gateway) {
        return Rejection::from(f).into_response();
    }
    Json(json!({ "requests": gw.recent.list(), "kept": crate::gateway::recent::KEPT }))
        .into_response()
}
