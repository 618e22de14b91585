//! Which endpoint a request came in through: `/mcp` and `/sse` serve the aggregate (unless
//! `gateway.aggregate = false`), `/mcp/NAME` and `/sse/NAME` the named `[endpoints.NAME]`.

use super::{Faces, Rejection};
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use std::sync::Arc;

/// The endpoint of a request (`None`: the aggregate), checked to exist.
pub struct At(pub Option<Arc<str>>);

impl FromRequestParts<Arc<Faces>> for At {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, faces: &Arc<Faces>) -> Result<At, Rejection> {
        let params = RawPathParams::from_request_parts(parts, faces).await.ok();
        let name = params
            .as_ref()
            .and_then(|p| p.iter().find(|(k, _)| *k == "endpoint").map(|(_, v)| v));
        Ok(At(faces.gateway().endpoint(name)?))
    }
}
