//! `[endpoints.NAME]`: named slices of the aggregate, each served at `/mcp/NAME` (and `/sse/NAME`,
//! `switchboard stdio --endpoint NAME`): the servers it includes, include/exclude globs over the
//! aggregate's exposed names and URIs (the same names `[[policy]]` globs match), its own
//! `expose` mode, and per-tool overrides (exposed name, description, annotations).

use super::gateway::Expose;
use super::policy::globs;
use super::ConfigError;
use globset::GlobSet;
use indexmap::IndexMap;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EndpointSpec {
    servers: Option<Vec<String>>,
    include: Option<Vec<String>>,
    #[serde(default)]
    exclude: Vec<String>,
    expose: Option<Expose>,
    #[serde(default)]
    overrides: IndexMap<String, OverrideSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideSpec {
    name: Option<String>,
    description: Option<String>,
    annotations: Option<serde_json::Map<String, serde_json::Value>>,
}

/// One named endpoint, compiled.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Its name: the last segment of `/mcp/NAME`.
    pub name: Arc<str>,
    /// Which configured servers it includes, by index (`None`: every server).
    pub servers: Option<Vec<usize>>,
    /// Exposed names and URIs it shows (`None`: every one of its servers').
    pub include: Option<GlobSet>,
    /// ... and hides (exclude wins over include).
    pub exclude: GlobSet,
    /// What its `tools/list` shows.
    pub expose: Expose,
    /// Per-tool overrides, by the aggregate's exposed name.
    pub overrides: HashMap<Arc<str>, Override>,
    /// New name -> the aggregate's name, for every renaming override.
    renamed: HashMap<Arc<str>, Arc<str>>,
}

/// What an override changes in one tool's definition.
#[derive(Debug, Clone, Default)]
pub struct Override {
    /// The name the endpoint exposes it under (the upstream still gets its own).
    pub name: Option<Arc<str>>,
    /// Its description (also what the router's catalog words come from).
    pub description: Option<String>,
    /// Members merged into its `annotations` (`readOnlyHint`, `title`...).
    pub annotations: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Endpoint {
    /// Whether server `index` is part of the endpoint.
    pub fn has_server(&self, index: usize) -> bool {
        self.servers.as_ref().is_none_or(|s| s.contains(&index))
    }

    /// Whether the globs admit the aggregate's name or URI `name`.
    pub fn admits(&self, name: &str) -> bool {
        self.include.as_ref().is_none_or(|g| g.is_match(name)) && !self.exclude.is_match(name)
    }

    /// The aggregate's name of a tool this endpoint renamed to `name`.
    pub fn renamed_from(&self, name: &str) -> Option<&Arc<str>> {
        self.renamed.get(name)
    }

    /// Whether the aggregate's tool `name` is exposed here under another name.
    pub fn renames(&self, name: &str) -> bool {
        self.overrides.get(name).is_some_and(|o| o.name.is_some())
    }
}

/// A name usable as one URL path segment (and a command-line argument).
fn segment(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A tool name as the MCP specification allows (2025-11-25: 1-128 of `[A-Za-z0-9_.-]`), and
/// not longer than `gateway.max_name_len`.
fn tool_name(name: &str, max: usize) -> Result<(), String> {
    if name.is_empty() || name.len() > max {
        return Err(format!(
            "{name:?} must be 1 to {max} characters (gateway.max_name_len)"
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        return Err(format!(
            "{name:?} may use only letters, digits, '_', '-' and '.'"
        ));
    }
    Ok(())
}

/// Compile every endpoint; `servers` are the configured server names in order.
pub(super) fn build(
    specs: IndexMap<String, EndpointSpec>,
    servers: &[Arc<str>],
    max_name_len: usize,
    default_expose: Expose,
    file: &str,
) -> Result<Vec<Endpoint>, ConfigError> {
    specs
        .into_iter()
        .map(|(name, spec)| {
            let at = format!("endpoints.{name}");
            if !segment(&name) {
                return Err(ConfigError::invalid(
                    file,
                    &at,
                    "an endpoint name is 1-64 letters, digits, '-' or '_' (it is a URL path segment)",
                ));
            }
            spec.build(&name, &at, servers, max_name_len, default_expose, file)
        })
        .collect()
}

impl EndpointSpec {
    fn build(
        self,
        name: &str,
        at: &str,
        servers: &[Arc<str>],
        max_name_len: usize,
        default_expose: Expose,
        file: &str,
    ) -> Result<Endpoint, ConfigError> {
        let included = match &self.servers {
            None => None,
            Some(list) => Some(
                list.iter()
                    .enumerate()
                    .map(|(i, s)| {
                        servers.iter().position(|c| **c == **s).ok_or_else(|| {
                            ConfigError::invalid(
                                file,
                                &format!("{at}.servers[{i}]"),
                                format!("{s:?} is not a configured server"),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let include = match &self.include {
            Some(list) => Some(globs(list, file, &format!("{at}.include"))?),
            None => None,
        };
        let (mut overrides, mut renamed) = (HashMap::new(), HashMap::new());
        for (tool, o) in self.overrides {
            let field = format!("{at}.overrides.{tool}");
            if let Some(new) = &o.name {
                tool_name(new, max_name_len)
                    .map_err(|e| ConfigError::invalid(file, &format!("{field}.name"), e))?;
                let new: Arc<str> = Arc::from(new.as_str());
                if let Some(other) = renamed.insert(new.clone(), Arc::from(tool.as_str())) {
                    return Err(ConfigError::invalid(
                        file,
                        &format!("{field}.name"),
                        format!("{new:?} is already the new name of {other:?}"),
                    ));
                }
            }
            overrides.insert(
                Arc::from(tool.as_str()),
                Override {
                    name: o.name.map(|n| Arc::from(n.as_str())),
                    description: o.description,
                    annotations: o.annotations,
                },
            );
        }
        Ok(Endpoint {
            name: Arc::from(name),
            servers: included,
            include,
            exclude: globs(&self.exclude, file, &format!("{at}.exclude"))?,
            expose: self.expose.unwrap_or(default_expose),
            overrides,
            renamed,
        })
    }
}

#[cfg(test)]
#[path = "endpoints_tests.rs"]
mod tests;
