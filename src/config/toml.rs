//! `switchboard.toml`: the native format.

use super::entry::Entry;
use super::error::without_snippet;
use super::expand::Context;
use super::{Config, ConfigError, GatewaySettings};
use indexmap::IndexMap;
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    gateway: GatewaySpec,
    #[serde(default)]
    servers: IndexMap<String, Entry>,
    #[serde(default)]
    router: RouterSpec,
}

/// `[router]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouterSpec {
    /// Rule files (TOML or seed-004 router JSON), relative to this file.
    #[serde(default)]
    rules: Vec<String>,
    threshold: Option<f64>,
    catalog_weight: Option<f64>,
    default_rules: Option<bool>,
    expose: Option<super::Expose>,
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
        if let Some(n) = self.max_body_bytes {
            if n < 1024 {
                return Err(ConfigError::invalid(
                    file,
                    "gateway.max_body_bytes",
                    "must be at least 1024",
                ));
            }
            g.max_body_bytes = n;
        }
        g.allowed_origins = self.allowed_origins;
        g.allowed_hosts = self.allowed_hosts;
        if let Some(t) = self.request_timeout {
            g.request_timeout = t;
        }
        if let Some(t) = self.startup_timeout {
            g.startup_timeout = t;
        }
        if let Some(n) = self.page_size {
            g.page_size = n;
        }
        g.max_retries = self.max_retries;
        g.ready_minimum = self.ready_minimum;
        Ok(g)
    }
}

/// Parse a TOML configuration.
pub fn parse(text: &str, file: &str, ctx: &Context) -> Result<Config, ConfigError> {
    let de = toml::Deserializer::parse(text)
        .map_err(|e| ConfigError::invalid(file, ".", without_snippet(&e.to_string())))?;
    let parsed: File =
        serde_path_to_error::deserialize(de).map_err(|e| ConfigError::from_path_error(file, e))?;
    let gateway = parsed.gateway.build(file)?;
    let mut servers = Vec::with_capacity(parsed.servers.len());
    for (name, entry) in parsed.servers {
        let path = format!("servers.{name}");
        if let Some(spec) = entry.into_spec(&name, file, &path, ctx)? {
            servers.push(spec);
        }
    }
    let r = parsed.router;
    let mut router = super::RouterSettings::default();
    for (v, field) in [
        (r.threshold, "router.threshold"),
        (r.catalog_weight, "router.catalog_weight"),
    ] {
        if v.is_some_and(|v| !v.is_finite() || v < 0.0) {
            return Err(ConfigError::invalid(file, field, "must be a number >= 0"));
        }
    }
    router.threshold = r.threshold.unwrap_or(router.threshold);
    router.catalog_weight = r.catalog_weight.unwrap_or(router.catalog_weight);
    router.default_rules = r.default_rules.unwrap_or(true);
    router.expose = r.expose.unwrap_or_default();
    let mut config = Config {
        source: file.to_string(),
        gateway,
        servers,
        router,
    };
    for (i, rel) in r.rules.iter().enumerate() {
        let expanded = ctx.expand(rel, file, &format!("router.rules[{i}]"))?;
        let path = ctx.relative(&super::expand::tilde(&expanded));
        config.load_rules(&path)?;
    }
    Ok(config)
}
