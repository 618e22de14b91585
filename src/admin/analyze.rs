//! `/analyze` (why a prompt routes where it does) and `/route` (route it and call the tool).

use crate::catalog::{Catalog, Named};
use crate::downstream::{guard, Rejection};
use crate::gateway::{Client, Gateway};
use crate::router::Analysis;
use crate::session::Sessions;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

fn problem(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// `/analyze` input.
#[derive(Deserialize)]
pub struct AnalyzeInput {
    prompt: Option<String>,
    top: Option<usize>,
}

/// `GET /analyze?prompt=...&top=N`
pub async fn analyze_get(
    State(sessions): State<Arc<Sessions>>,
    headers: HeaderMap,
    Query(q): Query<AnalyzeInput>,
) -> Response {
    analyze(sessions.gateway(), &headers, q)
}

/// `POST /analyze {"prompt": ..., "top": N}`
pub async fn analyze_post(
    State(sessions): State<Arc<Sessions>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    match serde_json::from_slice::<AnalyzeInput>(&body) {
        Ok(q) => analyze(sessions.gateway(), &headers, q),
        Err(e) => problem(
            StatusCode::BAD_REQUEST,
            format!("body must be JSON {{\"prompt\": ..., \"top\": N}}: {e}"),
        ),
    }
}

fn analyze(gw: &Arc<Gateway>, headers: &HeaderMap, q: AnalyzeInput) -> Response {
    if let Err(f) = guard::origin_and_host(headers, &gw.config.gateway) {
        return Rejection::from(f).into_response();
    }
    let Some(prompt) = q.prompt.filter(|p| !p.trim().is_empty()) else {
        return problem(StatusCode::BAD_REQUEST, "missing \"prompt\"");
    };
    let analysis = gw.router().analyze(&prompt, q.top.unwrap_or(5));
    wake_selected(gw, &analysis);
    Json(analysis).into_response()
}

/// Lazy servers the analysis selects are started in the background (the seed's "analyze starts
/// the servers it picks").
fn wake_selected(gw: &Arc<Gateway>, analysis: &Analysis) {
    for name in &analysis.selected {
        if let Some(up) = gw.pool.by_name(name).filter(|u| u.dormant()) {
            let (gw, index) = (gw.clone(), up.index);
            tokio::spawn(async move { gw.wake(index).await });
        }
    }
}

/// `/route` input.
#[derive(Deserialize)]
pub struct RouteInput {
    prompt: String,
    tool: Option<String>,
    #[serde(default)]
    arguments: Option<Value>,
}

/// `POST /route {"prompt", "tool"?, "arguments"?}`
pub async fn route(
    State(sessions): State<Arc<Sessions>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let gw = sessions.gateway();
    if let Err(f) = guard::origin_and_host(&headers, &gw.config.gateway) {
        return Rejection::from(f).into_response();
    }
    let input: RouteInput = match serde_json::from_slice(&body) {
        Ok(i) => i,
        Err(e) => {
            return problem(
                StatusCode::BAD_REQUEST,
                format!("body must be JSON {{\"prompt\", \"tool\"?, \"arguments\"?}}: {e}"),
            )
        }
    };
    let mut analysis = gw.router().analyze(&input.prompt, 0);
    if let Some(best) = analysis
        .ranking
        .first()
        .and_then(|s| gw.pool.by_name(&s.server))
        .filter(|u| u.dormant())
    {
        gw.wake(best.index).await;
        analysis = gw.router().analyze(&input.prompt, 0);
    }
    let catalog = gw.catalog();
    let pick = pick(&catalog, &analysis, input.tool.as_deref());
    let Some(tool) = pick else {
        let why = match &input.tool {
            Some(t) => format!("no configured server offers a tool named {t:?}"),
            None => "no tool matched the prompt; name one with \"tool\"".to_string(),
        };
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": why, "routing": analysis })),
        )
            .into_response();
    };
    metrics::counter!(crate::observe::ROUTING, "server" => tool.server_name.to_string())
        .increment(1);
    let arguments = input.arguments.unwrap_or_else(|| json!({}));
    let answer = call(gw, tool, arguments).await;
    let mut out =
        json!({ "server": &*tool.server_name, "tool": &*tool.exposed, "routing": analysis });
    match (answer.get("result"), answer.get("error")) {
        (Some(r), _) => {
            out["result"] = r.clone();
            Json(out).into_response()
        }
        (_, e) => {
            out["error"] = e.cloned().unwrap_or(Value::Null);
            (StatusCode::BAD_GATEWAY, Json(out)).into_response()
        }
    }
}

/// The tool `/route` calls: the named one on the best-ranked server that has it (else on any
/// server), or without a name, the best server's best tool.
fn pick<'c>(catalog: &'c Catalog, analysis: &Analysis, tool: Option<&str>) -> Option<&'c Named> {
    let Some(tool) = tool else {
        return analysis
            .ranking
            .first()
            .and_then(|s| s.tools.first())
            .and_then(|name| catalog.tools.get(name));
    };
    let named = |t: &&Named| &*t.original == tool || &*t.exposed == tool;
    let on = |server: usize| {
        catalog
            .tools
            .items()
            .iter()
            .filter(named)
            .find(|t| t.server == server)
    };
    analysis
        .ranking
        .iter()
        .find_map(|s| on(s.index))
        .or_else(|| catalog.tools.items().iter().find(named))
}

/// Call `tool` with `arguments` as a client of its own, released afterwards (a per-session
/// upstream it opened stops with it); the whole answer message.
async fn call(gw: &Gateway, tool: &Named, arguments: Value) -> Value {
    let params = json!({ "name": &*tool.original, "arguments": arguments }).to_string();
    let client = Arc::new(Client::new());
    let answer = gw.forward_call(&client, tool.server, &params).await;
    gw.release(&client).await;
    serde_json::from_slice(&answer).unwrap_or(Value::Null)
}
