//! JSON formats written for other tools, loaded unchanged: Claude Desktop, VS Code, seed-004 registry.

use super::entry::{Entry, KNOWN_FIELDS};
use super::expand::{self, Context};
use super::{Config, ConfigError, GatewaySettings, HttpTarget, Launch, ServerSpec, Transport};
use serde_json::{Map, Value};

/// Which JSON format a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `claude_desktop_config.json`: `{"mcpServers": {...}}`.
    ClaudeDesktop,
    /// `.vscode/mcp.json`: `{"servers": {...}, "inputs": [...]}`.
    VsCode,
    /// `~/.mcp-servers.json` (seed 004): `{"name": {"command", "path", "port", ...}}`.
    Registry,
}

/// Tell the format from the content.
pub fn detect(doc: &Map<String, Value>) -> Result<Format, &'static str> {
    if doc.get("mcpServers").is_some_and(Value::is_object) {
        return Ok(Format::ClaudeDesktop);
    }
    if doc.get("servers").is_some_and(Value::is_object) {
        return Ok(Format::VsCode);
    }
    if doc.contains_key("server_keywords") || doc.contains_key("task_patterns") {
        return Err("this is a router configuration (server_keywords/task_patterns), not a server configuration");
    }
    let registry_like = !doc.is_empty()
        && doc
            .values()
            .all(|v| v.as_object().is_some_and(|o| o.contains_key("command")));
    if registry_like {
        return Ok(Format::Registry);
    }
    Err("unrecognised JSON configuration: expected \"mcpServers\" (Claude Desktop), \"servers\" (VS Code), or a server registry whose entries have \"command\" and \"port\"")
}

/// Parse a JSON configuration of any supported format.
pub fn parse(text: &str, file: &str, ctx: &Context) -> Result<Config, ConfigError> {
    let doc: Map<String, Value> = serde_json::from_str(text)
        .map_err(|e| ConfigError::invalid(file, ".", format!("invalid JSON: {e}")))?;
    let format = detect(&doc).map_err(|m| ConfigError::invalid(file, ".", m))?;
    let (key, members) = match format {
        Format::ClaudeDesktop => ("mcpServers", &doc["mcpServers"]),
        Format::VsCode => ("servers", &doc["servers"]),
        Format::Registry => ("", &Value::Object(doc.clone())),
    };
    let members = members
        .as_object()
        .expect("detect() checked it is an object");
    let mut servers = Vec::with_capacity(members.len());
    for (name, value) in members {
        let path = if key.is_empty() {
            name.clone()
        } else {
            format!("{key}.{name}")
        };
        let spec = match format {
            Format::Registry => Some(registry_entry(name, value, file, &path, ctx)?),
            _ => client_entry(name, value, file, &path, ctx)?,
        };
        servers.extend(spec);
    }
    Ok(Config {
        source: file.to_string(),
        gateway: GatewaySettings::default(),
        servers,
        router: Default::default(),
        child_env: Vec::new(),
        auth: crate::config::AuthSettings::open(),
        policy: Vec::new(),
        audit: Default::default(),
        endpoints: Vec::new(),
        files: Vec::new(),
        telemetry: Default::default(),
        cluster: None,
    })
}

/// A Claude Desktop or VS Code entry: the fields we know, the rest (autoApprove, ...) ignored.
fn client_entry(
    name: &str,
    value: &Value,
    file: &str,
    path: &str,
    ctx: &Context,
) -> Result<Option<ServerSpec>, ConfigError> {
    let obj = value
        .as_object()
        .ok_or_else(|| ConfigError::invalid(file, path, "a server entry must be an object"))?;
    let known: Map<String, Value> = obj
        .iter()
        .filter(|(k, _)| KNOWN_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let entry: Entry = serde_path_to_error::deserialize(Value::Object(known))
        .map_err(|e| prefixed(file, path, e))?;
    entry.into_spec(name, file, path, ctx)
}

/// A seed-004 registry entry: a shell `command` run in `path`, serving legacy SSE on `port`.
fn registry_entry(
    name: &str,
    value: &Value,
    file: &str,
    path: &str,
    ctx: &Context,
) -> Result<ServerSpec, ConfigError> {
    #[derive(serde::Deserialize)]
    struct Registry {
        command: String,
        port: u16,
        path: Option<String>,
        env_file: Option<String>,
        #[serde(default)]
        env: indexmap::IndexMap<String, String>,
    }
    let r: Registry =
        serde_path_to_error::deserialize(value.clone()).map_err(|e| prefixed(file, path, e))?;
    let cwd = r.path.as_deref().map(expand::tilde);
    let mut env = Vec::new();
    if let Some(f) = &r.env_file {
        // Relative to the server's directory, as the seed's launcher reads it.
        let p = match &cwd {
            Some(dir) => dir.join(expand::tilde(f)),
            None => expand::tilde(f),
        };
        // A missing .env is normal for the launcher (it only sources one if present).
        if let Ok(iter) = dotenvy::from_path_iter(&p) {
            for item in iter {
                env.push(item.map_err(|e| {
                    ConfigError::invalid(
                        file,
                        &format!("{path}.env_file"),
                        format!("{}: {e}", p.display()),
                    )
                })?);
            }
        }
    }
    for (k, v) in &r.env {
        env.push((k.clone(), ctx.expand(v, file, &format!("{path}.env.{k}"))?));
    }
    let command = ctx.expand(&r.command, file, &format!("{path}.command"))?;
    let url = format!("http://127.0.0.1:{}/sse", r.port);
    let transport = Transport::Sse(HttpTarget {
        url: url.parse().expect("a loopback URL with a port is valid"),
        headers: Vec::new(),
        caller_headers: Vec::new(),
    });
    Ok(ServerSpec {
        launch: Some(Launch {
            program: "sh".into(),
            args: vec!["-c".into(), command],
            env,
            cwd,
            inherit_env: false,
        }),
        ..ServerSpec::new(name, transport)
    })
}

fn prefixed(
    file: &str,
    path: &str,
    e: serde_path_to_error::Error<serde_json::Error>,
) -> ConfigError {
    let inner = e.path().to_string();
    let full = if inner == "." {
        path.to_string()
    } else {
        format!("{path}.{inner}")
    };
    ConfigError::invalid(file, &full, e.into_inner().to_string())
}
