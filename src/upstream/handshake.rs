//! The `initialize` handshake and fetching an upstream's whole tool list.

use super::{Connection, UpstreamError};
use crate::config::{LATEST_PROTOCOL_VERSION, PROTOCOL_VERSIONS};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::sync::Arc;

/// Most pages the gateway follows in one list (an upstream whose cursors never end is broken).
const MAX_PAGES: usize = 1000;

/// What the upstream said in its `initialize` result.
#[derive(Debug, Default)]
pub struct InitInfo {
    /// Negotiated protocol version.
    pub protocol_version: String,
    /// The upstream's capabilities, raw.
    pub capabilities: Option<Box<RawValue>>,
    /// `serverInfo`, raw.
    pub server_info: Option<Box<RawValue>>,
    /// `instructions`, if any.
    pub instructions: Option<String>,
    /// Whether it offers tools.
    pub tools: bool,
}

/// One tool as the upstream described it: its name, and the whole object untouched.
#[derive(Debug, Clone)]
pub struct ToolDef {
    /// The upstream's own name for it.
    pub name: Arc<str>,
    /// The full tool object (description, schemas, annotations, fields we do not know).
    pub raw: Arc<RawValue>,
}

#[derive(Deserialize)]
struct InitResult {
    #[serde(rename = "protocolVersion")]
    protocol_version: String,
    capabilities: Option<Box<RawValue>>,
    #[serde(rename = "serverInfo")]
    server_info: Option<Box<RawValue>>,
    instructions: Option<String>,
}

#[derive(Deserialize)]
struct Caps {
    tools: Option<serde::de::IgnoredAny>,
}

/// Run `initialize` + `notifications/initialized`.
pub async fn initialize(conn: &Connection) -> Result<InitInfo, UpstreamError> {
    let params = format!(
        r#"{{"protocolVersion":"{LATEST_PROTOCOL_VERSION}","capabilities":{{}},"clientInfo":{{"name":"switchboard","version":"{}"}}}}"#,
        env!("CARGO_PKG_VERSION")
    );
    let reply = conn
        .request_once("initialize", Some(&params), conn.timeout())
        .await?;
    if reply.is_error() {
        return Err(UpstreamError::Protocol(format!(
            "initialize was refused: {}",
            reply.payload()
        )));
    }
    let r: InitResult = serde_json::from_str(reply.payload())
        .map_err(|e| UpstreamError::Protocol(format!("bad initialize result: {e}")))?;
    if !PROTOCOL_VERSIONS.contains(&r.protocol_version.as_str()) {
        return Err(UpstreamError::Protocol(format!(
            "upstream chose protocol version {:?}, which the gateway does not speak",
            r.protocol_version
        )));
    }
    let tools = r
        .capabilities
        .as_deref()
        .and_then(|c| serde_json::from_str::<Caps>(c.get()).ok())
        .is_some_and(|c| c.tools.is_some());
    conn.notify("notifications/initialized", None).await?;
    Ok(InitInfo {
        protocol_version: r.protocol_version,
        capabilities: r.capabilities,
        server_info: r.server_info,
        instructions: r.instructions,
        tools,
    })
}

#[derive(Deserialize)]
struct ToolsPage {
    tools: Vec<Box<RawValue>>,
    #[serde(rename = "nextCursor")]
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct NameOnly<'a> {
    #[serde(borrow)]
    name: std::borrow::Cow<'a, str>,
}

/// Fetch every page of `tools/list`.
pub async fn list_tools(conn: &Connection) -> Result<Vec<ToolDef>, UpstreamError> {
    if !conn.init().tools {
        return Ok(Vec::new());
    }
    let mut tools = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let params = cursor
            .as_ref()
            .map(|c| serde_json::json!({ "cursor": c }).to_string());
        let reply = conn.request("tools/list", params.as_deref()).await?;
        if reply.is_error() {
            return Err(UpstreamError::Protocol(format!(
                "tools/list failed: {}",
                reply.payload()
            )));
        }
        let page: ToolsPage = serde_json::from_str(reply.payload())
            .map_err(|e| UpstreamError::Protocol(format!("bad tools/list result: {e}")))?;
        for raw in page.tools {
            match serde_json::from_str::<NameOnly>(raw.get()) {
                Ok(t) => tools.push(ToolDef {
                    name: Arc::from(t.name.as_ref()),
                    raw: Arc::from(raw),
                }),
                Err(e) => {
                    tracing::warn!(server = %conn.server(), "skipping a tool without a name: {e}")
                }
            }
        }
        match page.next_cursor {
            Some(c) if !c.is_empty() && Some(&c) != cursor.as_ref() => cursor = Some(c),
            _ => return Ok(tools),
        }
    }
    Err(UpstreamError::Protocol(format!(
        "tools/list did not end after {MAX_PAGES} pages"
    )))
}
