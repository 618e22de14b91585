//! The gateway's own tools: `switchboard__find_tools` (search the catalog by what the user wants)
//! and, in lean mode (`[router] expose = "search"`), `switchboard__call_tool`.

use crate::call::Failure;
use crate::catalog::{Catalog, Named};
use crate::jsonrpc;
use crate::router::search::Meaning;
use crate::router::Router;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

/// Name of the search tool.
pub const FIND_TOOLS: &str = "switchboard__find_tools";
/// Name of the lean mode's call tool.
pub const CALL_TOOL: &str = "switchboard__call_tool";

/// Whether `name` is one of the gateway's own tools.
pub fn is_own(name: &str) -> bool {
    name == FIND_TOOLS || name == CALL_TOOL
}

/// The tool objects the gateway lists as its own.
pub fn definitions(lean: bool) -> Vec<Box<RawValue>> {
    let find = json!({
        "name": FIND_TOOLS,
        "title": "Find tools",
        "description": "Search every connected MCP server for the tools that fit a task. Give the task in plain words; get the best tools with their names, servers, scores and why they matched.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "query": { "type": "string", "description": "What you want to do, in plain words" },
                "limit": { "type": "integer", "minimum": 1, "maximum": 50, "description": "How many tools to return (default 10)" }
            },
            "required": ["query"]
        },
        "annotations": { "readOnlyHint": true, "idempotentHint": true, "openWorldHint": false }
    });
    let call = json!({
        "name": CALL_TOOL,
        "title": "Call a tool",
        "description": "Call a tool found with switchboard__find_tools, by its name, with its arguments.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "name": { "type": "string", "description": "The tool's name as switchboard__find_tools gave it" },
                "arguments": { "type": "object", "description": "The tool's arguments" }
            },
            "required": ["name"]
        }
    });
    let mut out = vec![serde_json::value::to_raw_value(&find).expect("static JSON")];
    if lean {
        out.push(serde_json::value::to_raw_value(&call).expect("static JSON"));
    }
    out
}

/// The query of a `switchboard__find_tools` call, if it has one (for its embedding).
pub fn query_of(params: Option<&str>) -> Option<String> {
    let args = jsonrpc::member(params, "arguments")?;
    serde_json::from_str::<FindArgs>(args.get())
        .ok()
        .map(|a| a.query)
}

#[derive(Deserialize)]
struct FindArgs {
    query: String,
    limit: Option<usize>,
}

/// `switchboard__find_tools`: the best tools for a query, with scores and reasons, as a tool
/// result, among the tools the caller may see (`visible`). Bad arguments are the model's to fix:
/// a tool error result, not a protocol error.
pub fn find(
    catalog: &Catalog,
    router: &Router,
    lean: bool,
    max_query: usize,
    params: Option<&str>,
    meaning: Option<&Meaning<'_>>,
    visible: &dyn Fn(&Named) -> bool,
) -> String {
    search(catalog, router, lean, max_query, params, meaning, visible).unwrap_or_else(|e| {
        json!({ "content": [{ "type": "text", "text": e.message() }], "isError": true }).to_string()
    })
}

/// The lean mode's `switchboard__call_tool {name, arguments}`: the inner tool's name, and the
/// params of a call to it.
pub fn unwrap_call(params: Option<&str>) -> Result<(String, String), Failure> {
    let args = jsonrpc::member(params, "arguments").ok_or_else(|| {
        Failure::invalid_params(format!("{CALL_TOOL} needs arguments with a \"name\""))
    })?;
    let inner = jsonrpc::str_member(Some(&args), "name").ok_or_else(|| {
        Failure::invalid_params(format!(
            "{CALL_TOOL} needs the \"name\" of the tool to call"
        ))
    })?;
    let inner_args = jsonrpc::member(Some(args.get()), "arguments")
        .map_or("{}".to_string(), |a| a.get().to_string());
    let inner_name = serde_json::to_string(&inner).expect("a string serializes");
    let params = jsonrpc::set_members(params, &[("name", &inner_name), ("arguments", &inner_args)]);
    Ok((inner, params))
}

fn search(
    catalog: &Catalog,
    router: &Router,
    lean: bool,
    max_query: usize,
    params: Option<&str>,
    meaning: Option<&Meaning<'_>>,
    visible: &dyn Fn(&Named) -> bool,
) -> Result<String, Failure> {
    let args = jsonrpc::member(params, "arguments").ok_or_else(|| {
        Failure::invalid_params(format!("{FIND_TOOLS} needs arguments with a \"query\""))
    })?;
    let args: FindArgs = serde_json::from_str(args.get())
        .map_err(|e| Failure::invalid_params(format!("{FIND_TOOLS} arguments: {e}")))?;
    if args.query.len() > max_query {
        return Err(Failure::new(
            crate::call::Kind::PromptTooLong,
            format!(
                "the query is {} bytes, over the {max_query}-byte limit (router.max_prompt_bytes)",
                args.query.len()
            ),
        ));
    }
    let limit = args.limit.unwrap_or(10).clamp(1, 50);
    let found = crate::router::search::rank(catalog, router, &args.query, meaning, visible);
    let tools: Vec<Value> = found
        .into_iter()
        .take(limit)
        .map(|f| {
            let t = f.tool;
            let mut entry = json!({
                "name": &*t.exposed,
                "server": &*t.server_name,
                "score": f.score,
                "description": t.description,
                "why": f.words,
            });
            if let Some((similarity, text)) = f.semantic {
                entry["lexical"] = json!((f.lexical * 1000.0).round() / 1000.0);
                entry["semantic"] = json!({
                    "kind": "semantic",
                    "similarity": (similarity as f64 * 1000.0).round() / 1000.0,
                    "matched": text,
                });
            }
            if lean {
                let full: Value = serde_json::from_str(t.json.get()).unwrap_or(Value::Null);
                entry["inputSchema"] = full.get("inputSchema").cloned().unwrap_or(Value::Null);
            }
            entry
        })
        .collect();
    let text = if tools.is_empty() {
        format!("No tool matched {:?}. Try other words.", args.query)
    } else {
        serde_json::to_string_pretty(&tools).expect("JSON values serialize")
    };
    Ok(json!({
        "content": [{ "type": "text", "text": text }],
        "structuredContent": { "tools": tools },
    })
    .to_string())
}

impl super::Gateway {
    /// The semantic evidence of a `switchboard__find_tools` call's query (see
    /// [`super::Gateway::meaning_for`]); a query over `max` bytes has none.
    pub(super) async fn meaning_of(
        &self,
        router: &Router,
        params: Option<&str>,
        max: usize,
    ) -> Option<Meant> {
        let query = query_of(params).filter(|q| q.len() <= max)?;
        self.meaning_for(router, &query).await
    }

    /// With `[router.semantic]` and the catalog's vectors ready: the vectors, the query's, and
    /// the semantic weight (a query the model fails on has none: search is then lexical). The
    /// query is embedded as `router` spells it ([`Router::spelled`]).
    pub async fn meaning_for(&self, router: &Router, query: &str) -> Option<Meant> {
        let semantic = self.semantic.as_ref()?;
        let index = semantic.index();
        if index.is_empty() {
            return None;
        }
        match semantic.embed_query(&router.spelled(query)).await {
            Ok(v) => Some((index, v, semantic.weight)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot embed a query; searching by words only");
                None
            }
        }
    }
}

/// A catalog's vectors, a query's, and the semantic weight.
pub type Meant = (
    std::sync::Arc<crate::router::semantic::ToolIndex>,
    Vec<f32>,
    f64,
);
