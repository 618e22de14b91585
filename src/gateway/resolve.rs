//! Resolving what a client names to the upstream that owns it: an exposed tool or prompt name,
//! an exposed resource URI; for an un-prefixed tool name, the one server that has it, or the one
//! whose rules the call's arguments score best. The original name or URI is restored in the params.

use super::forward::Route;
use crate::call::{Failure, Kind};
use crate::catalog::{Catalog, Named};
use crate::jsonrpc;
use crate::router::Router;

/// The route of tool `name`, with params carrying the upstream's own name; when several servers
/// offer it un-prefixed, the first `max_scored` bytes of its arguments decide. Only tools the
/// caller may see (`visible`) are candidates.
pub fn tool(
    catalog: &Catalog,
    router: &Router,
    max_scored: usize,
    name: &str,
    params: Option<&str>,
    visible: &dyn Fn(&Named) -> bool,
) -> Result<Route, Failure> {
    if let Some(found) = exposed_tool(catalog, name, params, visible) {
        return Ok(found);
    }
    let candidates: Vec<&Named> = catalog
        .tools
        .items()
        .iter()
        .filter(|t| &*t.original == name && !t.renamed && visible(t))
        .collect();
    let chosen = match candidates.as_slice() {
        [] => None,
        [only] => Some(*only),
        several => Some(by_arguments(router, max_scored, name, several, params)),
    };
    let tool = chosen.ok_or_else(|| unknown_tool(name))?;
    let original = serde_json::to_string(&*tool.original).expect("a string serializes");
    Ok(Route {
        server: tool.server,
        params: jsonrpc::set_members(params, &[("name", &original)]),
        tool: Some(tool.original.clone()),
        exposed: Some(tool.exposed.clone()),
        retry_safe: tool.retry_safe,
        param_headers: tool.param_headers.clone(),
        audited: None,
    })
}

/// `-32602` naming a tool nobody offers.
pub fn unknown_tool(name: &str) -> Failure {
    Failure::invalid_params(format!("unknown tool: {name:?}")).with("tool", name)
}

/// The tool under its exposed name: its original name swapped into the params in place.
fn exposed_tool(
    catalog: &Catalog,
    name: &str,
    params: Option<&str>,
    visible: &dyn Fn(&Named) -> bool,
) -> Option<Route> {
    let t = catalog.tools.get(name).filter(|t| visible(t))?;
    let text = params.unwrap_or("{}");
    let params = match (t.original == t.exposed, jsonrpc::view(text).name_span) {
        (true, _) => text.to_string(),
        (false, Some(span)) => {
            let original = serde_json::to_string(&*t.original).expect("a string serializes");
            jsonrpc::splice(text, span, &original)
        }
        (false, None) => return None,
    };
    Some(Route {
        server: t.server,
        params,
        tool: Some(t.original.clone()),
        exposed: Some(t.exposed.clone()),
        retry_safe: t.retry_safe,
        param_headers: t.param_headers.clone(),
        audited: None,
    })
}

/// Several servers offer un-prefixed `name`: the one whose rules the call's arguments score
/// best (ties: the one configured first). Logged and counted.
fn by_arguments<'c>(
    router: &Router,
    max_scored: usize,
    name: &str,
    several: &[&'c Named],
    params: Option<&str>,
) -> &'c Named {
    let text = jsonrpc::member(params, "arguments")
        .map(|a| a.get().to_string())
        .unwrap_or_default();
    let mut cut = text.len().min(max_scored);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let analysis = router.analyze(&text[..cut], 0);
    let score = |t: &Named| {
        analysis
            .ranking
            .iter()
            .find(|s| s.index == t.server)
            .map_or(0.0, |s| s.score)
    };
    let best = several
        .iter()
        .copied()
        .max_by(|a, b| score(a).total_cmp(&score(b)).then(b.server.cmp(&a.server)))
        .expect("several candidates");
    metrics::counter!(crate::observe::ROUTING, "server" => best.server_name.to_string())
        .increment(1);
    let scores: Vec<String> = several
        .iter()
        .map(|t| format!("{}={}", t.server_name, score(t)))
        .collect();
    tracing::info!(tool = name, server = %best.server_name, scores = %scores.join(" "), "un-prefixed tool offered by several servers; routed by the arguments' scores");
    best
}

/// `prompts/get` (and `ref/prompt`): find the owner of the exposed name, restore the original.
pub fn prompt(catalog: &Catalog, params: Option<&str>) -> Result<(usize, String), Failure> {
    let text = params.unwrap_or("{}");
    let view = jsonrpc::view(text);
    let (Some(name), Some(span)) = (view.name, view.name_span) else {
        return Err(Failure::invalid_params("needs params with a \"name\""));
    };
    let item = catalog.prompts.get(&name).ok_or_else(|| {
        Failure::invalid_params(format!("unknown prompt: {name:?}")).with("prompt", &*name)
    })?;
    let original = serde_json::to_string(&*item.original).expect("a string serializes");
    Ok((item.server, jsonrpc::splice(text, span, &original)))
}

/// The server of an exposed URI, and the URI as that server knows it.
pub fn uri(catalog: &Catalog, uri: &str) -> Result<(usize, String), Failure> {
    catalog.resources.route(uri).ok_or_else(|| {
        Failure::new(
            Kind::ResourceNotFound,
            format!("resource not found: {uri:?} belongs to no configured server"),
        )
        .with("uri", uri)
    })
}

/// `resources/read`: the server of the exposed URI, and the params with the original.
pub fn read(catalog: &Catalog, params: Option<&str>) -> Result<(usize, String), Failure> {
    let (server, original) = uri(catalog, &required(params, "uri")?)?;
    let original = serde_json::to_string(&original).expect("a string serializes");
    Ok((server, jsonrpc::set_members(params, &[("uri", &original)])))
}

/// `completion/complete`: the `ref` names a prompt or a resource (template).
pub fn completion(catalog: &Catalog, params: Option<&str>) -> Result<(usize, String), Failure> {
    let r = jsonrpc::member(params, "ref")
        .ok_or_else(|| Failure::invalid_params("completion/complete needs \"ref\""))?;
    let kind = jsonrpc::str_member(Some(&r), "type").unwrap_or_default();
    let (server, new_ref) = match kind.as_str() {
        "ref/prompt" => prompt(catalog, Some(r.get()))?,
        "ref/resource" => {
            let at = jsonrpc::str_member(Some(&r), "uri")
                .ok_or_else(|| Failure::invalid_params("ref/resource needs \"uri\""))?;
            let (server, original) = uri(catalog, &at)?;
            let original = serde_json::to_string(&original).expect("a string serializes");
            let r = jsonrpc::set_members(Some(r.get()), &[("uri", &original)]);
            (server, r)
        }
        other => {
            return Err(Failure::invalid_params(format!(
                "unknown ref type {other:?}"
            )))
        }
    };
    Ok((server, jsonrpc::set_members(params, &[("ref", &new_ref)])))
}

/// The exposed name or URI a `prompts/get`, `resources/read` or `completion/complete` names
/// (what policy decides on).
pub fn named(method: &str, params: Option<&str>) -> Option<String> {
    match method {
        "prompts/get" => jsonrpc::string_member(params, "name"),
        "resources/read" => jsonrpc::string_member(params, "uri"),
        _ => {
            let r = jsonrpc::member(params, "ref")?;
            jsonrpc::str_member(Some(&r), "name").or_else(|| jsonrpc::str_member(Some(&r), "uri"))
        }
    }
}

/// A string member the method cannot do without: -32602 naming it when absent.
pub fn required(params: Option<&str>, key: &str) -> Result<String, Failure> {
    jsonrpc::string_member(params, key)
        .ok_or_else(|| Failure::invalid_params(format!("needs params with a string {key:?}")))
}
