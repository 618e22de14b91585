//! `[gateway]` and `[router]`: the gateway-wide settings, as written and parsed, with every
//! default and limit in one place (the README's Limits table lists them).

use super::ConfigError;
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Duration;

/// Gateway-wide settings (`[gateway]`).
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Between server prefix and tool name in exposed names.
    pub separator: String,
    /// Longest exposed name; longer ones are shortened deterministically.
    pub max_name_len: usize,
    /// Extra `Origin` values allowed besides loopback origins.
    pub allowed_origins: Vec<String>,
    /// Extra `Host` values allowed besides loopback hosts (needed when listening beyond loopback).
    pub allowed_hosts: Vec<String>,
    /// Largest request body accepted on `/mcp`.
    pub max_body_bytes: usize,
    /// Default deadline for one upstream request.
    pub request_timeout: Duration,
    /// How long an upstream may take to start and initialize.
    pub startup_timeout: Duration,
    /// Retries of safe requests for servers that do not set their own (seed-004 `max_retries`).
    pub max_retries: Option<u32>,
    /// How many non-lazy upstreams must be ready for `/ready` (default: all of them).
    pub ready_minimum: Option<usize>,
    /// Items per page of merged lists; 0 lists everything in one page.
    pub page_size: usize,
    /// Client connections open at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers (and, between requests on a
    /// kept-alive connection, to start the next one).
    pub header_read_timeout: Duration,
    /// How long a request body may go silent before the request is refused (408).
    pub body_read_timeout: Duration,
    /// Sessions live at once; at the limit the longest-idle one without an open stream is ended,
    /// and when every session is busy a new one is refused (503).
    pub max_sessions: usize,
    /// Sessions unused this long (and without an open stream) are ended.
    pub session_idle_timeout: Duration,
    /// Longest message accepted from an upstream (a stdio line, an SSE event).
    pub max_message_bytes: usize,
    /// Messages tied to one request (progress, log lines, server-to-client requests) that may
    /// wait for a client that is not reading its answer's stream; past it progress and log lines
    /// are dropped (and counted), requests wait for room, and the answer is never dropped.
    pub max_queued_messages: usize,
    /// How long a client gets to answer a relayed server-to-client request (sampling,
    /// elicitation, roots: a person may be answering).
    pub client_answer_timeout: Duration,
    /// How long a 2026-07-28 call parked on an `input_required` round waits for the client's retry.
    pub input_required_timeout: Duration,
    /// Where the gateway keeps state (the pinned tool definitions); `None`: one directory per
    /// configuration file under the user's state directory (see [`super::Config::state_dir`]).
    pub state_dir: Option<std::path::PathBuf>,
    /// Whether the plain `/mcp` and `/sse` (and `stdio` without `--endpoint`) serve the whole
    /// aggregate; `false` leaves only the named `[endpoints]`.
    pub aggregate: bool,
    /// How long calls in flight may take to finish when their upstream is replaced or removed by
    /// a reload, or the gateway shuts down; what is still running then is cut off.
    pub drain_timeout: Duration,
    /// Whether the configuration file (and the files it names) is watched and reloaded on change.
    pub watch: bool,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        GatewaySettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8931)),
            separator: "__".into(),
            max_name_len: 64,
            allowed_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            max_body_bytes: 4 * 1024 * 1024,
            request_timeout: Duration::from_secs(60),
            startup_timeout: Duration::from_secs(30),
            max_retries: None,
            ready_minimum: None,
            page_size: 0,
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            max_sessions: 10_000,
            session_idle_timeout: Duration::from_secs(3600),
            max_message_bytes: 64 * 1024 * 1024,
            max_queued_messages: 256,
            client_answer_timeout: Duration::from_secs(600),
            input_required_timeout: Duration::from_secs(600),
            state_dir: None,
            aggregate: true,
            drain_timeout: Duration::from_secs(30),
            watch: true,
        }
    }
}

/// Prompt-routing settings (`[router]`).
#[derive(Debug, Clone)]
pub struct RouterSettings {
    /// Score a server needs to be selected.
    pub threshold: f64,
    /// Weight of keywords derived from a server's live tool catalog.
    pub catalog_weight: f64,
    /// Whether the built-in rules attach to well-known servers.
    pub default_rules: bool,
    /// What `tools/list` shows.
    pub expose: Expose,
    /// Longest prompt scored (`/analyze`, `/route`, `switchboard__find_tools`; the arguments of
    /// an un-prefixed call are scored up to this length).
    pub max_prompt_bytes: usize,
    /// The sentence-embedding model beside the lexical scorer (`[router.semantic]`).
    pub semantic: Option<super::SemanticSettings>,
    /// The server a prompt goes to when no server reaches the threshold (`router.fallback`;
    /// checked to be a configured server).
    pub fallback: Option<std::sync::Arc<str>>,
}

impl Default for RouterSettings {
    fn default() -> Self {
        RouterSettings {
            threshold: 1.0,
            catalog_weight: 0.5,
            default_rules: true,
            expose: Expose::All,
            max_prompt_bytes: 64 * 1024,
            semantic: None,
            fallback: None,
        }
    }
}

/// What the gateway lists as its tools.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expose {
    /// Every upstream tool, namespaced, plus `switchboard__find_tools`.
    #[default]
    All,
    /// Only the gateway's search and call tools (for catalogs too large for a model's context).
    Search,
}

/// `[gateway]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySpec {
    listen: Option<String>,
    separator: Option<String>,
    max_name_len: Option<usize>,
    #[serde(default)]
    allowed_origins: Vec<String>,
    #[serde(default)]
    allowed_hosts: Vec<String>,
    max_body_bytes: Option<usize>,
    #[serde(default, with = "humantime_serde")]
    request_timeout: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    startup_timeout: Option<Duration>,
    page_size: Option<usize>,
    max_retries: Option<u32>,
    ready_minimum: Option<usize>,
    max_connections: Option<usize>,
    #[serde(default, with = "humantime_serde")]
    header_read_timeout: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    body_read_timeout: Option<Duration>,
    max_sessions: Option<usize>,
    #[serde(default, with = "humantime_serde")]
    session_idle_timeout: Option<Duration>,
    max_message_bytes: Option<usize>,
    max_queued_messages: Option<usize>,
    #[serde(default, with = "humantime_serde")]
    client_answer_timeout: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    input_required_timeout: Option<Duration>,
    pub(super) state_dir: Option<String>,
    aggregate: Option<bool>,
    #[serde(default, with = "humantime_serde")]
    drain_timeout: Option<Duration>,
    watch: Option<bool>,
}

/// `value` when it is at least `min`, else an error naming `field`.
fn at_least<T: PartialOrd + std::fmt::Display>(
    value: Option<T>,
    min: T,
    file: &str,
    field: &str,
) -> Result<Option<T>, ConfigError> {
    match value {
        Some(v) if v < min => Err(ConfigError::invalid(
            file,
            field,
            format!("{v} is less than the smallest usable value, {min}"),
        )),
        other => Ok(other),
    }
}

/// A duration that must not be zero.
fn some_time(
    value: Option<Duration>,
    file: &str,
    field: &str,
) -> Result<Option<Duration>, ConfigError> {
    match value {
        Some(d) if d.is_zero() => Err(ConfigError::invalid(
            file,
            field,
            "must be longer than zero",
        )),
        other => Ok(other),
    }
}

impl GatewaySpec {
    /// Parse into runtime settings.
    pub fn build(self, file: &str) -> Result<GatewaySettings, ConfigError> {
        let mut g = GatewaySettings::default();
        if let Some(l) = self.listen {
            g.listen = l.parse().map_err(|_| {
                ConfigError::invalid(
                    file,
                    "gateway.listen",
                    format!("{l:?} is not an address like \"127.0.0.1:8931\""),
                )
            })?;
        }
        if let Some(s) = self.separator {
            if s.is_empty()
                || !s
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
            {
                return Err(ConfigError::invalid(
                    file,
                    "gateway.separator",
                    "must be non-empty and use only letters, digits, '_', '-' or '.'",
                ));
            }
            g.separator = s;
        }
        if let Some(n) = self.max_name_len {
            if !(16..=128).contains(&n) {
                return Err(ConfigError::invalid(
                    file,
                    "gateway.max_name_len",
                    format!("{n} is out of range 16..=128"),
                ));
            }
            g.max_name_len = n;
        }
        let d = GatewaySettings::default();
        // Each field: the value written (checked), else the default.
        macro_rules! sizes {
            ($($field:ident >= $min:expr),*) => {$(
                g.$field = at_least(self.$field, $min, file, concat!("gateway.", stringify!($field)))?
                    .unwrap_or(d.$field);
            )*};
        }
        macro_rules! times {
            ($($field:ident),*) => {$(
                g.$field = some_time(self.$field, file, concat!("gateway.", stringify!($field)))?
                    .unwrap_or(d.$field);
            )*};
        }
        sizes!(
            max_body_bytes >= 1024,
            max_connections >= 1,
            max_sessions >= 1,
            max_message_bytes >= 1024,
            max_queued_messages >= 1
        );
        times!(
            request_timeout,
            startup_timeout,
            header_read_timeout,
            body_read_timeout,
            session_idle_timeout,
            client_answer_timeout,
            input_required_timeout,
            drain_timeout
        );
        g.allowed_origins = self.allowed_origins;
        g.allowed_hosts = self.allowed_hosts;
        g.page_size = self.page_size.unwrap_or(d.page_size);
        g.max_retries = self.max_retries;
        g.ready_minimum = self.ready_minimum;
        g.aggregate = self.aggregate.unwrap_or(d.aggregate);
        g.watch = self.watch.unwrap_or(d.watch);
        Ok(g)
    }
}

/// `[router]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterSpec {
    /// Rule files (TOML or seed-004 router JSON), relative to this file.
    #[serde(default)]
    pub rules: Vec<String>,
    threshold: Option<f64>,
    catalog_weight: Option<f64>,
    default_rules: Option<bool>,
    expose: Option<Expose>,
    max_prompt_bytes: Option<usize>,
    /// The server a prompt no server reaches the threshold for goes to (checked against the
    /// servers by the caller, which has them).
    pub fallback: Option<String>,
    /// `[router.semantic]` (built by the caller, which knows the file's folder).
    pub semantic: Option<super::semantic::SemanticSpec>,
}

impl RouterSpec {
    /// Parse into runtime settings (the rule files are loaded by the caller).
    pub fn build(&self, file: &str) -> Result<RouterSettings, ConfigError> {
        for (v, field) in [
            (self.threshold, "router.threshold"),
            (self.catalog_weight, "router.catalog_weight"),
        ] {
            if v.is_some_and(|v| !v.is_finite() || v < 0.0) {
                return Err(ConfigError::invalid(file, field, "must be a number >= 0"));
            }
        }
        let d = RouterSettings::default();
        Ok(RouterSettings {
            threshold: self.threshold.unwrap_or(d.threshold),
            catalog_weight: self.catalog_weight.unwrap_or(d.catalog_weight),
            default_rules: self.default_rules.unwrap_or(true),
            expose: self.expose.unwrap_or_default(),
            max_prompt_bytes: at_least(self.max_prompt_bytes, 64, file, "router.max_prompt_bytes")?
                .unwrap_or(d.max_prompt_bytes),
            semantic: None,
            fallback: None,
        })
    }
}
