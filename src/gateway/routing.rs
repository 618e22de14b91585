//! Finding the upstream of a tool call: by exposed name; by the prefix of a lazy server not yet
//! started (start it); or, for an un-prefixed name, the one server that has it, or the one whose
//! rules the call's arguments score best.

use super::forward::Route;
use super::Gateway;
use crate::catalog::naming;
use crate::jsonrpc::{self, RpcError};
use crate::upstream::ListKind;

impl Gateway {
    /// The upstream of tool `name` and the params to send it (original name restored).
    pub(super) async fn resolve_tool(
        &self,
        name: &str,
        params: Option<&str>,
    ) -> Result<Route, RpcError> {
        if let Some(found) = self.exposed_tool(name, params) {
            return Ok(found);
        }
        let sep = &self.config.gateway.separator;
        let woken = self.pool.all().iter().find(|u| {
            u.dormant() && name.starts_with(&format!("{}{sep}", naming::prefix_of(&u.spec.name)))
        });
        if let Some(up) = woken {
            self.wake(up.index).await;
            if let Some(found) = self.exposed_tool(name, params) {
                return Ok(found);
            }
        }
        let catalog = self.catalog();
        let candidates: Vec<_> = catalog
            .tools
            .items()
            .iter()
            .filter(|t| &*t.original == name)
            .collect();
        let chosen = match candidates.as_slice() {
            [] => None,
            [only] => Some(*only),
            several => {
                let text = jsonrpc::member(params, "arguments")
                    .map(|a| a.get().to_string())
                    .unwrap_or_default();
                let analysis = self.router().analyze(&text, 0);
                let best = several
                    .iter()
                    .max_by(|a, b| {
                        let score = |t: &&&crate::catalog::Named| {
                            analysis
                                .ranking
                                .iter()
                                .find(|s| s.index == t.server)
                                .map_or(0.0, |s| s.score)
                        };
                        score(a).total_cmp(&score(b)).then(b.server.cmp(&a.server))
                    })
                    .copied();
                if let Some(b) = best {
                    metrics::counter!(crate::observe::ROUTING, "server" => b.server_name.to_string()).increment(1);
                    let scores: Vec<String> = several
                        .iter()
                        .map(|t| {
                            let sc = analysis
                                .ranking
                                .iter()
                                .find(|s| s.index == t.server)
                                .map_or(0.0, |s| s.score);
                            format!("{}={sc}", t.server_name)
                        })
                        .collect();
                    tracing::info!(tool = name, server = %b.server_name, scores = %scores.join(" "), "un-prefixed tool offered by several servers; routed by the arguments' scores");
                }
                best
            }
        };
        let tool = chosen.ok_or_else(|| {
            RpcError::invalid_params(format!("unknown tool: {name:?}"))
                .with_data(serde_json::json!({ "tool": name }))
        })?;
        let original = serde_json::to_string(&*tool.original).expect("a string serializes");
        Ok(Route {
            server: tool.server,
            params: jsonrpc::set_members(params, &[("name", &original)]),
            tool: Some(tool.original.clone()),
            retry_safe: tool.retry_safe,
            param_headers: tool.param_headers.clone(),
        })
    }

    fn exposed_tool(&self, name: &str, params: Option<&str>) -> Option<Route> {
        let catalog = self.catalog();
        let t = catalog.tools.get(name)?;
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
            retry_safe: t.retry_safe,
            param_headers: t.param_headers.clone(),
        })
    }

    /// Start a lazy upstream, then rebuild the catalog and tell every session.
    pub async fn wake(&self, index: usize) {
        let up = &self.pool.all()[index];
        if up.ensure_started().await {
            self.rebuild_catalog();
            for s in self.sessions.all() {
                for kind in [ListKind::Tools, ListKind::Prompts, ListKind::Resources] {
                    let method = match kind {
                        ListKind::Tools => "notifications/tools/list_changed",
                        ListKind::Prompts => "notifications/prompts/list_changed",
                        _ => "notifications/resources/list_changed",
                    };
                    s.push(jsonrpc::notification(method, None));
                }
            }
        }
    }
}
