//! `GET /`: what this is and where things are: the MCP endpoint, the legacy SSE endpoint, the
//! status endpoints, the version. HTML for a browser (by `Accept`), JSON otherwise. It names no
//! server, so it needs no Host check.

use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::json;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `GET /`.
pub async fn home(headers: HeaderMap) -> Response {
    let html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if html {
        return Html(PAGE.replace("{version}", VERSION)).into_response();
    }
    Json(json!({
        "name": "switchboard",
        "version": VERSION,
        "mcp": "/mcp",
        "sse": "/sse",
        "status": { "health": "/health", "ready": "/ready", "servers": "/servers", "metrics": "/metrics" },
        "routing": { "analyze": "/analyze?prompt=...", "route": "POST /route" },
        "pins": { "list": "/pins", "approve": "POST /pins/approve" },
        "admin": { "page": "/admin", "reload": "POST /admin/reload", "catalog": "/admin/catalog", "recent": "/admin/recent" },
    }))
    .into_response()
}

const PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>switchboard</title></head>
<body>
<h1>switchboard {version}</h1>
<p>One MCP endpoint over many MCP servers. Point an MCP client at <code>/mcp</code> on this
address (streamable HTTP; <code>/sse</code> for clients of the 2024-11-05 transport).</p>
<ul>
<li><a href="/admin">/admin</a>: the admin page (servers, catalog, routing playground, reload, recent requests)</li>
<li><a href="/servers">/servers</a>: each upstream server's state, tools, latency and last error</li>
<li><a href="/ready">/ready</a>, <a href="/health">/health</a>: probes</li>
<li><a href="/metrics">/metrics</a>: Prometheus metrics</li>
<li><a href="/pins">/pins</a>: pinned tool definitions, and the changes that await approval</li>
<li><a href="/analyze?prompt=add+2+and+40">/analyze?prompt=...</a>: which servers a prompt routes to, and why</li>
</ul>
</body></html>
"#;
