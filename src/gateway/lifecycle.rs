//! `initialize`: version negotiation and the union of the upstreams' capabilities.

use super::Gateway;
use crate::config::{LATEST_PROTOCOL_VERSION, PROTOCOL_VERSIONS};
use crate::jsonrpc::{self, RpcError};
use crate::session::{Accepts, Negotiated, Session};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

/// The client's requested version when the gateway speaks it, else the newest the gateway speaks.
pub fn negotiate_version(requested: Option<&str>) -> &'static str {
    requested
        .and_then(|r| PROTOCOL_VERSIONS.iter().find(|v| **v == r))
        .copied()
        .unwrap_or(LATEST_PROTOCOL_VERSION)
}

#[derive(Deserialize)]
struct InitParams {
    #[serde(rename = "protocolVersion")]
    protocol_version: Option<String>,
    capabilities: Option<Box<RawValue>>,
    #[serde(rename = "clientInfo")]
    client_info: Option<Box<RawValue>>,
}

impl Gateway {
    /// Answer `initialize` for `session`: negotiate, remember the client, describe the aggregate.
    pub fn initialize(
        &self,
        session: &Session,
        id: &str,
        params: Option<&RawValue>,
    ) -> Result<Bytes, Bytes> {
        let p: InitParams = match params.map(|p| serde_json::from_str(p.get())) {
            Some(Ok(p)) => p,
            Some(Err(e)) => {
                let err = RpcError::invalid_params(format!("initialize params: {e}"));
                return Err(jsonrpc::error_message(Some(id), &err));
            }
            None => {
                let err = RpcError::invalid_params("initialize needs params with protocolVersion");
                return Err(jsonrpc::error_message(Some(id), &err));
            }
        };
        let version = negotiate_version(p.protocol_version.as_deref());
        let capabilities = p
            .capabilities
            .as_deref()
            .map_or("{}", RawValue::get)
            .to_string();
        let accepts: Accepts = serde_json::from_str(&capabilities).unwrap_or_default();
        session.negotiate(Negotiated {
            version,
            client_info: p.client_info,
            capabilities,
            accepts,
        });
        tracing::info!(session = %session.id, version, "session initialized");
        Ok(jsonrpc::response_result(
            id,
            &self.initialize_result(version),
        ))
    }

    /// The 2026-07-28 `server/discover` result: both generations' versions, the same capabilities
    /// and instructions as `initialize`, and who the gateway is in `_meta`.
    pub fn discover_result(&self) -> String {
        let init: Value = serde_json::from_str(&self.initialize_result(LATEST_PROTOCOL_VERSION))
            .expect("initialize_result is JSON");
        let mut versions: Vec<&str> = crate::downstream::MODERN_VERSIONS.to_vec();
        versions.extend(PROTOCOL_VERSIONS.iter().rev());
        json!({
            "resultType": "complete",
            "supportedVersions": versions,
            "capabilities": init["capabilities"],
            "instructions": init["instructions"],
            "ttlMs": 0,
            "cacheScope": "private",
            "_meta": { "io.modelcontextprotocol/serverInfo": init["serverInfo"] },
        })
        .to_string()
    }

    /// The `initialize` result: the union of what the upstreams offer.
    pub fn initialize_result(&self, version: &str) -> String {
        let mut caps = Map::new();
        caps.insert("tools".into(), json!({ "listChanged": true }));
        let mut instructions = format!(
            "switchboard aggregates several MCP servers; tool and prompt names are \"<server>{}<name>\", resource URIs \"<server>+<uri>\".",
            self.config.gateway.separator
        );
        let (mut prompts, mut resources, mut subscribe, mut logging, mut completions) =
            (false, false, false, false, false);
        for up in self.pool.all() {
            let Ok(conn) = up.connection() else { continue };
            let init = conn.init();
            let o = init.offers;
            prompts |= o.prompts;
            resources |= o.resources;
            subscribe |= o.subscribe;
            logging |= o.logging;
            completions |= o.completions;
            if let Some(text) = &init.instructions {
                instructions.push_str(&format!("\n\n[{}] {text}", up.spec.name));
            }
        }
        if prompts {
            caps.insert("prompts".into(), json!({ "listChanged": true }));
        }
        if resources {
            caps.insert(
                "resources".into(),
                json!({ "listChanged": true, "subscribe": subscribe }),
            );
        }
        if logging {
            caps.insert("logging".into(), json!({}));
        }
        if completions {
            caps.insert("completions".into(), json!({}));
        }
        json!({
            "protocolVersion": version,
            "capabilities": Value::Object(caps),
            "serverInfo": {
                "name": "switchboard",
                "title": "switchboard MCP gateway",
                "version": env!("CARGO_PKG_VERSION"),
            },
            "instructions": instructions,
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_versions() {
        assert_eq!(negotiate_version(Some("2025-06-18")), "2025-06-18");
        assert_eq!(negotiate_version(Some("2024-11-05")), "2024-11-05");
        assert_eq!(
            negotiate_version(Some("1999-01-01")),
            LATEST_PROTOCOL_VERSION
        );
        assert_eq!(negotiate_version(None), LATEST_PROTOCOL_VERSION);
    }
}
