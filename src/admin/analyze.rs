//! `/analyze` (why a prompt routes where it does) and `/route` (route it and call the tool),
//! over the aggregate or, with `endpoint`, one named endpoint's view (its tools, its names).

use crate::call::{Failure, Identity, Kind};
use crate::catalog::{Catalog, Named};
use crate::downstream::{guard, Rejection};
use crate::gateway::{Client, Gateway, View};
use crate::router::Analysis;
use crate::session::Sessions;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// An error of the admin API: `{"error", "reason"}` with the status the failure's class gives.
pub(super) fn problem(f: Failure) -> Response {
    let status = StatusCode::from_u16(f.class().status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = json!({ "error": f.message(), "reason": f.kind().reason() });
    (status, Json(body)).into_response()
}

/// A request body, bounded like one to `/mcp` (`gateway.max_body_bytes`, `body_read_timeout`).
async fn read(gw: &Gateway, headers: &HeaderMap, body: Body) -> Result<bytes::Bytes, Failure> {
    let g = &gw.config().gateway;
    crate::downstream::body::read(headers, body, g.max_body_bytes, g.body_read_timeout).await
}

/// `/analyze` input.
#[derive(Deserialize)]
pub struct AnalyzeInput {
    prompt: Option<String>,
    top: Option<usize>,
    /// Start the lazy servers the analysis selects (POST only: a GET never has side effects).
    #[serde(default)]
    start: bool,
    /// A named endpoint whose view to analyze against (absent: the aggregate).
    endpoint: Option<String>,
}

/// The view of the endpoint a request names (absent: the aggregate).
fn view_of(gw: &Gateway, endpoint: Option<&str>) -> Result<(Option<Arc<str>>, Arc<View>), Failure> {
    let at = gw.endpoint(endpoint)?;
    let view = gw
        .view(at.as_deref())
        .ok_or_else(|| Failure::internal("the endpoint has no view"))?;
    Ok((at, view))
}

/// `GET /analyze?prompt=...&top=N`: explains; starts nothing.
pub async fn analyze_get(
    State(sessions): State<Arc<Sessions>>,
    Extension(caller): Extension<Arc<Identity>>,
    headers: HeaderMap,
    Query(mut q): Query<AnalyzeInput>,
) -> Response {
    q.start = false;
    analyze(sessions.gateway(), &caller, &headers, q).await
}

/// `POST /analyze {"prompt": ..., "top": N, "start": false}` (`Content-Type: application/json`,
/// so a web page cannot post it without a CORS preflight the gateway never grants).
pub async fn analyze_post(
    State(sessions): State<Arc<Sessions>>,
    Extension(caller): Extension<Arc<Identity>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(f) = guard::content_type(&headers) {
        return problem(f);
    }
    let body = match read(sessions.gateway(), &headers, body).await {
        Ok(b) => b,
        Err(f) => return problem(f),
    };
    match serde_json::from_slice::<AnalyzeInput>(&body) {
        Ok(q) => analyze(sessions.gateway(), &caller, &headers, q).await,
        Err(e) => problem(Failure::new(
            Kind::Parse,
            format!("body must be JSON {{\"prompt\": ..., \"top\": N}}: {e}"),
        )),
    }
}

async fn analyze(
    gw: &Arc<Gateway>,
    caller: &Arc<Identity>,
    headers: &HeaderMap,
    q: AnalyzeInput,
) -> Response {
    if let Err(f) = guard::origin_and_host(headers, &gw.config().gateway) {
        return Rejection::from(f).into_response();
    }
    let Some(prompt) = q.prompt.filter(|p| !p.trim().is_empty()) else {
        return problem(Failure::invalid_params("missing \"prompt\""));
    };
    let view = match view_of(gw, q.endpoint.as_deref()) {
        Ok((_, v)) => v,
        Err(f) => return problem(f),
    };
    let top = q.top.unwrap_or(5);
    let mut analysis = match score(gw, &view, prompt).await {
        Ok(a) => a,
        Err(f) => return problem(f),
    };
    only_visible(gw, &view, caller, &mut analysis);
    if q.start {
        wake_selected(gw, &analysis);
    }
    let meant = gw.meaning_for(&analysis).await;
    let semantic = meant.map(|m| super::meaning::evidence(gw, &view, caller, &analysis, &m, top));
    if top > 0 {
        analysis.ranking.truncate(top);
    }
    let mut body = serde_json::to_value(&analysis).unwrap_or(Value::Null);
    if let Some(semantic) = semantic {
        body["semantic"] = semantic;
    }
    Json(body).into_response()
}

/// Score `prompt` off the async workers (a long prompt costs milliseconds), refusing one over
/// `router.max_prompt_bytes`.
async fn score(gw: &Gateway, view: &View, prompt: String) -> Result<Analysis, Failure> {
    let max = gw.config().router.max_prompt_bytes;
    if prompt.len() > max {
        return Err(Failure::new(
            Kind::PromptTooLong,
            format!(
                "the prompt is {} bytes, over the {max}-byte limit (router.max_prompt_bytes)",
                prompt.len()
            ),
        ));
    }
    let router = view.router.clone();
    tokio::task::spawn_blocking(move || router.analyze(&prompt, 0))
        .await
        .map_err(|e| Failure::internal(format!("scoring failed: {e}")))
}

/// The caller's view of an analysis: tools it may not see are left out of every server's list.
fn only_visible(gw: &Gateway, view: &View, caller: &Arc<Identity>, analysis: &mut Analysis) {
    if !gw.policy().active() {
        return;
    }
    for s in &mut analysis.ranking {
        s.tools.retain(|t| gw.may_see(view, caller, t));
        s.tool_scores.retain(|(t, _)| gw.may_see(view, caller, t));
    }
}

/// Lazy servers the analysis selects are started in the background (the seed's "analyze starts
/// the servers it picks"), when asked.
fn wake_selected(gw: &Arc<Gateway>, analysis: &Analysis) {
    for name in &analysis.selected {
        if let Some(up) = gw.pool().by_name(name).filter(|u| u.dormant()) {
            let (gw, up) = (gw.clone(), up.clone());
            tokio::spawn(async move { gw.wake(&up).await });
        }
    }
}

/// `/route` input.
#[derive(Deserialize)]
pub struct RouteInput {
    /// What the user asked.
    pub prompt: String,
    /// The un-prefixed tool to call (absent: the best server's best tool).
    pub tool: Option<String>,
    /// Its arguments.
    #[serde(default)]
    pub arguments: Option<Value>,
    /// A named endpoint to route within (absent: the aggregate).
    pub endpoint: Option<String>,
}

/// `POST /route {"prompt", "tool"?, "arguments"?}`
pub async fn route(
    State(sessions): State<Arc<Sessions>>,
    Extension(caller): Extension<Arc<Identity>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let gw = sessions.gateway();
    if let Err(f) = guard::origin_and_host(&headers, &gw.config().gateway) {
        return Rejection::from(f).into_response();
    }
    if let Err(f) = guard::content_type(&headers) {
        return problem(f);
    }
    let body = match read(gw, &headers, body).await {
        Ok(b) => b,
        Err(f) => return problem(f),
    };
    let input: RouteInput = match serde_json::from_slice(&body) {
        Ok(i) => i,
        Err(e) => {
            return problem(Failure::new(
                Kind::Parse,
                format!("body must be JSON {{\"prompt\", \"tool\"?, \"arguments\"?}}: {e}"),
            ))
        }
    };
    routed(gw, &caller, input).await
}

/// Score `input`'s prompt, start the best server if it is lazy, and call the tool it picks for
/// `caller`: what `POST /route` and `switchboard route` answer.
pub async fn routed(gw: &Arc<Gateway>, caller: &Arc<Identity>, input: RouteInput) -> Response {
    let caller = caller.clone();
    let (at, mut view) = match view_of(gw, input.endpoint.as_deref()) {
        Ok(v) => v,
        Err(f) => return problem(f),
    };
    let mut analysis = match ranked(gw, &view, &caller, &input.prompt).await {
        Ok(a) => a,
        Err(f) => return problem(f),
    };
    let dormant = analysis
        .ranking
        .first()
        .and_then(|s| gw.pool().by_name(&s.server).cloned())
        .filter(|u| u.dormant());
    if let Some(best) = dormant {
        gw.wake(&best).await;
        view = gw.view(at.as_deref()).unwrap_or(view);
        super::meaning::vectors_ready(gw, &view, best.index).await;
        analysis = match ranked(gw, &view, &caller, &input.prompt).await {
            Ok(a) => a,
            Err(f) => return problem(f),
        };
    }
    let visible = |t: &Named| gw.may_see(&view, &caller, &t.exposed);
    let pick = pick(&view.catalog, &analysis, input.tool.as_deref(), &visible);
    let Some(tool) = pick else {
        return unpicked(gw, &view, &caller, input.tool.as_deref(), analysis);
    };
    metrics::counter!(crate::observe::ROUTING, "server" => tool.server_name.to_string())
        .increment(1);
    let arguments = input.arguments.unwrap_or_else(|| json!({}));
    let answer = call(gw, &caller, at, tool, arguments).await;
    let mut out =
        json!({ "server": &*tool.server_name, "tool": &*tool.exposed, "routing": analysis });
    match (answer.get("result"), answer.get("error")) {
        (Some(r), _) => {
            out["result"] = r.clone();
            Json(out).into_response()
        }
        (_, e) => {
            out["error"] = e.cloned().unwrap_or(Value::Null);
            let status = match out["error"]["data"]["reason"].as_str() {
                Some("policy_denied") => StatusCode::FORBIDDEN,
                _ => StatusCode::BAD_GATEWAY,
            };
            (status, Json(out)).into_response()
        }
    }
}

/// The servers for `prompt` as `/route` acts on them: the router's ranking as the caller sees
/// it, in the fused order when there is meaning ([`super::meaning::reorder`]).
async fn ranked(
    gw: &Gateway,
    view: &View,
    caller: &Arc<Identity>,
    prompt: &str,
) -> Result<Analysis, Failure> {
    let mut analysis = score(gw, view, prompt.to_string()).await?;
    only_visible(gw, view, caller, &mut analysis);
    if let Some(meant) = gw.meaning_for(&analysis).await {
        super::meaning::reorder(gw, view, caller, &meant, &mut analysis);
    }
    Ok(analysis)
}

/// `/route` found no tool the caller may call: a named tool it may not see is refused by
/// policy (the same whether or not it exists); otherwise 422 with the analysis.
fn unpicked(
    gw: &Gateway,
    view: &View,
    caller: &Identity,
    tool: Option<&str>,
    analysis: Analysis,
) -> Response {
    if let Some(t) = tool.filter(|t| !gw.may_see(view, caller, t)) {
        let why = view.absent(t).unwrap_or_else(|| {
            format!("{t:?} is denied by policy: no rule allows it for this caller")
        });
        return problem(Failure::new(Kind::PolicyDenied, why));
    }
    let why = match tool {
        Some(t) => format!("no configured server offers a tool named {t:?}"),
        None => "no tool matched the prompt; name one with \"tool\"".to_string(),
    };
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({ "error": why, "routing": analysis })),
    )
        .into_response()
}

/// The tool `/route` calls: the named one on the best-ranked server that has it (else on any
/// server), or without a name, the best server's best tool (its only tool when the prompt
/// matched none of them).
fn pick<'c>(
    catalog: &'c Catalog,
    analysis: &Analysis,
    tool: Option<&str>,
    visible: &dyn Fn(&Named) -> bool,
) -> Option<&'c Named> {
    let Some(tool) = tool else {
        let best = analysis.ranking.first()?;
        let matched = best.tools.first().and_then(|name| catalog.tools.get(name));
        if let Some(t) = matched.filter(|t| visible(t)) {
            return Some(t);
        }
        // A server with one tool the caller may see: that one, whatever words chose the server.
        let mut mine = catalog.tools.items().iter();
        let mut mine = std::iter::from_fn(|| mine.find(|t| t.server == best.index && visible(t)));
        let only = mine.next()?;
        return mine.next().is_none().then_some(only);
    };
    let named =
        |t: &&Named| (&*t.exposed == tool || (&*t.original == tool && !t.renamed)) && visible(t);
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

/// Call `tool` with `arguments` as a client of the caller's own, released afterwards (a
/// per-session upstream it opened stops with it), through the same path as a client's
/// `tools/call` (policy, its condition over the arguments, the audit log); the whole answer.
async fn call(
    gw: &Gateway,
    caller: &Arc<Identity>,
    at: Option<Arc<str>>,
    tool: &Named,
    arguments: Value,
) -> Value {
    let params = json!({ "name": &*tool.exposed, "arguments": arguments }).to_string();
    let client = Arc::new(Client::for_caller(caller.clone(), "admin").at(at));
    let params = serde_json::value::RawValue::from_string(params).expect("JSON");
    let answer = gw
        .request(&client, "\"route\"", "tools/call", Some(&params), None)
        .await;
    gw.release(&client).await;
    serde_json::from_slice(&answer).unwrap_or(Value::Null)
}
