//! `switchboard.toml`: the native format.

use super::entry::Entry;
use super::error::without_snippet;
use super::expand::Context;
use super::gateway::{GatewaySpec, RouterSpec};
use super::{Config, ConfigError};
use indexmap::IndexMap;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    gateway: GatewaySpec,
    #[serde(default)]
    servers: IndexMap<String, Entry>,
    #[serde(default)]
    router: RouterSpec,
    auth: Option<super::auth::Written>,
    #[serde(default)]
    policy: Vec<super::policy::RuleSpec>,
    audit: Option<super::audit::AuditSpec>,
    #[serde(default)]
    endpoints: IndexMap<String, super::endpoints::EndpointSpec>,
    #[serde(default)]
    telemetry: super::telemetry::TelemetrySpec,
    cluster: Option<super::cluster::ClusterSpec>,
}

/// Parse a TOML configuration.
pub fn parse(text: &str, file: &str, ctx: &Context) -> Result<Config, ConfigError> {
    let de = toml::Deserializer::parse(text)
        .map_err(|e| ConfigError::invalid(file, ".", without_snippet(&e.to_string())))?;
    let parsed: File =
        serde_path_to_error::deserialize(de).map_err(|e| ConfigError::from_path_error(file, e))?;
    let state_dir = match &parsed.gateway.state_dir {
        Some(d) => Some(ctx.relative(&super::tilde(&ctx.expand(d, file, "gateway.state_dir")?))),
        None => None,
    };
    let mut gateway = parsed.gateway.build(file)?;
    gateway.state_dir = state_dir;
    let mut servers = Vec::with_capacity(parsed.servers.len());
    for (name, entry) in parsed.servers {
        let path = format!("servers.{name}");
        if let Some(spec) = entry.into_spec(&name, file, &path, ctx)? {
            servers.push(spec);
        }
    }
    let r = parsed.router;
    let mut router = r.build(file)?;
    if let Some(s) = &r.semantic {
        router.semantic = Some(s.build(file, ctx)?);
    }
    let mut config = Config {
        source: file.to_string(),
        gateway,
        servers,
        router,
        child_env: Vec::new(),
        auth: match parsed.auth {
            Some(a) => a.build(file, ctx)?,
            None => super::AuthSettings::open(),
        },
        policy: super::policy::build(parsed.policy, file)?,
        audit: match parsed.audit {
            Some(a) => a.build(file, ctx)?,
            None => Default::default(),
        },
        endpoints: Vec::new(),
        files: Vec::new(),
        telemetry: parsed.telemetry.build(file)?,
        cluster: match parsed.cluster {
            Some(c) => Some(c.build(file, ctx)?),
            None => None,
        },
    };
    let names: Vec<_> = config.servers.iter().map(|s| s.name.clone()).collect();
    if let Some(f) = &r.fallback {
        let name = names.iter().find(|n| ***n == **f).ok_or_else(|| {
            ConfigError::invalid(
                file,
                "router.fallback",
                format!("{f:?} is not a configured server"),
            )
        })?;
        config.router.fallback = Some(name.clone());
    }
    config.endpoints = super::endpoints::build(
        parsed.endpoints,
        &names,
        config.gateway.max_name_len,
        config.router.expose,
        file,
    )?;
    if !config.gateway.aggregate && config.endpoints.is_empty() {
        return Err(ConfigError::invalid(
            file,
            "gateway.aggregate",
            "with the aggregate disabled there must be at least one [endpoints.NAME]",
        ));
    }
    for (i, rel) in r.rules.iter().enumerate() {
        let expanded = ctx.expand(rel, file, &format!("router.rules[{i}]"))?;
        let path = ctx.relative(&super::expand::tilde(&expanded));
        config.load_rules(&path)?;
    }
    Ok(config)
}
