//! The 2026-07-28 request envelope and its header checks, in the revision's order: the `_meta`
//! envelope, then the mirrored headers against the body, then the version.

use crate::jsonrpc::{code, RpcError};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Protocol versions served statelessly.
pub const MODERN_VERSIONS: &[&str] = &["2026-07-28"];

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

/// A refused request: the HTTP status the revision assigns to its error code.
pub fn status_of(code: i64) -> StatusCode {
    match code {
        code::METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
        code::PARSE_ERROR
        | code::INVALID_REQUEST
        | code::INVALID_PARAMS
        | code::HEADER_MISMATCH
        | code::MISSING_CLIENT_CAPABILITY
        | code::UNSUPPORTED_PROTOCOL_VERSION => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

/// The version a 2026-07-28 request asks for, from its header or its envelope.
pub fn requested_version<'a>(
    headers: &'a HeaderMap,
    params: Option<&'a RawValue>,
) -> Option<String> {
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
) -> Result<Envelope, RpcError> {
    let missing_envelope = || {
        RpcError::invalid_params(format!(
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
        let absent: Vec<&str> = [
            (meta.version.is_none(), PROTOCOL_VERSION_KEY),
            (meta.capabilities.is_none(), CLIENT_CAPABILITIES_KEY),
        ]
        .iter()
        .filter(|(gone, _)| *gone)
        .map(|(_, k)| *k)
        .collect();
        return Err(RpcError::invalid_params(format!(
            "params._meta is missing {}",
            absent.join(" and ")
        )));
    };
    let version: Option<String> = serde_json::from_str(version.get()).ok();
    if let Some(headers) = headers {
        let header = |name: &str| -> Result<Option<&str>, RpcError> {
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
        };
        match (header("mcp-protocol-version")?, version.as_deref()) {
            (Some(h), Some(b)) if h == b => {}
            (None, _) => return Err(mismatch("the MCP-Protocol-Version header is missing".into())),
            (Some(h), b) => {
                return Err(mismatch(format!(
                    "the MCP-Protocol-Version header {h:?} does not match the body's {PROTOCOL_VERSION_KEY} {b:?}"
                )))
            }
        }
        match header("mcp-method")? {
            Some(h) if h == method => {}
            Some(h) => {
                return Err(mismatch(format!(
                    "the Mcp-Method header {h:?} does not match the body's method {method:?}"
                )))
            }
            None => return Err(mismatch("the Mcp-Method header is missing".into())),
        }
        let named = match method {
            "tools/call" | "prompts/get" => Some(("name", p.name)),
            "resources/read" => Some(("uri", p.uri)),
            _ => None,
        };
        if let Some((field, Some(raw))) = named {
            let body: Option<String> = serde_json::from_str(raw.get()).ok();
            match header("mcp-name")? {
                None => {
                    return Err(mismatch(format!(
                        "the Mcp-Name header is missing (the body's {field} is {body:?})"
                    )))
                }
                Some(h) => {
                    let decoded = crate::jsonrpc::decode_header_value(h).ok_or_else(|| {
                        mismatch("the Mcp-Name header carries a malformed base64 value".into())
                    })?;
                    if Some(&decoded) != body.as_ref() {
                        return Err(mismatch(format!(
                            "the Mcp-Name header {decoded:?} does not match the body's {field} {body:?}"
                        )));
                    }
                }
            }
        }
    }
    let version = version.ok_or_else(|| {
        RpcError::invalid_params(format!("{PROTOCOL_VERSION_KEY} must be a string"))
    })?;
    if !MODERN_VERSIONS.contains(&version.as_str()) {
        return Err(unsupported(&version));
    }
    Ok(Envelope {
        capabilities: capabilities.get().to_string(),
        client_info: meta.client_info,
    })
}

/// -32022 with the versions the gateway speaks (both generations).
pub fn unsupported(requested: &str) -> RpcError {
    let mut supported: Vec<&str> = MODERN_VERSIONS.to_vec();
    supported.extend(crate::config::PROTOCOL_VERSIONS.iter().rev());
    RpcError::new(
        code::UNSUPPORTED_PROTOCOL_VERSION,
        format!(
            "unsupported protocol version {requested:?}; supported: {}",
            supported.join(", ")
        ),
    )
    .with_data(serde_json::json!({ "supported": supported, "requested": requested }))
}

fn mismatch(message: String) -> RpcError {
    RpcError::new(code::HEADER_MISMATCH, format!("header mismatch: {message}"))
}

#[cfg(test)]
#[path = "ladder_tests.rs"]
mod tests;
