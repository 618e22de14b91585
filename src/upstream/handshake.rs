//! The `initialize` handshake.

use super::Connection;
use crate::call::{Deadline, Failure, Kind};
use crate::protocol::{self, LATEST_INITIALIZE_VERSION, STATELESS_VERSION};
use serde::Deserialize;
use serde_json::value::RawValue;

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
    /// What it offers.
    pub offers: Offers,
    /// It speaks the stateless 2026-07-28 revision: no session, every request carries the
    /// `_meta` envelope.
    pub stateless: bool,
}

/// The server capabilities the gateway acts on.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(default)]
pub struct Offers {
    /// `tools`
    #[serde(deserialize_with = "present")]
    pub tools: bool,
    /// `prompts`
    #[serde(deserialize_with = "present")]
    pub prompts: bool,
    /// `resources`
    #[serde(deserialize_with = "present")]
    pub resources: bool,
    /// `logging`
    #[serde(deserialize_with = "present")]
    pub logging: bool,
    /// `completions`
    #[serde(deserialize_with = "present")]
    pub completions: bool,
    /// `resources.subscribe`
    #[serde(skip)]
    pub subscribe: bool,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(!v.is_null())
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

/// Run `initialize` + `notifications/initialized`, declaring `client_caps` (raw JSON object).
pub async fn initialize(conn: &Connection, client_caps: &str) -> Result<InitInfo, Failure> {
    let params = format!(
        r#"{{"protocolVersion":"{LATEST_INITIALIZE_VERSION}","capabilities":{client_caps},"clientInfo":{{"name":"switchboard","version":"{}"}}}}"#,
        env!("CARGO_PKG_VERSION")
    );
    let reply = conn
        .request_once(
            "initialize",
            Some(&params),
            &Deadline::fixed(conn.timeout()),
            None,
            None,
        )
        .await?;
    if reply.is_error() {
        return Err(Failure::protocol(format!(
            "initialize was refused: {}",
            reply.payload()
        )));
    }
    let r: InitResult = serde_json::from_str(reply.payload())
        .map_err(|e| Failure::protocol(format!("bad initialize result: {e}")))?;
    if !protocol::is_initialize(&r.protocol_version) {
        return Err(Failure::protocol(format!(
            "upstream chose protocol version {:?}, which the gateway does not speak",
            r.protocol_version
        )));
    }
    let caps = r.capabilities.as_deref().map_or("{}", RawValue::get);
    let mut offers: Offers = serde_json::from_str(caps).unwrap_or_default();
    offers.subscribe = serde_json::from_str::<serde_json::Value>(caps)
        .ok()
        .and_then(|v| {
            v.pointer("/resources/subscribe")
                .and_then(serde_json::Value::as_bool)
        })
        .unwrap_or(false);
    conn.notify("notifications/initialized", None).await?;
    Ok(InitInfo {
        protocol_version: r.protocol_version,
        capabilities: r.capabilities,
        server_info: r.server_info,
        instructions: r.instructions,
        offers,
        stateless: false,
    })
}

#[derive(Deserialize)]
struct DiscoverResult {
    #[serde(rename = "supportedVersions", default)]
    supported_versions: Vec<String>,
    capabilities: Option<Box<RawValue>>,
    instructions: Option<String>,
    #[serde(rename = "_meta")]
    meta: Option<DiscoverMeta>,
}

#[derive(Deserialize)]
struct DiscoverMeta {
    #[serde(rename = "io.modelcontextprotocol/serverInfo")]
    server_info: Option<Box<RawValue>>,
}

/// Ask `server/discover` (the request carries the 2026-07-28 envelope). `Some` when the upstream
/// speaks 2026-07-28; `None` when it answers anything else or not within `wait` (an `initialize`
/// generation server: fall back to the handshake). Transport failures are errors.
pub async fn discover(
    conn: &Connection,
    wait: std::time::Duration,
) -> Result<Option<InitInfo>, Failure> {
    let deadline = Deadline::fixed(wait);
    let reply = match conn
        .request_once("server/discover", Some("{}"), &deadline, None, None)
        .await
    {
        Ok(r) => r,
        Err(e) if e.kind() == Kind::UpstreamTimeout => return Ok(None),
        // An HTTP server of the initialize generation refuses a sessionless POST with a 4xx
        // whose body is no stateless error (no id to match it to our request): fall back.
        Err(e) if e.status().is_some_and(|s| (400..500).contains(&s)) => return Ok(None),
        Err(e) => return Err(e),
    };
    if reply.is_error() {
        return Ok(None);
    }
    let Ok(r) = serde_json::from_str::<DiscoverResult>(reply.payload()) else {
        return Ok(None);
    };
    if !r.supported_versions.iter().any(|v| v == STATELESS_VERSION) {
        return Ok(None);
    }
    let caps = r.capabilities.as_deref().map_or("{}", RawValue::get);
    let mut offers: Offers = serde_json::from_str(caps).unwrap_or_default();
    offers.subscribe = false; // 2026-07-28 subscribes through subscriptions/listen
    Ok(Some(InitInfo {
        protocol_version: STATELESS_VERSION.to_string(),
        capabilities: r.capabilities,
        server_info: r.meta.and_then(|m| m.server_info),
        instructions: r.instructions,
        offers,
        stateless: true,
    }))
}
