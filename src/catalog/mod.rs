//! The merged tool catalog: exposed names, and the lookup table back to (server, original name).

pub mod naming;

use crate::upstream::ToolDef;
use indexmap::IndexMap;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::Arc;

/// One tool as the gateway exposes it.
#[derive(Debug, Clone)]
pub struct Tool {
    /// The name clients see.
    pub exposed: Arc<str>,
    /// Index of the owning upstream in the pool.
    pub server: usize,
    /// The owning upstream's name.
    pub server_name: Arc<str>,
    /// The upstream's own name for it.
    pub original: Arc<str>,
    /// The tool object with `name` replaced by the exposed name; everything else untouched.
    pub json: Box<RawValue>,
    /// Its description, for listings.
    pub description: Option<String>,
}

/// Two tools that wanted the same exposed name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collision {
    /// The name both wanted.
    pub name: String,
    /// Server that kept it (first in configuration order).
    pub kept_by: Arc<str>,
    /// Server whose tool was renamed.
    pub renamed_server: Arc<str>,
    /// That tool's upstream name.
    pub renamed_tool: Arc<str>,
    /// The name it got instead.
    pub renamed_to: String,
    /// Whether neither side had a prefix (`prefix = false` on both): a configuration error at load.
    pub unprefixed: bool,
}

impl std::fmt::Display for Collision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "tool name {:?} is offered by servers {:?} and {:?}; {:?}'s tool {:?} is exposed as {:?}",
            self.name, self.kept_by, self.renamed_server, self.renamed_server, self.renamed_tool, self.renamed_to
        )
    }
}

/// What the catalog is built from: one upstream's name, prefix setting and tools.
pub struct Source<'a> {
    /// Server name.
    pub server: &'a Arc<str>,
    /// Whether its names are prefixed.
    pub prefix: bool,
    /// Its tools, in the upstream's order.
    pub tools: &'a [ToolDef],
}

/// The merged catalog; immutable, replaced whole when an upstream's list changes.
#[derive(Debug, Default)]
pub struct Catalog {
    tools: Vec<Tool>,
    by_name: HashMap<Arc<str>, usize>,
    /// `{"tools":[...]}`, rendered once.
    list_result: String,
}

impl Catalog {
    /// Merge the sources (in configuration order: earlier servers win name ties).
    pub fn build(
        sources: &[Source<'_>],
        separator: &str,
        max_len: usize,
    ) -> (Catalog, Vec<Collision>) {
        let mut tools: Vec<Tool> = Vec::new();
        let mut by_name: HashMap<Arc<str>, usize> = HashMap::new();
        let mut collisions = Vec::new();
        for (index, src) in sources.iter().enumerate() {
            let mut seen_here = std::collections::HashSet::new();
            for def in src.tools {
                if !seen_here.insert(def.name.clone()) {
                    tracing::warn!(server = %src.server, tool = %def.name, "upstream lists this tool twice; keeping the first");
                    continue;
                }
                let mut name =
                    naming::exposed(src.server, src.prefix, separator, &def.name, max_len);
                if let Some(&winner) = by_name.get(name.as_str()) {
                    let kept_by = tools[winner].server_name.clone();
                    let renamed = naming::disambiguate(&name, src.server, &def.name, max_len);
                    let kept_prefixed = sources
                        .iter()
                        .find(|s| *s.server == kept_by)
                        .is_some_and(|s| s.prefix);
                    collisions.push(Collision {
                        name: name.clone(),
                        kept_by,
                        renamed_server: src.server.clone(),
                        renamed_tool: def.name.clone(),
                        renamed_to: renamed.clone(),
                        unprefixed: !src.prefix && !kept_prefixed,
                    });
                    name = renamed;
                }
                let Some((json, description)) = rename(&def.raw, &name) else {
                    tracing::warn!(server = %src.server, tool = %def.name, "tool is not a JSON object; skipped");
                    continue;
                };
                let exposed: Arc<str> = Arc::from(name);
                by_name.insert(exposed.clone(), tools.len());
                tools.push(Tool {
                    exposed,
                    server: index,
                    server_name: src.server.clone(),
                    original: def.name.clone(),
                    json,
                    description,
                });
            }
        }
        let mut list_result =
            String::with_capacity(16 + tools.iter().map(|t| t.json.get().len() + 1).sum::<usize>());
        list_result.push_str(r#"{"tools":["#);
        for (i, t) in tools.iter().enumerate() {
            if i > 0 {
                list_result.push(',');
            }
            list_result.push_str(t.json.get());
        }
        list_result.push_str("]}");
        (
            Catalog {
                tools,
                by_name,
                list_result,
            },
            collisions,
        )
    }

    /// Find a tool by exposed name.
    pub fn get(&self, exposed: &str) -> Option<&Tool> {
        self.by_name.get(exposed).map(|&i| &self.tools[i])
    }

    /// Every tool, in exposed order.
    pub fn tools(&self) -> &[Tool] {
        &self.tools
    }

    /// The whole `tools/list` result, raw JSON text.
    pub fn list_result(&self) -> &str {
        &self.list_result
    }
}

/// The tool object with its name replaced, and its description.
fn rename(raw: &RawValue, name: &str) -> Option<(Box<RawValue>, Option<String>)> {
    let mut obj: IndexMap<String, Box<RawValue>> = serde_json::from_str(raw.get()).ok()?;
    let description = obj
        .get("description")
        .and_then(|d| serde_json::from_str::<String>(d.get()).ok());
    obj.insert("name".into(), serde_json::value::to_raw_value(name).ok()?);
    Some((serde_json::value::to_raw_value(&obj).ok()?, description))
}

#[cfg(test)]
mod tests;
