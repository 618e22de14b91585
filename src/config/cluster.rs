//! `[cluster]`: replicas sharing state through Redis. Absent, nothing is shared and the
//! in-process stores are the whole story (one node needs nothing). Read at start: a change needs
//! a restart.

use super::expand::Context;
use super::ConfigError;
use serde::Deserialize;
use std::time::Duration;

/// `[cluster]` as parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterSettings {
    /// The shared store (`redis://host:6379/0`, `rediss://` for TLS).
    pub redis: String,
    /// This replica's name (default: host name and process id).
    pub node_id: String,
    /// Where other replicas reach this one (`http://10.0.0.5:8931`), for forwarding; `None`:
    /// the address the gateway listens on, when that names one host (not `0.0.0.0`).
    pub advertise: Option<String>,
    /// The longest a replica waits to connect to another it forwards a request to, before it
    /// counts that one as gone and takes the session over.
    pub forward_timeout: Duration,
    /// The longest one store operation may take before it falls back (three in a row, and the
    /// store counts as down).
    pub timeout: Duration,
    /// Whether calls go on (under each replica's local limits) while the store is down; `false`
    /// refuses calls that a shared limit governs until it is back.
    pub fail_open: bool,
    /// Prefix of every key the gateway writes (several gateways can share one Redis).
    pub key_prefix: String,
}

/// `[cluster]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    redis: String,
    node_id: Option<String>,
    advertise: Option<String>,
    #[serde(default, with = "humantime_serde")]
    timeout: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    forward_timeout: Option<Duration>,
    fail_open: Option<bool>,
    key_prefix: Option<String>,
}

/// `timeout` when not written.
const TIMEOUT: Duration = Duration::from_millis(200);

/// `forward_timeout` when not written.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(1);

impl ClusterSpec {
    /// Parse into runtime settings (`${VAR}` expands in `redis`, `node_id` and `advertise`:
    /// `advertise = "http://${POD_IP}:8931"`).
    pub fn build(mut self, file: &str, ctx: &Context) -> Result<ClusterSettings, ConfigError> {
        self.redis = ctx.expand(&self.redis, file, "cluster.redis")?;
        if let Some(n) = &self.node_id {
            self.node_id = Some(ctx.expand(n, file, "cluster.node_id")?);
        }
        if let Some(a) = &self.advertise {
            self.advertise = Some(ctx.expand(a, file, "cluster.advertise")?);
        }
        let url = url::Url::parse(&self.redis)
            .ok()
            .filter(|u| matches!(u.scheme(), "redis" | "rediss"));
        if url.is_none() {
            return Err(ConfigError::invalid(
                file,
                "cluster.redis",
                format!(
                    "{:?} is not a Redis URL like \"redis://127.0.0.1:6379/0\"",
                    self.redis
                ),
            ));
        }
        if let Some(a) = &self.advertise {
            let ok = url::Url::parse(a).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if !ok {
                return Err(ConfigError::invalid(
                    file,
                    "cluster.advertise",
                    format!("{a:?} is not an http(s) URL like \"http://10.0.0.5:8931\""),
                ));
            }
        }
        let timeout = positive(self.timeout, TIMEOUT, file, "cluster.timeout")?;
        let forward_timeout = positive(
            self.forward_timeout,
            FORWARD_TIMEOUT,
            file,
            "cluster.forward_timeout",
        )?;
        Ok(ClusterSettings {
            redis: self.redis,
            node_id: self.node_id.unwrap_or_else(default_node_id),
            advertise: self.advertise.map(|a| a.trim_end_matches('/').to_string()),
            forward_timeout,
            timeout,
            fail_open: self.fail_open.unwrap_or(true),
            key_prefix: self.key_prefix.unwrap_or_else(|| "switchboard:".into()),
        })
    }
}

/// `written`, or `default` when not written; zero is an error naming `path`.
fn positive(
    written: Option<Duration>,
    default: Duration,
    file: &str,
    path: &str,
) -> Result<Duration, ConfigError> {
    let d = written.unwrap_or(default);
    if d.is_zero() {
        return Err(ConfigError::invalid(
            file,
            path,
            format!(
                "must be positive (\"{}\")",
                humantime::format_duration(default)
            ),
        ));
    }
    Ok(d)
}

/// The host name and process id.
fn default_node_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into());
    format!("{host}-{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(text: &str, ctx: &Context) -> Result<ClusterSettings, ConfigError> {
        toml::from_str::<ClusterSpec>(text)
            .unwrap()
            .build("t.toml", ctx)
    }

    #[test]
    fn advertise_and_node_id_expand_from_the_environment() {
        let ctx = Context::default()
            .with_var("POD_IP", "10.0.0.5".into())
            .with_var("POD_NAME", "gw-0".into());
        let text = "redis = \"redis://r:6379/0\"\nnode_id = \"${POD_NAME}\"\nadvertise = \"http://${POD_IP}:8931/\"";
        let s = build(text, &ctx).unwrap();
        assert_eq!(s.node_id, "gw-0");
        assert_eq!(s.advertise.as_deref(), Some("http://10.0.0.5:8931"));
        assert_eq!(s.forward_timeout, FORWARD_TIMEOUT);
        assert_eq!(s.timeout, TIMEOUT);
    }

    #[test]
    fn bad_addresses_and_zero_timeouts_are_named() {
        let ctx = Context::default();
        let e = build("redis = \"r:6379\"", &ctx).unwrap_err().to_string();
        assert!(e.contains("cluster.redis"), "{e}");
        let e = build("redis = \"redis://r\"\nadvertise = \"10.0.0.5:8931\"", &ctx)
            .unwrap_err()
            .to_string();
        assert!(e.contains("cluster.advertise"), "{e}");
        let e = build("redis = \"redis://r\"\nforward_timeout = \"0s\"", &ctx)
            .unwrap_err()
            .to_string();
        assert!(e.contains("cluster.forward_timeout"), "{e}");
    }
}
