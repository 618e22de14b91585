//! The 2026-07-28 request envelope and its header checks, in the revision's order: the `_meta`
//! envelope, then the mirrored headers against the body, then the version.

use crate::call::{Failure, Kind};
use crate::downstream::guard::unsupported_version;
use crate::protocol::STATELESS_VERSIONS;
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::value::RawValue;

/// `_meta` keys of the per-request envelope.
pub const PROTOCOL_VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";
const CLIENT_CAPABILITIES_KEY: &str = "io.modelcontextprotocol/clientCapabilities";

/// What a valid envelope carries.
#[derive(Debug)]
pub struct Envelope {
    /// The client's declared capabilities (raw JSON object).
    pub capabilities: String,
    /// `clientInfo`, when sent.
    pub client_info: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
struct Params<'a> {
    #[serde(rename = "_meta", borrow)]
    meta: Option<&'a RawValue>,
    #[serde(borrow)]
    name: Option<&'a RawValue>,
    #[serde(borrow)]
    uri: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Meta<'a> {
    #[serde(rename = "io.modelcontextprotocol/protocolVersion", borrow)]
    version: Option<&'a RawValue>,
    #[serde(rename = "io.modelcontextprotocol/clientCapabilities", borrow)]
    capabilities: Option<&'a RawValue>,
    #[serde(rename = "io.modelcontextprotocol/clientInfo")]
    client_info: Option<Box<RawValue>>,
}

/// The version a 2026-07-28 request asks for, from its header or its envelope.
pub fn requested_version(headers: &HeaderMap, params: Option<&RawValue>) -> Option<String> {
    if let Some(v) = headers
        .get("mcp-protocol-version")
        .and_then(|v| v.to_str().ok())
    {
        return Some(v.to_string());
    }
    let p: Params = serde_json::from_str(params?.get()).ok()?;
    let m: Meta = serde_json::from_str(p.meta?.get()).ok()?;
    serde_json::from_str(m.version?.get()).ok()
}

/// Check a request: the envelope, then each mirrored header against the body (HTTP only:
/// `headers` is `None` on stdio), then the version.
pub fn check(
    headers: Option<&HeaderMap>,
    method: &str,
    params: Option<&RawValue>,
) -> Result<Envelope, Failure> {
    let missing_envelope = || {
        Failure::invalid_params(format!(
            "params._meta must be an object carrying {PROTOCOL_VERSION_KEY:?} and {CLIENT_CAPABILITIES_KEY:?} (protocol 2026-07-28 has no initialize)"
        ))
    };
    let p: Params = params
        .and_then(|p| serde_json::from_str(p.get()).ok())
        .ok_or_else(missing_envelope)?;
    let meta: Meta = p
        .meta
        .and_then(|m| serde_json::from_str(m.get()).ok())
        .ok_or_else(missing_envelope)?;
    let (Some(version), Some(capabilities)) = (meta.version, meta.capabilities) else {
        return Err(incomplete(&meta));
    };
    let version: Option<String> = serde_json::from_str(version.get()).ok();
    if let Some(headers) = headers {
        let header = |name: &str| single_header(headers, name);
        protocol_version_header(header("mcp-protocol-version")?, version.as_deref())?;
        method_header(header("mcp-method")?, method)?;
        let named = match method {
            "tools/call" | "prompts/get" => Some(("name", p.name)),
            "resources/read" => Some(("uri", p.uri)),
            _ => None,
        };
        if let Some((field, Some(raw))) = named {
            name_header(header("mcp-name")?, field, raw)?;
        }
    }
    let version = version.ok_or_else(|| {
        Failure::invalid_params(format!("{PROTOCOL_VERSION_KEY} must be a string"))
    })?;
    if !STATELESS_VERSIONS.contains(&version.as_str()) {
        return Err(unsupported_version(&version));
    }
    Ok(Envelope {
        capabilities: capabilities.get().to_string(),
        client_info: meta.client_info,
    })
}

/// `-32602` naming the envelope keys that are absent.
fn incomplete(meta: &Meta<'_>) -> Failure {
    let absent: Vec<&str> = [
        (meta.version.is_none(), PROTOCOL_VERSION_KEY),
        (meta.capabilities.is_none(), CLIENT_CAPABILITIES_KEY),
    ]
    .iter()
    .filter(|(gone, _)| *gone)
    .map(|(_, k)| *k)
    .collect();
    Failure::invalid_params(format!("params._meta is missing {}", absent.join(" and ")))
}

/// A header's one value, trimmed; more than one, or one that is not visible ASCII, is a mismatch.
fn single_header<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, Failure> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(mismatch(format!(
            "the {name} header appears more than once"
        )));
    }
    first
        .map(|v| {
            v.to_str()
                .map(str::trim)
                .map_err(|_| mismatch(format!("the {name} header is not visible ASCII")))
        })
        .transpose()
}

fn protocol_version_header(header: Option<&str>, body: Option<&str>) -> Result<(), Failure> {
    match (header, body) {
        (Some(h), Some(b)) if h == b => Ok(()),
        (None, _) => Err(mismatch("the MCP-Protocol-Version header is missing".into())),
        (Some(h), b) => Err(mismatch(format!(
            "the MCP-Protocol-Version header {h:?} does not match the body's {PROTOCOL_VERSION_KEY} {b:?}"
        ))),
    }
}

fn method_header(header: Option<&str>, method: &str) -> Result<(), Failure> {
    match header {
        Some(h) if h == method => Ok(()),
        Some(h) => Err(mismatch(format!(
            "the Mcp-Method header {h:?} does not match the body's method {method:?}"
        ))),
        None => Err(mismatch("the Mcp-Method header is missing".into())),
    }
}

/// `Mcp-Name` (plain, or in its base64 form) against the body's `name` or `uri`.
fn name_header(header: Option<&str>, field: &str, raw: &RawValue) -> Result<(), Failure> {
    let body: Option<String> = serde_json::from_str(raw.get()).ok();
    let Some(h) = header else {
        return Err(mismatch(format!(
            "the Mcp-Name header is missing (the body's {field} is {body:?})"
        )));
    };
    let decoded = crate::jsonrpc::decode_header_value(h)
        .ok_or_else(|| mismatch("the Mcp-Name header carries a malformed base64 value".into()))?;
    if Some(&decoded) != body.as_ref() {
        return Err(mismatch(format!(
            "the Mcp-Name header {decoded:?} does not match the body's {field} {body:?}"
        )));
    }
    Ok(())
}

fn mismatch(message: String) -> Failure {
    Failure::new(Kind::HeaderMismatch, format!("header mismatch: {message}"))
}

#[cfg(test)]
#[path = "ladder_tests.rs"]
mod tests;
