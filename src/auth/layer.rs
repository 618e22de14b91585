//! The middleware that authenticates each request: the MCP faces need a caller, the admin
//! endpoints a caller with an admin role (while authentication is on). A refusal is answered
//! here, with the challenge, and recorded in the audit log.

use super::{metadata, Auth, Current, Refusal};
use crate::call::{Failure, Kind};
use crate::config::AuthMode;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Before `/mcp`, `/sse`, `/messages`.
pub async fn faces(State(auth): State<Current>, mut req: Request, next: Next) -> Response {
    let auth = auth.load_full();
    match auth.authenticate(req.headers()).await {
        Ok(id) => {
            req.extensions_mut().insert(id);
            next.run(req).await
        }
        Err(r) => refuse(&auth, &req, r),
    }
}

/// Before the admin endpoints (not `/health` and `/ready`).
pub async fn admin(State(auth): State<Current>, mut req: Request, next: Next) -> Response {
    let auth = auth.load_full();
    let id = match auth.authenticate(req.headers()).await {
        Ok(id) => id,
        Err(r) => return refuse(&auth, &req, r),
    };
    let roles = &auth.settings.admin_roles;
    if auth.settings.mode != AuthMode::Off && !id.has_any_role(roles) {
        let r = Refusal {
            failure: Failure::new(
                Kind::PolicyDenied,
                format!(
                    "{} needs one of the roles {roles:?} (auth.admin_roles)",
                    req.uri().path()
                ),
            ),
            error: None,
        };
        return refuse(&auth, &req, r);
    }
    req.extensions_mut().insert(id);
    next.run(req).await
}

/// The face a path belongs to, as the audit log names it (an endpoint's `/mcp/NAME` is `http`).
fn face_of(path: &str) -> &'static str {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    match first {
        "mcp" => "http",
        "sse" | "messages" => "sse",
        _ => "admin",
    }
}

fn refuse(auth: &Auth, req: &Request, r: Refusal) -> Response {
    let face = face_of(req.uri().path());
    auth.audit_refusal(&r, face, req.uri().path());
    tracing::info!(path = req.uri().path(), reason = r.failure.kind().reason(), error = %r.failure, "request refused");
    let class = r.failure.class();
    let status = StatusCode::from_u16(class.status).unwrap_or(StatusCode::UNAUTHORIZED);
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": class.code, "message": r.failure.message(), "data": { "reason": r.failure.kind().reason() } },
    });
    let mut resp = (status, Json(body)).into_response();
    if r.failure.kind() != Kind::PolicyDenied {
        let value = metadata::challenge(auth, req.headers(), &r);
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    resp
}

#[cfg(test)]
mod tests {
    #[test]
    fn endpoint_paths_belong_to_their_face() {
        use super::face_of;
        assert_eq!(face_of("/mcp"), "http");
        assert_eq!(face_of("/mcp/ide"), "http");
        assert_eq!(face_of("/sse/clock"), "sse");
        assert_eq!(face_of("/messages"), "sse");
        assert_eq!(face_of("/servers"), "admin");
        assert_eq!(face_of("/admin/reload"), "admin");
        assert_eq!(face_of("/mcpx"), "admin");
    }
}
