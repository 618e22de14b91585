//! A merged list of named things (tools, prompts): exposed names, and the lookup table back to
//! (server, original name).

use super::naming;
use crate::upstream::Item;
use indexmap::IndexMap;
use serde_json::value::RawValue;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// One tool or prompt as the gateway exposes it.
#[derive(Debug, Clone)]
pub struct Named {
    /// The name clients see.
    pub exposed: Arc<str>,
    /// Index of the owning upstream in the pool.
    pub server: usize,
    /// The owning upstream's name.
    pub server_name: Arc<str>,
    /// The upstream's own name for it.
    pub original: Arc<str>,
    /// The object with `name` replaced by the exposed name; everything else untouched.
    pub json: Box<RawValue>,
    /// Its description, for listings and search.
    pub description: Option<String>,
    /// A tool annotated `readOnlyHint` or `idempotentHint`: calling it twice is harmless.
    pub retry_safe: bool,
    /// Its `inputSchema`'s `x-mcp-header` annotations (2026-07-28 `Mcp-Param-*` headers).
    pub param_headers: Arc<[crate::jsonrpc::param_headers::Annotation]>,
    /// Exposed under an endpoint override's name: found by that name only (never by the
    /// upstream's own name, as an un-prefixed call would).
    pub renamed: bool,
}

/// Two items that wanted the same exposed name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collision {
    /// The name both wanted.
    pub name: String,
    /// Server that kept it (first in configuration order).
    pub kept_by: Arc<str>,
    /// Server whose item was renamed.
    pub renamed_server: Arc<str>,
    /// That item's upstream name.
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
            "name {:?} is offered by servers {:?} and {:?}; {:?}'s {:?} is exposed as {:?}",
            self.name,
            self.kept_by,
            self.renamed_server,
            self.renamed_server,
            self.renamed_tool,
            self.renamed_to
        )
    }
}

/// What an index is built from: one upstream's name, prefix setting and items.
pub struct Source<'a> {
    /// Server name.
    pub server: &'a Arc<str>,
    /// Whether its names are prefixed.
    pub prefix: bool,
    /// Its items, in the upstream's order.
    pub items: &'a [Item],
}

/// A merged, immutable list of named things; rebuilt whole when an upstream's list changes.
#[derive(Debug, Default)]
pub struct NameIndex {
    items: Vec<Named>,
    by_name: HashMap<Arc<str>, usize>,
}

impl NameIndex {
    /// Merge the sources (in configuration order: earlier servers win name ties).
    pub fn build(
        sources: &[Source<'_>],
        separator: &str,
        max_len: usize,
    ) -> (NameIndex, Vec<Collision>) {
        let mut items: Vec<Named> = Vec::new();
        let mut by_name: HashMap<Arc<str>, usize> = HashMap::new();
        let mut collisions = Vec::new();
        for (index, src) in sources.iter().enumerate() {
            let mut seen_here = HashSet::new();
            for def in src.items {
                if !seen_here.insert(def.key.clone()) {
                    tracing::warn!(server = %src.server, name = %def.key, "upstream lists this name twice; keeping the first");
                    continue;
                }
                let mut name =
                    naming::exposed(src.server, src.prefix, separator, &def.key, max_len);
                if let Some(&winner) = by_name.get(name.as_str()) {
                    let kept_by = items[winner].server_name.clone();
                    let renamed = naming::disambiguate(&name, src.server, &def.key, max_len);
                    let kept_prefixed = sources
                        .iter()
                        .find(|s| *s.server == kept_by)
                        .is_some_and(|s| s.prefix);
                    collisions.push(Collision {
                        name: name.clone(),
                        kept_by,
                        renamed_server: src.server.clone(),
                        renamed_tool: def.key.clone(),
                        renamed_to: renamed.clone(),
                        unprefixed: !src.prefix && !kept_prefixed,
                    });
                    name = renamed;
                }
                let Some((json, description, retry_safe, param_headers)) = rename(&def.raw, &name)
                else {
                    tracing::warn!(server = %src.server, name = %def.key, "listed item is not a JSON object; skipped");
                    continue;
                };
                let exposed: Arc<str> = Arc::from(name);
                by_name.insert(exposed.clone(), items.len());
                items.push(Named {
                    exposed,
                    server: index,
                    server_name: src.server.clone(),
                    original: def.key.clone(),
                    json,
                    description,
                    retry_safe,
                    param_headers,
                    renamed: false,
                });
            }
        }
        (NameIndex { items, by_name }, collisions)
    }

    /// An index of `items` as they are (names already unique).
    pub(super) fn of(items: Vec<Named>) -> NameIndex {
        let by_name = items
            .iter()
            .enumerate()
            .map(|(i, t)| (t.exposed.clone(), i))
            .collect();
        NameIndex { items, by_name }
    }

    /// Find an item by exposed name.
    pub fn get(&self, exposed: &str) -> Option<&Named> {
        self.by_name.get(exposed).map(|&i| &self.items[i])
    }

    /// Every item, in exposed order.
    pub fn items(&self) -> &[Named] {
        &self.items
    }
}

impl Named {
    /// This tool as an endpoint's override shows it: another name, description or
    /// annotations; everything else (and the upstream's own name) unchanged.
    pub(super) fn overridden(&self, o: &crate::config::Override) -> Option<Named> {
        let mut obj: IndexMap<String, Box<RawValue>> =
            serde_json::from_str(self.json.get()).ok()?;
        if let Some(d) = &o.description {
            obj.insert(
                "description".into(),
                serde_json::value::to_raw_value(d).ok()?,
            );
        }
        if let Some(extra) = &o.annotations {
            let mut a: serde_json::Map<String, serde_json::Value> = obj
                .get("annotations")
                .and_then(|a| serde_json::from_str(a.get()).ok())
                .unwrap_or_default();
            a.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
            obj.insert(
                "annotations".into(),
                serde_json::value::to_raw_value(&a).ok()?,
            );
        }
        let raw = serde_json::value::to_raw_value(&obj).ok()?;
        let name = o.name.clone().unwrap_or_else(|| self.exposed.clone());
        let (json, description, retry_safe, param_headers) = rename(&raw, &name)?;
        Some(Named {
            exposed: name,
            json,
            description,
            retry_safe,
            param_headers,
            renamed: o.name.is_some(),
            ..self.clone()
        })
    }
}

/// What [`rename`] makes of one listed item.
type Renamed = (
    Box<RawValue>,
    Option<String>,
    bool,
    Arc<[crate::jsonrpc::param_headers::Annotation]>,
);

/// The item with its exposed name, its description, whether its annotations make it safe to
/// retry, and its `x-mcp-header` annotations.
fn rename(raw: &RawValue, name: &str) -> Option<Renamed> {
    #[derive(serde::Deserialize)]
    struct Hints {
        #[serde(rename = "readOnlyHint")]
        read_only: Option<bool>,
        #[serde(rename = "idempotentHint")]
        idempotent: Option<bool>,
    }
    let mut obj: IndexMap<String, Box<RawValue>> = serde_json::from_str(raw.get()).ok()?;
    let description = obj
        .get("description")
        .and_then(|d| serde_json::from_str::<String>(d.get()).ok());
    let retry_safe = obj
        .get("annotations")
        .and_then(|a| serde_json::from_str::<Hints>(a.get()).ok())
        .is_some_and(|h| h.read_only == Some(true) || h.idempotent == Some(true));
    // Parsed only when present: most schemas have none.
    let param_headers = obj
        .get("inputSchema")
        .filter(|s| s.get().contains("x-mcp-header"))
        .and_then(|s| serde_json::from_str::<serde_json::Value>(s.get()).ok())
        .map(|s| crate::jsonrpc::param_headers::annotations(&s))
        .unwrap_or_default();
    obj.insert("name".into(), serde_json::value::to_raw_value(name).ok()?);
    Some((
        serde_json::value::to_raw_value(&obj).ok()?,
        description,
        retry_safe,
        param_headers.into(),
    ))
}

#[cfg(test)]
#[path = "index_tests.rs"]
mod tests;
