//! The gateway's own tools: `switchboard__find_tools` (search the catalog by what the user wants)
//! and, in lean mode (`[router] expose = "search"`), `switchboard__call_tool`.

use crate::call::Failure;
use crate::catalog::Named;
use crate::jsonrpc;
use crate::router::search::{rank, Found, Meaning, TOOL_FUSION};
use crate::router::Analysis;
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

#[derive(Deserialize)]
struct FindArgs {
    query: String,
    limit: Option<usize>,
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

/// A `switchboard__find_tools` call's arguments: a query of at most `max` bytes.
fn find_args(params: Option<&str>, max: usize) -> Result<FindArgs, Failure> {
    let args = jsonrpc::member(params, "arguments").ok_or_else(|| {
        Failure::invalid_params(format!("{FIND_TOOLS} needs arguments with a \"query\""))
    })?;
    let args: FindArgs = serde_json::from_str(args.get())
        .map_err(|e| Failure::invalid_params(format!("{FIND_TOOLS} arguments: {e}")))?;
    if args.query.len() > max {
        return Err(Failure::new(
            crate::call::Kind::PromptTooLong,
            format!(
                "the query is {} bytes, over the {max}-byte limit (router.max_prompt_bytes)",
                args.query.len()
            ),
        ));
    }
    Ok(args)
}

/// The tool result of a search for `query`: the first `limit` tools `found`, with their input
/// schemas in lean mode.
fn answer(query: &str, found: Vec<Found<'_>>, limit: usize, lean: bool) -> String {
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
        format!("No tool matched {query:?}. Try other words.")
    } else {
        serde_json::to_string_pretty(&tools).expect("JSON values serialize")
    };
    json!({
        "content": [{ "type": "text", "text": text }],
        "structuredContent": { "tools": tools },
    })
    .to_string()
}

impl super::Gateway {
    /// `switchboard__find_tools`: the best tools for a query, with scores and reasons, as a
    /// tool result, among the tools of `view` that `caller` may see. The query is
    /// scored once; with `[router.semantic]` its meaning counts too ([`Self::meaning_for`]).
    /// Bad arguments are the model's to fix: a tool error result, not a protocol error.
    pub(super) async fn find_tools(
        &self,
        view: &super::View,
        caller: &crate::call::Identity,
        params: Option<&str>,
    ) -> String {
        let args = match find_args(params, self.config().router.max_prompt_bytes) {
            Ok(a) => a,
            Err(e) => {
                let text = e.message();
                return json!({ "content": [{ "type": "text", "text": text }], "isError": true })
                    .to_string();
            }
        };
        let analysis = view.router.analyze(&args.query, 0);
        let meant = self.meaning_for(&analysis).await;
        let meaning = meant.as_ref().map(|(index, query, weight)| Meaning {
            index,
            query,
            weight: *weight,
            fusion: TOOL_FUSION,
        });
        let visible = |t: &Named| self.may_see(view, caller, &t.exposed);
        let found = rank(&view.catalog, &analysis, meaning.as_ref(), &visible);
        let limit = args.limit.unwrap_or(10).clamp(1, 50);
        answer(&args.query, found, limit, view.lean)
    }

    /// With `[router.semantic]` and the catalog's vectors ready: the vectors, the analysed
    /// query's (embedded as the router spells it: [`Analysis::spelled`]), and the semantic
    /// weight (a query the model fails on has none: search is then lexical).
    pub async fn meaning_for(&self, analysis: &Analysis) -> Option<Meant> {
        let semantic = self.semantic.as_ref()?;
        let index = semantic.index();
        if index.is_empty() {
            return None;
        }
        match semantic.embed_query(&analysis.spelled()).await {
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
