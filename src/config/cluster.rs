//! `[cluster]`: replicas sharing state through Redis. Absent, nothing is shared and the
//! in-process stores are the whole story (one node needs nothing). Read at start: a change needs
//! a restart.

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
    /// Where other replicas reach this one (`http://10.0.0.5:8931`), for forwarding.
    pub advertise: Option<String>,
    /// The longest one store operation may take before the store counts as down for it.
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
    fail_open: Option<bool>,
    key_prefix: Option<String>,
}

/// `timeout` when not written.
const TIMEOUT: Duration = Duration::from_millis(200);

impl ClusterSpec {
    /// Parse into runtime settings.
    pub fn build(self, file: &str) -> Result<ClusterSettings, ConfigError> {
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
        let timeout = self.timeout.unwrap_or(TIMEOUT);
        if timeout.is_zero() {
            return Err(ConfigError::invalid(
                file,
                "cluster.timeout",
                "must be positive (\"200ms\")",
            ));
        }
        Ok(ClusterSettings {
            redis: self.redis,
            node_id: self.node_id.unwrap_or_else(default_node_id),
            advertise: self.advertise,
            timeout,
            fail_open: self.fail_open.unwrap_or(true),
            key_prefix: self.key_prefix.unwrap_or_else(|| "switchboard:".into()),
        })
    }
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
