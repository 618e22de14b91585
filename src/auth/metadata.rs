//! RFC 9728 protected-resource metadata at `/.well-known/oauth-protected-resource` (and the
//! path-suffixed `/.well-known/oauth-protected-resource/mcp` clients derive from `/mcp`), and the
//! `WWW-Authenticate: Bearer resource_metadata="..."` challenge that points clients at it.

use super::{Auth, Current, Refusal};
use crate::config::AuthMode;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// The metadata routes (404 while authentication is off: nothing is protected).
pub fn routes(auth: Current) -> Router {
    Router::new()
        .route(WELL_KNOWN, get(root))
        .route(&format!("{WELL_KNOWN}/mcp"), get(mcp))
        .with_state(auth)
}

async fn root(State(auth): State<Current>, headers: HeaderMap) -> Response {
    document(&auth.load(), &headers, "")
}

async fn mcp(State(auth): State<Current>, headers: HeaderMap) -> Response {
    document(&auth.load(), &headers, "/mcp")
}

fn document(auth: &Auth, headers: &HeaderMap, path: &str) -> Response {
    if auth.settings.mode == AuthMode::Off {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "authentication is off: this gateway protects nothing" })),
        )
            .into_response();
    }
    let m = &auth.settings.metadata;
    let mut doc = json!({
        "resource": resource(auth, headers, path),
        "authorization_servers": m.authorization_servers,
        "bearer_methods_supported": ["header"],
    });
    if !m.scopes_supported.is_empty() {
        doc["scopes_supported"] = json!(m.scopes_supported);
    }
    if let Some(d) = &m.resource_documentation {
        doc["resource_documentation"] = json!(d);
    }
    Json(doc).into_response()
}

/// Scheme and authority of this gateway: the configured resource's, else the request's `Host`.
fn origin(auth: &Auth, headers: &HeaderMap) -> String {
    if let Some(u) = auth
        .settings
        .metadata
        .resource
        .as_deref()
        .and_then(|r| url::Url::parse(r).ok())
    {
        return u.origin().ascii_serialization();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

/// The resource identifier of `path` (`/mcp`, or `""` for the gateway as a whole).
fn resource(auth: &Auth, headers: &HeaderMap, path: &str) -> String {
    match (&auth.settings.metadata.resource, path) {
        (Some(r), "/mcp") => r.clone(),
        _ => format!("{}{path}", origin(auth, headers)),
    }
}

/// Where the metadata of `/mcp` is.
fn metadata_url(auth: &Auth, headers: &HeaderMap) -> String {
    let path = auth
        .settings
        .metadata
        .resource
        .as_deref()
        .and_then(|r| url::Url::parse(r).ok())
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_else(|| "/mcp".into());
    format!("{}{WELL_KNOWN}{path}", origin(auth, headers))
}

/// The `WWW-Authenticate` value of a refusal.
pub fn challenge(auth: &Auth, headers: &HeaderMap, r: &Refusal) -> HeaderValue {
    let mut parts = vec![format!(
        "resource_metadata=\"{}\"",
        metadata_url(auth, headers)
    )];
    let scopes = if auth.settings.required_scopes.is_empty() {
        &auth.settings.metadata.scopes_supported
    } else {
        &auth.settings.required_scopes
    };
    if !scopes.is_empty() {
        parts.push(format!("scope=\"{}\"", scopes.join(" ")));
    }
    if let Some(e) = r.error {
        parts.push(format!("error=\"{e}\""));
        let description: String = r
            .failure
            .message()
            .chars()
            .filter(|c| *c != '"' && *c != '\\' && !c.is_control())
            .collect();
        parts.push(format!("error_description=\"{description}\""));
    }
    HeaderValue::from_str(&format!("Bearer {}", parts.join(", ")))
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
}
