//! One server entry, as every format writes it, and its conversion into a [`ServerSpec`].

use super::expand::{self, Context};
use super::resilience::{BreakerSpec, RateSpec, RetrySpec};
use super::{build_headers, build_url, check_server_name, ConfigError, HttpTarget, Launch};
use super::{Isolation, Protocol, ServerSpec, Transport};
use indexmap::IndexMap;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// Field names an [`Entry`] knows; JSON formats written for other tools drop the rest.
pub const KNOWN_FIELDS: &[&str] = &[
    "command",
    "args",
    "env",
    "env_file",
    "envFile",
    "cwd",
    "url",
    "transport",
    "type",
    "headers",
    "prefix",
    "request_timeout",
    "disabled",
    "isolation",
    "keywords",
    "patterns",
    "negative_keywords",
    "default_rules",
    "lazy",
    "breaker",
    "health_interval",
    "timeouts",
    "tool_timeouts",
    "max_timeout",
    "rate_limit",
    "client_rate_limit",
    "max_concurrent",
    "retry",
    "protocol",
    "inherit_env",
    "max_per_session_children",
    "audit_arguments",
    "on_tool_change",
    "on_suspicious",
];

/// How an entry says it is reached (`transport`, or VS Code's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// A child process on stdin/stdout.
    Stdio,
    /// Streamable HTTP.
    #[serde(
        alias = "streamable-http",
        alias = "streamableHttp",
        alias = "streamable_http"
    )]
    Http,
    /// The legacy HTTP+SSE transport.
    Sse,
}

/// A server entry (`[servers.NAME]` in TOML, an `mcpServers`/`servers` member in JSON).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Program to run (stdio), or to start before connecting (with `url`).
    pub command: Option<String>,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Extra environment variables for the process (`${VAR}` expands).
    #[serde(default)]
    pub env: IndexMap<String, String>,
    /// A dotenv file whose variables are added to `env`.
    #[serde(default, alias = "envFile")]
    pub env_file: Option<String>,
    /// Working directory of the process.
    pub cwd: Option<String>,
    /// Endpoint of a network upstream.
    pub url: Option<String>,
    /// `stdio`, `http` (alias `streamable-http`, `streamableHttp`) or `sse`; inferred when absent.
    #[serde(default, alias = "type")]
    pub transport: Option<TransportKind>,
    /// Headers for a network upstream (`${VAR}` expands).
    #[serde(default)]
    pub headers: IndexMap<String, String>,
    /// Whether exposed names carry the server prefix (default true).
    pub prefix: Option<bool>,
    /// Request deadline for this server, e.g. `"30s"`.
    #[serde(default, with = "humantime_serde")]
    pub request_timeout: Option<Duration>,
    /// Skip this server (Claude Desktop's `disabled`).
    #[serde(default)]
    pub disabled: bool,
    /// `shared` (default) or `per-session`.
    #[serde(default)]
    pub isolation: Isolation,
    /// Routing keywords (plain or `{ term, weight }`).
    #[serde(default)]
    pub keywords: Vec<super::rules::WeightedSpec>,
    /// Routing regex patterns (plain or `{ regex, weight }`).
    #[serde(default)]
    pub patterns: Vec<super::rules::WeightedSpec>,
    /// Keywords that count against this server.
    #[serde(default)]
    pub negative_keywords: Vec<super::rules::WeightedSpec>,
    /// Example prompts the router learns discriminative words from.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Whether built-in rules may attach (default true).
    pub default_rules: Option<bool>,
    /// Start only when needed.
    #[serde(default)]
    pub lazy: bool,
    /// Circuit breaker: `{ failures = 5, open_for = "30s" }`.
    #[serde(default)]
    pub breaker: Option<BreakerSpec>,
    /// How often an idle upstream is pinged, e.g. `"30s"` (`"0s"`: never).
    #[serde(default, with = "humantime_serde")]
    pub health_interval: Option<Duration>,
    /// Deadlines by method: `{ "tools/call" = "2m", "tools/list" = "5s" }`.
    #[serde(default)]
    pub timeouts: IndexMap<String, humantime_serde::Serde<Duration>>,
    /// Deadlines by the upstream's tool name: `{ long_job = "10m" }`.
    #[serde(default)]
    pub tool_timeouts: IndexMap<String, humantime_serde::Serde<Duration>>,
    /// How far progress notifications may extend a deadline (default 10 min).
    #[serde(default, with = "humantime_serde")]
    pub max_timeout: Option<Duration>,
    /// Token bucket for all clients together: `{ per_second = 20, burst = 40 }`.
    pub rate_limit: Option<RateSpec>,
    /// Token bucket for each client (session).
    pub client_rate_limit: Option<RateSpec>,
    /// Requests in flight before more are refused (default 64).
    pub max_concurrent: Option<usize>,
    /// Retries of safe requests: `{ max = 2, min_backoff = "100ms", max_backoff = "2s" }`.
    pub retry: Option<RetrySpec>,
    /// `auto` (default: probe with `server/discover`), `initialize`, or `2026-07-28`.
    #[serde(default)]
    pub protocol: Protocol,
    /// Give the process the gateway's whole environment (default: a clean base plus `env`).
    #[serde(default)]
    pub inherit_env: bool,
    /// Per-session connections (children, for a stdio server) open at once (default 16).
    pub max_per_session_children: Option<usize>,
    /// Record the arguments of calls to it in the audit log (default: left out).
    #[serde(default)]
    pub audit_arguments: bool,
    /// `allow` | `warn` (default) | `block`: a changed or new tool definition.
    #[serde(default)]
    pub on_tool_change: super::OnToolChange,
    /// `warn` (default) | `block`: a tool whose description screening flags.
    #[serde(default)]
    pub on_suspicious: super::OnSuspicious,
}

/// Where an entry's field errors point: the file and the entry's path in it.
pub(super) struct At<'a> {
    pub file: &'a str,
    pub path: &'a str,
}

impl At<'_> {
    pub(super) fn field(&self, f: &str) -> String {
        format!("{}.{f}", self.path)
    }

    pub(super) fn invalid(&self, f: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::invalid(self.file, &self.field(f), message)
    }
}

impl Entry {
    /// Convert into a runtime spec; `None` when the entry is disabled.
    pub fn into_spec(
        self,
        name: &str,
        file: &str,
        path: &str,
        ctx: &Context,
    ) -> Result<Option<ServerSpec>, ConfigError> {
        check_server_name(name, file, path)?;
        if self.disabled {
            return Ok(None);
        }
        let at = At { file, path };
        let launch = match &self.command {
            Some(cmd) => Some(self.launch(cmd, &at, ctx)?),
            None => None,
        };
        let (transport, launch) = self.transport(launch, &at, ctx)?;
        let rules = super::rules::RuleSpec {
            keywords: self.keywords.clone(),
            patterns: self.patterns.clone(),
            negative_keywords: self.negative_keywords.clone(),
            examples: self.examples.clone(),
            ..Default::default()
        }
        .build(file, path)?;
        Ok(Some(ServerSpec {
            name: Arc::from(name),
            prefix: self.prefix.unwrap_or(true),
            transport,
            launch,
            request_timeout: self.request_timeout,
            isolation: self.isolation,
            rules,
            default_rules: self.default_rules.unwrap_or(true),
            lazy: self.lazy,
            health_interval: self
                .health_interval
                .unwrap_or(super::DEFAULT_HEALTH_INTERVAL),
            max_retries: self.retry.and_then(|r| r.max),
            max_per_session_children: match self.max_per_session_children {
                Some(0) => return Err(at.invalid("max_per_session_children", "must be at least 1")),
                Some(n) => n,
                None => super::DEFAULT_PER_SESSION_CHILDREN,
            },
            resilience: super::resilience::build(&self.written_resilience(), &at)?,
            protocol: self.protocol,
            audit_arguments: self.audit_arguments,
            on_tool_change: self.on_tool_change,
            on_suspicious: self.on_suspicious,
        }))
    }

    /// The transport kind, written or inferred: no `url` is stdio, a `url` ending in `/sse` is
    /// legacy SSE, any other `url` streamable HTTP.
    fn kind(&self) -> TransportKind {
        match (self.transport, &self.url) {
            (Some(k), _) => k,
            (None, None) => TransportKind::Stdio,
            (None, Some(u)) if u.trim_end_matches('/').ends_with("/sse") => TransportKind::Sse,
            (None, Some(_)) => TransportKind::Http,
        }
    }

    /// How the server is reached, and the process to start first for a network server.
    fn transport(
        &self,
        launch: Option<Launch>,
        at: &At<'_>,
        ctx: &Context,
    ) -> Result<(Transport, Option<Launch>), ConfigError> {
        match (self.kind(), launch, &self.url) {
            (TransportKind::Stdio, Some(l), None) => Ok((Transport::Stdio(l), None)),
            (TransportKind::Stdio, _, Some(_)) => {
                Err(at.invalid("url", "a stdio server takes \"command\", not \"url\""))
            }
            (TransportKind::Stdio, None, None) => Err(ConfigError::invalid(
                at.file,
                at.path,
                "needs \"command\" (a stdio server) or \"url\" (a network server)",
            )),
            (kind, launch, Some(url)) => {
                let (headers, caller_headers) = build_headers(
                    &self.headers.clone().into_iter().collect::<Vec<_>>(),
                    at.file,
                    &at.field("headers"),
                    ctx,
                )?;
                let target = HttpTarget {
                    url: build_url(url, at.file, &at.field("url"), ctx)?,
                    headers,
                    caller_headers,
                };
                let t = match kind {
                    TransportKind::Sse => Transport::Sse(target),
                    _ => Transport::StreamableHttp(target),
                };
                Ok((t, launch))
            }
            (kind, _, None) => Err(at.invalid(
                "url",
                format!("a {} server needs \"url\"", Transport::name_of(kind)),
            )),
        }
    }

    /// The resilience fields as written.
    fn written_resilience(&self) -> super::resilience::Written<'_> {
        super::resilience::Written {
            timeouts: &self.timeouts,
            tool_timeouts: &self.tool_timeouts,
            max_timeout: self.max_timeout,
            rate_limit: self.rate_limit,
            client_rate_limit: self.client_rate_limit,
            max_concurrent: self.max_concurrent,
            retry: self.retry,
            breaker: self.breaker,
        }
    }

    fn launch(&self, cmd: &str, at: &At<'_>, ctx: &Context) -> Result<Launch, ConfigError> {
        let (file, path) = (at.file, at.path);
        let program = ctx.expand(cmd, file, &at.field("command"))?;
        if program.trim().is_empty() {
            return Err(at.invalid("command", "is empty"));
        }
        let args = self
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| ctx.expand(a, file, &format!("{path}.args[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let mut env = Vec::new();
        if let Some(f) = &self.env_file {
            let p = expand::tilde(&ctx.expand(f, file, &at.field("env_file"))?);
            let bad = |e: dotenvy::Error| at.invalid("env_file", format!("{}: {e}", p.display()));
            for item in dotenvy::from_path_iter(&p).map_err(bad)? {
                env.push(item.map_err(bad)?);
            }
        }
        for (k, v) in &self.env {
            env.push((k.clone(), ctx.expand(v, file, &format!("{path}.env.{k}"))?));
        }
        let cwd = match &self.cwd {
            Some(c) => Some(expand::tilde(&ctx.expand(c, file, &at.field("cwd"))?)),
            None => None,
        };
        Ok(Launch {
            program,
            args,
            env,
            cwd,
            inherit_env: self.inherit_env,
        })
    }
}
