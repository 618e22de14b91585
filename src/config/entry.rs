//! One server entry, as every format writes it, and its conversion into a [`ServerSpec`].

use super::expand::{self, Context};
use super::{build_headers, build_url, check_server_name, ConfigError, HttpTarget, Launch};
use super::{ServerSpec, Transport};
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
];

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
    pub transport: Option<String>,
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
    pub isolation: super::Isolation,
    /// Routing keywords (plain or `{ term, weight }`).
    #[serde(default)]
    pub keywords: Vec<super::rules::WeightedSpec>,
    /// Routing regex patterns (plain or `{ regex, weight }`).
    #[serde(default)]
    pub patterns: Vec<super::rules::WeightedSpec>,
    /// Keywords that count against this server.
    #[serde(default)]
    pub negative_keywords: Vec<super::rules::WeightedSpec>,
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
    pub protocol: Option<String>,
}

/// `breaker = { ... }` as written.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerSpec {
    /// Consecutive upstream faults that open it.
    pub failures: Option<u32>,
    /// How long it stays open before a probe.
    #[serde(default, with = "humantime_serde")]
    pub open_for: Option<Duration>,
    /// Share of faults among the last `window` requests that opens it (0 < rate <= 1).
    pub error_rate: Option<f64>,
    /// How many recent requests `error_rate` considers.
    pub window: Option<u32>,
}

/// `rate_limit = { ... }` as written.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateSpec {
    /// Sustained requests per second.
    pub per_second: f64,
    /// Requests allowed at once (default: one second's worth).
    pub burst: Option<u32>,
}

/// `retry = { ... }` as written.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    /// Retries after the first attempt (0: never).
    pub max: Option<u32>,
    /// First backoff.
    #[serde(default, with = "humantime_serde")]
    pub min_backoff: Option<Duration>,
    /// Longest backoff.
    #[serde(default, with = "humantime_serde")]
    pub max_backoff: Option<Duration>,
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
        let rules = super::rules::RuleSpec {
            keywords: self.keywords.clone(),
            patterns: self.patterns.clone(),
            negative_keywords: self.negative_keywords.clone(),
        }
        .build(file, path)?;
        let field = |f: &str| format!("{path}.{f}");
        let launch = match &self.command {
            Some(cmd) => Some(self.launch(cmd, file, path, ctx)?),
            None => None,
        };
        let kind = match self.transport.as_deref() {
            None if self.url.is_none() => "stdio",
            None if self
                .url
                .as_deref()
                .is_some_and(|u| u.trim_end_matches('/').ends_with("/sse")) =>
            {
                "sse"
            }
            None => "http",
            Some("stdio") => "stdio",
            Some("http" | "streamable-http" | "streamableHttp" | "streamable_http") => "http",
            Some("sse") => "sse",
            Some(other) => {
                return Err(ConfigError::invalid(
                    file,
                    &field("transport"),
                    format!("unknown transport {other:?}; expected \"stdio\", \"http\" or \"sse\""),
                ))
            }
        };
        let transport = match (kind, launch, &self.url) {
            ("stdio", Some(l), None) => {
                return Ok(Some(self.spec(
                    name,
                    Transport::Stdio(l),
                    None,
                    rules,
                    file,
                    path,
                )?))
            }
            ("stdio", _, Some(_)) => {
                return Err(ConfigError::invalid(
                    file,
                    &field("url"),
                    "a stdio server takes \"command\", not \"url\"",
                ))
            }
            ("stdio", None, None) => {
                return Err(ConfigError::invalid(
                    file,
                    path,
                    "needs \"command\" (a stdio server) or \"url\" (a network server)",
                ))
            }
            (_, launch, Some(url)) => {
                let target = HttpTarget {
                    url: build_url(url, file, &field("url"), ctx)?,
                    headers: build_headers(
                        &self.headers.clone().into_iter().collect::<Vec<_>>(),
                        file,
                        &field("headers"),
                        ctx,
                    )?,
                };
                let t = if kind == "sse" {
                    Transport::Sse(target)
                } else {
                    Transport::StreamableHttp(target)
                };
                (t, launch)
            }
            (_, _, None) => {
                return Err(ConfigError::invalid(
                    file,
                    &field("url"),
                    format!("a {kind} server needs \"url\""),
                ))
            }
        };
        Ok(Some(self.spec(
            name,
            transport.0,
            transport.1,
            rules,
            file,
            path,
        )?))
    }

    fn spec(
        &self,
        name: &str,
        transport: Transport,
        launch: Option<Launch>,
        rules: super::Rules,
        file: &str,
        path: &str,
    ) -> Result<ServerSpec, ConfigError> {
        Ok(ServerSpec {
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
            layers: self.layers(file, path)?,
            protocol: match self.protocol.as_deref() {
                None | Some("auto") => super::Protocol::Auto,
                Some("initialize") => super::Protocol::Initialize,
                Some("2026-07-28") => super::Protocol::Modern,
                Some(other) => {
                    return Err(ConfigError::invalid(
                        file,
                        &format!("{path}.protocol"),
                        format!("unknown protocol {other:?}; expected \"auto\", \"initialize\" or \"2026-07-28\""),
                    ))
                }
            },
        })
    }

    /// The resilience layers' settings (gateway-wide defaults are applied when the pool is built).
    fn layers(&self, file: &str, path: &str) -> Result<crate::layers::Settings, ConfigError> {
        use crate::layers::{breaker, rate_limit, retry, timeout};
        let field = |f: &str| format!("{path}.{f}");
        let positive = |d: Duration, f: &str| match d.is_zero() {
            true => Err(ConfigError::invalid(
                file,
                &field(f),
                "must be longer than zero",
            )),
            false => Ok(d),
        };
        let mut timeouts = timeout::Settings::default();
        for (method, d) in &self.timeouts {
            let d = positive(**d, &format!("timeouts.{method:?}"))?;
            timeouts.methods.insert(method.clone(), d);
        }
        for (tool, d) in &self.tool_timeouts {
            let d = positive(**d, &format!("tool_timeouts.{tool:?}"))?;
            timeouts.tools.insert(tool.clone(), d);
        }
        if let Some(m) = self.max_timeout {
            timeouts.max = positive(m, "max_timeout")?;
        }
        let rate =
            |spec: Option<RateSpec>, f: &str| -> Result<Option<rate_limit::Rate>, ConfigError> {
                let Some(r) = spec else { return Ok(None) };
                if !(r.per_second.is_finite() && r.per_second > 0.0) {
                    return Err(ConfigError::invalid(
                        file,
                        &field(&format!("{f}.per_second")),
                        "must be a positive number",
                    ));
                }
                Ok(Some(rate_limit::Rate {
                    per_second: r.per_second,
                    burst: r.burst.unwrap_or(r.per_second.ceil() as u32).max(1),
                }))
            };
        let b = self.breaker.unwrap_or_default();
        let d = breaker::Settings::default();
        let error_rate = b.error_rate.unwrap_or(d.error_rate);
        if !(error_rate > 0.0 && error_rate <= 1.0) {
            return Err(ConfigError::invalid(
                file,
                &field("breaker.error_rate"),
                "must be in (0, 1]",
            ));
        }
        let r = self.retry.unwrap_or_default();
        let rd = retry::Settings::default();
        let retry = retry::Settings {
            max: r.max.unwrap_or(rd.max),
            min_backoff: r.min_backoff.unwrap_or(rd.min_backoff),
            max_backoff: r.max_backoff.unwrap_or(rd.max_backoff),
        };
        if retry.min_backoff.is_zero() || retry.min_backoff > retry.max_backoff {
            return Err(ConfigError::invalid(
                file,
                &field("retry"),
                "needs 0 < min_backoff <= max_backoff",
            ));
        }
        if self.max_concurrent == Some(0) {
            return Err(ConfigError::invalid(
                file,
                &field("max_concurrent"),
                "must be at least 1",
            ));
        }
        Ok(crate::layers::Settings {
            timeouts,
            rate: rate_limit::Settings {
                upstream: rate(self.rate_limit, "rate_limit")?,
                client: rate(self.client_rate_limit, "client_rate_limit")?,
            },
            concurrency: self.max_concurrent,
            breaker: breaker::Settings {
                failures: b.failures.unwrap_or(d.failures).max(1),
                open_for: b.open_for.unwrap_or(d.open_for),
                error_rate,
                window: b.window.unwrap_or(d.window).max(1),
            },
            retry,
        })
    }

    fn launch(
        &self,
        cmd: &str,
        file: &str,
        path: &str,
        ctx: &Context,
    ) -> Result<Launch, ConfigError> {
        let field = |f: &str| format!("{path}.{f}");
        let program = ctx.expand(cmd, file, &field("command"))?;
        if program.trim().is_empty() {
            return Err(ConfigError::invalid(file, &field("command"), "is empty"));
        }
        let args = self
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| ctx.expand(a, file, &format!("{path}.args[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let mut env = Vec::new();
        if let Some(f) = &self.env_file {
            let p = expand::tilde(&ctx.expand(f, file, &field("env_file"))?);
            let iter = dotenvy::from_path_iter(&p).map_err(|e| {
                ConfigError::invalid(file, &field("env_file"), format!("{}: {e}", p.display()))
            })?;
            for item in iter {
                env.push(item.map_err(|e| {
                    ConfigError::invalid(file, &field("env_file"), format!("{}: {e}", p.display()))
                })?);
            }
        }
        for (k, v) in &self.env {
            env.push((k.clone(), ctx.expand(v, file, &format!("{path}.env.{k}"))?));
        }
        let cwd = match &self.cwd {
            Some(c) => Some(expand::tilde(&ctx.expand(c, file, &field("cwd"))?)),
            None => None,
        };
        Ok(Launch {
            program,
            args,
            env,
            cwd,
        })
    }
}
