//! Configuration: read a file in any supported format and parse it into runtime types.
//!
//! Formats are detected from the content: `switchboard.toml`, Claude Desktop's
//! `claude_desktop_config.json` (`mcpServers`), VS Code's `.vscode/mcp.json` (`servers`), and the
//! seed-004 server registry (`~/.mcp-servers.json`). All of them end up as one [`Config`].

pub mod ancestry;
mod audit;
mod auth;
mod cluster;
mod default;
mod endpoints;
mod entry;
mod error;
mod expand;
mod gateway;
mod json;
pub mod lexicons;
mod policy;
pub mod resilience;
pub mod rules;
mod semantic;
mod telemetry;
mod template;
mod toml;
mod transport;

pub use audit::AuditSettings;
pub use auth::{ApiKey, AuthSettings, JwksSource, JwtSettings, Metadata, Mode as AuthMode};
pub use cluster::ClusterSettings;
pub use endpoints::{Endpoint, Override};
pub use error::ConfigError;
pub use expand::tilde;
pub use gateway::{Expose, GatewaySettings, RouterSettings};
pub use json::{detect as detect_json, Format as JsonFormat};
pub use lexicons::{gazetteer_for, related_to};
pub use policy::{Condition, PolicyRule};
pub use resilience::Resilience;
pub use rules::{Rules, Weighted};
pub use semantic::{SemanticSettings, DEFAULT_MAX_CACHED};
pub use telemetry::TelemetrySettings;
pub use template::Template;
pub use transport::{HttpTarget, Launch, Transport};

use reqwest::header::{HeaderName, HeaderValue};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// A whole, valid configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it came from (a path, or `<embedded default>`), for messages.
    pub source: String,
    /// Gateway-wide settings.
    pub gateway: GatewaySettings,
    /// Upstream servers, in the order the file lists them (this order breaks name ties).
    pub servers: Vec<ServerSpec>,
    /// Prompt routing.
    pub router: RouterSettings,
    /// What every child process gets from this gateway (its ancestry, see [`ancestry`]).
    pub child_env: Vec<(String, String)>,
    /// Who may connect.
    pub auth: AuthSettings,
    /// Who may see and call what, in the order written (empty: everything, for everyone).
    pub policy: Vec<PolicyRule>,
    /// Where decisions and calls are recorded.
    pub audit: AuditSettings,
    /// Named slices of the aggregate (`[endpoints.NAME]`), in the order written.
    pub endpoints: Vec<Endpoint>,
    /// The files it was read from: the configuration file, then the rule files it names.
    pub files: Vec<PathBuf>,
    /// Where traces go.
    pub telemetry: TelemetrySettings,
    /// Replicas sharing state (`[cluster]`); `None`: this process alone.
    pub cluster: Option<ClusterSettings>,
}

/// Which protocol generation the gateway speaks to an upstream (`protocol = ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Probe with `server/discover`; 2026-07-28 when offered, else `initialize`.
    #[default]
    Auto,
    /// Only the `initialize` handshake (2024-11-05 .. 2025-11-25).
    Initialize,
    /// Only the stateless 2026-07-28 revision (fail when the upstream does not speak it).
    #[serde(rename = "2026-07-28")]
    Stateless,
}

/// One upstream MCP server.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    /// Name as configured; also the prefix of its exposed names.
    pub name: Arc<str>,
    /// Whether exposed names carry the `{name}{separator}` prefix.
    pub prefix: bool,
    /// How to reach it.
    pub transport: Transport,
    /// A process the gateway starts before connecting over the network (seed-004 registry servers).
    pub launch: Option<Launch>,
    /// Per-server request deadline, overriding the gateway default.
    pub request_timeout: Option<Duration>,
    /// Whether downstream sessions share one upstream connection.
    pub isolation: Isolation,
    /// Routing rules written for this server (entry and rule files).
    pub rules: Rules,
    /// Whether built-in rules may attach to it.
    pub default_rules: bool,
    /// Start only when a call needs it or `/analyze` selects it.
    pub lazy: bool,
    /// Its own retry count, when set (else the gateway's, else the default).
    pub max_retries: Option<u32>,
    /// Its resilience layers (timeouts, limits, breaker, retry) as configured; see
    /// [`Config::resilience`] for the settings with the gateway's defaults applied.
    pub resilience: Resilience,
    /// Which protocol generation to speak to it.
    pub protocol: Protocol,
    /// How often an idle upstream is pinged (zero: never).
    pub health_interval: Duration,
    /// Per-session connections open at once (`isolation = "per-session"`).
    pub max_per_session_children: usize,
    /// Whether the audit log records the arguments of calls to it.
    pub audit_arguments: bool,
    /// What happens when one of its tool definitions differs from the pinned one.
    pub on_tool_change: OnToolChange,
    /// What happens to a tool whose description looks aimed at the model (screening).
    pub on_suspicious: OnSuspicious,
}

/// What happens to a tool whose description screening flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnSuspicious {
    /// Logged with the reason and counted; the tool stays.
    #[default]
    Warn,
    /// Held out of every list and call.
    Block,
}

/// What happens when an upstream presents a tool definition that differs from the one pinned
/// the first time it was seen (or a new tool of a server already pinned).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnToolChange {
    /// Nothing is pinned or checked.
    Allow,
    /// The change is logged with its diff and counted; the tool stays.
    #[default]
    Warn,
    /// The tool is held out of every list and call until it is approved.
    Block,
}

/// Per-session connections of one server open at once, unless configured.
pub const DEFAULT_PER_SESSION_CHILDREN: usize = 16;

impl ServerSpec {
    /// A server with every setting at its default: prefixed, shared, built-in rules on.
    pub fn new(name: &str, transport: Transport) -> Self {
        ServerSpec {
            name: Arc::from(name),
            prefix: true,
            transport,
            launch: None,
            request_timeout: None,
            isolation: Isolation::Shared,
            rules: Rules::default(),
            default_rules: true,
            lazy: false,
            max_retries: None,
            resilience: Resilience::default(),
            protocol: Protocol::Auto,
            health_interval: DEFAULT_HEALTH_INTERVAL,
            max_per_session_children: DEFAULT_PER_SESSION_CHILDREN,
            audit_arguments: false,
            on_tool_change: OnToolChange::Warn,
            on_suspicious: OnSuspicious::Warn,
        }
    }
}

impl ServerSpec {
    /// Whether an upstream started from `self` is also one of `other`: the same way to reach
    /// it and to keep it (a reload keeps such an upstream, its connection and its children).
    /// Everything else about a server (rules, names, layers, pinning) applies without one.
    pub fn connects_like(&self, other: &ServerSpec) -> bool {
        self.name == other.name
            && self.transport == other.transport
            && self.launch == other.launch
            && self.isolation == other.isolation
            && self.protocol == other.protocol
            && self.health_interval == other.health_interval
            && self.lazy == other.lazy
    }
}

/// How often idle upstreams are pinged unless configured.
pub const DEFAULT_HEALTH_INTERVAL: Duration = Duration::from_secs(30);

/// How downstream sessions map onto upstream connections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    /// One upstream connection serves every session (stateless servers: time, fetch, git...).
    #[default]
    Shared,
    /// Each session gets its own connection or child process (stateful servers: memory...).
    PerSession,
}

impl Config {
    /// Load from a file, detecting its format.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: file.clone(),
            source,
        })?;
        // Relative to the working directory now, so `${workspaceFolder}` of `.vscode/mcp.json`
        // is a real folder.
        let ctx = expand::Context::for_file(&ancestry::canonical(path));
        let mut config = Self::parse(&text, &file, &ctx)?;
        ancestry::check_entries(&config.servers, path, &file)?;
        config.files.insert(0, path.to_path_buf());
        config.child_env = vec![(ancestry::VAR.into(), ancestry::extend(path, &file)?)];
        Ok(config)
    }

    /// Whether this is the embedded default (read from no file).
    pub fn is_embedded_default(&self) -> bool {
        self.files.is_empty() && self.source == default::SOURCE
    }

    /// The embedded default: built-in demo servers run as children of this binary.
    pub fn embedded_default() -> Result<Config, ConfigError> {
        default::config()
    }

    /// Parse text whose format is detected from the content.
    fn parse(text: &str, file: &str, ctx: &expand::Context) -> Result<Config, ConfigError> {
        if text.trim_start().starts_with('{') {
            json::parse(text, file, ctx)
        } else {
            toml::parse(text, file, ctx)
        }
    }

    /// Merge a rule file: its rules join the servers they name; a seed-004 `default_limits`
    /// sets the timeouts. Rules for servers that are not configured are reported and skipped.
    pub fn apply_rules(&mut self, file: rules::RuleFile, from: &str) {
        for (name, r) in file.servers {
            match self.servers.iter_mut().find(|s| *s.name == *name) {
                Some(s) => s.rules.extend(r),
                None => {
                    tracing::warn!(file = from, server = %name, "rules for a server that is not configured; skipped")
                }
            }
        }
        if let Some(l) = file.limits {
            if let Some(t) = l.response_timeout {
                self.gateway.request_timeout = t;
            }
            if let Some(t) = l.startup_wait {
                self.gateway.startup_timeout = t;
            }
            if l.max_retries.is_some() {
                self.gateway.max_retries = l.max_retries;
            }
        }
    }

    /// Load and merge a rule file.
    pub fn load_rules(&mut self, path: &Path) -> Result<(), ConfigError> {
        let f = rules::load_file(path)?;
        self.apply_rules(f, &path.display().to_string());
        self.files.push(path.to_path_buf());
        Ok(())
    }

    /// Every file a change of which changes this configuration: [`Config::files`] and a JWKS
    /// file (a reload reads them all again).
    pub fn watched_files(&self) -> Vec<PathBuf> {
        let mut files = self.files.clone();
        if let Some(JwksSource::File(p)) = self.auth.jwt.as_ref().map(|j| &j.jwks) {
            files.push(p.clone());
        }
        files
    }

    /// The state directory: `gateway.state_dir`, else one per configuration file (its path's
    /// digest; `default` for the embedded one) under `$XDG_STATE_HOME/switchboard`, else
    /// `~/.local/state/switchboard`, so gateways of different configurations never share pins.
    pub fn state_dir(&self) -> PathBuf {
        if let Some(d) = &self.gateway.state_dir {
            return d.clone();
        }
        let base = std::env::var_os("XDG_STATE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| tilde("~/.local/state"));
        let key = if self.source.starts_with('<') {
            "default".to_string()
        } else {
            use sha2::Digest;
            let canonical = ancestry::canonical(Path::new(&self.source));
            let digest = sha2::Sha256::digest(canonical.display().to_string().as_bytes());
            digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
        };
        base.join("switchboard").join(key)
    }

    /// The endpoint called `name`.
    pub fn endpoint(&self, name: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| &*e.name == name)
    }

    /// The effective request timeout for a server.
    pub fn request_timeout(&self, server: &ServerSpec) -> Duration {
        server
            .request_timeout
            .unwrap_or(self.gateway.request_timeout)
    }

    /// A server's layer settings with the gateway-wide defaults applied: its request timeout
    /// (lists get at most that too) and its retries.
    pub fn resilience(&self, server: &ServerSpec) -> Resilience {
        let mut s = server.resilience.clone();
        s.timeouts.default = self.request_timeout(server);
        s.timeouts.lists = s.timeouts.lists.min(s.timeouts.default);
        s.timeouts.max = s.timeouts.max.max(s.timeouts.default);
        if let Some(n) = server.max_retries.or(self.gateway.max_retries) {
            s.retry.max = n;
        }
        s
    }
}

/// Check a server name: non-empty, and unique names are enforced by the map it came from.
fn check_server_name(name: &str, file: &str, path: &str) -> Result<(), ConfigError> {
    if name.is_empty() || name.chars().any(|c| c.is_control()) {
        return Err(ConfigError::invalid(
            file,
            path,
            "a server name must be non-empty and printable",
        ));
    }
    Ok(())
}

/// Headers as written: fixed ones, and those filled in per call from the caller's identity.
type Headers = (Vec<(HeaderName, HeaderValue)>, Vec<(HeaderName, Template)>);

/// Build header pairs, expanding `${VAR}` and marking values sensitive; a value naming
/// `${auth.CLAIM}` becomes a per-call template (its other `${VAR}`s expanded now).
fn build_headers(
    headers: &[(String, String)],
    file: &str,
    path: &str,
    ctx: &expand::Context,
) -> Result<Headers, ConfigError> {
    let (mut fixed, mut per_call) = (Vec::new(), Vec::new());
    for (k, v) in headers {
        let field = format!("{path}.{k}");
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| ConfigError::invalid(file, &field, "not a valid HTTP header name"))?;
        if v.contains("${auth.") {
            let kept = v.replace("${auth.", "\u{1}");
            let expanded = ctx.expand(&kept, file, &field)?.replace('\u{1}', "${auth.");
            let t = Template::parse(&expanded).ok_or_else(|| {
                ConfigError::invalid(file, &field, "unterminated \"${auth.\" (missing \"}\")")
            })?;
            per_call.push((name, t));
            continue;
        }
        let value = ctx.expand(v, file, &field)?;
        let mut value = HeaderValue::from_str(&value)
            .map_err(|_| ConfigError::invalid(file, &field, "not a valid HTTP header value"))?;
        value.set_sensitive(true);
        fixed.push((name, value));
    }
    Ok((fixed, per_call))
}

/// Parse and check an upstream URL.
fn build_url(raw: &str, file: &str, path: &str, ctx: &expand::Context) -> Result<Url, ConfigError> {
    let s = ctx.expand(raw, file, path)?;
    let url = Url::parse(&s)
        .map_err(|e| ConfigError::invalid(file, path, format!("not a valid URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::invalid(
            file,
            path,
            format!("scheme must be http or https, not {:?}", url.scheme()),
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod tests;
