//! `initialize`: version negotiation and the union of the upstreams' capabilities.

use super::{Accepts, Client, Gateway, Negotiated};
use crate::call::Failure;
use crate::jsonrpc;
use crate::protocol::{self, LATEST_INITIALIZE_VERSION};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

#[derive(Deserialize)]
struct InitParams {
    #[serde(rename = "protocolVersion")]
    protocol_version: Option<String>,
    capabilities: Option<Box<RawValue>>,
    #[serde(rename = "clientInfo")]
    client_info: Option<Box<RawValue>>,
}

impl Gateway {
    /// Answer `initialize` for `client`: negotiate, remember the client, describe the aggregate.
    /// `Err`: the params are wrong (the client is not initialized).
    pub fn initialize(
        &self,
        client: &Client,
        id: &str,
        params: Option<&RawValue>,
    ) -> Result<Bytes, Failure> {
        let p: InitParams = match params.map(|p| serde_json::from_str(p.get())) {
            Some(Ok(p)) => p,
            Some(Err(e)) => return Err(Failure::invalid_params(format!("initialize params: {e}"))),
            None => {
                return Err(Failure::invalid_params(
                    "initialize needs params with protocolVersion",
                ))
            }
        };
        let version = protocol::negotiate(p.protocol_version.as_deref());
        let capabilities = p
            .capabilities
            .as_deref()
            .map_or("{}", RawValue::get)
            .to_string();
        let accepts: Accepts = serde_json::from_str(&capabilities).unwrap_or_default();
        client.negotiate(Negotiated {
            version,
            client_info: p.client_info,
            capabilities,
            accepts,
        });
        tracing::info!(session = %client.id, version, "session initialized");
        Ok(jsonrpc::response_result(
            id,
            &self.initialize_result(version),
        ))
    }

    /// The 2026-07-28 `server/discover` result: both generations' versions, the same capabilities
    /// and instructions as `initialize`, and who the gateway is in `_meta`.
    pub fn discover_result(&self) -> String {
        let init: Value = serde_json::from_str(&self.initialize_result(LATEST_INITIALIZE_VERSION))
            .expect("initialize_result is JSON");
        json!({
            "resultType": "complete",
            "supportedVersions": protocol::all_versions(),
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
            self.config().gateway.separator
        );
        let (mut prompts, mut resources, mut subscribe, mut logging, mut completions) =
            (false, false, false, false, false);
        for up in self.pool().all() {
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
