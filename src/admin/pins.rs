//! `GET /pins` (every pinned tool definition, and what awaits approval, with its diff) and
//! `POST /pins/approve {"server", "tool"?}` (approve, applied at once).

use super::analyze::problem;
use crate::call::{Failure, Kind};
use crate::session::Sessions;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// `GET /pins`
pub async fn list(State(sessions): State<Arc<Sessions>>) -> Response {
    let pins = &sessions.gateway().pins;
    Json(json!({ "file": pins.path(), "pins": pins.rows() })).into_response()
}

/// `POST /pins/approve` input.
#[derive(Deserialize)]
pub struct Approve {
    server: String,
    tool: Option<String>,
}

/// `POST /pins/approve`
pub async fn approve(
    State(sessions): State<Arc<Sessions>>,
    headers: axum::http::HeaderMap,
    Json(a): Json<Approve>,
) -> Response {
    if let Err(f) =
        crate::downstream::guard::origin_and_host(&headers, &sessions.gateway().config().gateway)
    {
        return crate::downstream::Rejection::from(f).into_response();
    }
    match sessions.gateway().approve(&a.server, a.tool.as_deref()) {
        Ok(done) => Json(json!({ "approved": done })).into_response(),
        Err(e) => problem(Failure::new(Kind::InvalidParams, e)),
    }
}
