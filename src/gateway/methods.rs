//! The MCP methods the gateway answers: lifecycle, `ping`, and the merged tools.

use super::Gateway;
use crate::config::{LATEST_PROTOCOL_VERSION, PROTOCOL_VERSIONS};
use crate::jsonrpc::{self, RpcError};
use crate::session::Session;
use crate::upstream::UpstreamError;
use bytes::Bytes;
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The client's requested version when the gateway speaks it, else the newest the gateway speaks.
pub fn negotiate_version(requested: Option<&str>) -> &'static str {
    requested
        .and_then(|r| PROTOCOL_VERSIONS.iter().find(|v| **v == r))
        .copied()
        .unwrap_or(LATEST_PROTOCOL_VERSION)
}

#[derive(Deserialize)]
struct CallParams<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
}

impl Gateway {
    /// The `initialize` result for a negotiated version.
    pub fn initialize_result(&self, version: &str) -> String {
        let mut instructions = String::from(
            "switchboard aggregates several MCP servers; each tool is named \"<server>",
        );
        instructions.push_str(&self.config.gateway.separator);
        instructions.push_str("<tool>\".");
        for up in self.pool.all() {
            if let Ok(conn) = up.connection() {
                if let Some(text) = &conn.init().instructions {
                    instructions.push_str(&format!("\n\n[{}] {text}", up.spec.name));
                }
            }
        }
        serde_json::json!({
            "protocolVersion": version,
            "capabilities": { "tools": { "listChanged": true } },
            "serverInfo": {
                "name": "switchboard",
                "title": "switchboard MCP gateway",
                "version": env!("CARGO_PKG_VERSION"),
            },
            "instructions": instructions,
        })
        .to_string()
    }

    /// Answer one request of an initialized session; the result is the whole response message.
    pub async fn handle(
        &self,
        _session: &Session,
        id: &str,
        method: &str,
        params: Option<&RawValue>,
    ) -> Bytes {
        match method {
            "ping" => jsonrpc::response_result(id, "{}"),
            "tools/list" => self.tools_list(id, params),
            "tools/call" => self.tools_call(id, params).await,
            _ => jsonrpc::error_message(Some(id), &RpcError::method_not_found(method)),
        }
    }

    fn tools_list(&self, id: &str, params: Option<&RawValue>) -> Bytes {
        if let Some(cursor) = jsonrpc::str_member(params, "cursor") {
            let e = RpcError::invalid_params(format!(
                "unknown cursor {cursor:?}: tools/list returns every tool in one page"
            ));
            return jsonrpc::error_message(Some(id), &e);
        }
        jsonrpc::response_result(id, self.catalog().list_result())
    }

    async fn tools_call(&self, id: &str, params: Option<&RawValue>) -> Bytes {
        match self.call_tool(params).await {
            Ok(reply) if reply.is_error() => jsonrpc::response_error_raw(id, reply.payload()),
            Ok(reply) => jsonrpc::response_result(id, reply.payload()),
            Err(e) => jsonrpc::error_message(Some(id), &e),
        }
    }

    async fn call_tool(
        &self,
        params: Option<&RawValue>,
    ) -> Result<crate::upstream::Reply, RpcError> {
        let params = params
            .ok_or_else(|| RpcError::invalid_params("tools/call needs params with a \"name\""))?;
        let name = serde_json::from_str::<CallParams>(params.get())
            .map_err(|e| RpcError::invalid_params(format!("tools/call params: {e}")))?
            .name;
        let catalog = self.catalog();
        let tool = catalog.get(&name).ok_or_else(|| {
            RpcError::invalid_params(format!("unknown tool: {name:?}"))
                .with_data(serde_json::json!({"tool": name}))
        })?;
        let upstream = &self.pool.all()[tool.server];
        let conn = upstream
            .connection()
            .map_err(|e| upstream_error(&tool.server_name, "tools/call", e))?;
        let forwarded: Cow<'_, str> = if tool.original == tool.exposed {
            Cow::Borrowed(params.get())
        } else {
            let mut obj: IndexMap<Cow<'_, str>, &RawValue> = serde_json::from_str(params.get())
                .map_err(|e| RpcError::invalid_params(format!("tools/call params: {e}")))?;
            let original =
                serde_json::value::to_raw_value(&*tool.original).expect("a string serializes");
            obj.insert(Cow::Borrowed("name"), &original);
            Cow::Owned(serde_json::to_string(&obj).expect("raw values serialize"))
        };
        conn.request("tools/call", Some(&forwarded))
            .await
            .map_err(|e| upstream_error(&tool.server_name, "tools/call", e))
    }
}

/// An upstream failure as the client sees it: which server, which method, what happened.
fn upstream_error(server: &str, method: &str, e: UpstreamError) -> RpcError {
    let code = match e {
        UpstreamError::Timeout(_) => jsonrpc::code::REQUEST_TIMEOUT,
        _ => jsonrpc::code::INTERNAL_ERROR,
    };
    RpcError::new(
        code,
        format!("upstream server {server:?} failed on {method}: {e}"),
    )
    .with_data(serde_json::json!({ "server": server }))
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
