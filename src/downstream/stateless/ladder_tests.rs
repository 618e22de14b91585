//! The envelope ladder: each rung's error, in order.

use super::*;
use crate::jsonrpc::code;
use axum::http::HeaderValue;

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

fn params(extra: &str) -> Box<RawValue> {
    RawValue::from_string(format!(
        r#"{{{extra}"_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{{}}}}}}"#
    ))
    .unwrap()
}

const OK: &[(&str, &str)] = &[
    ("mcp-protocol-version", "2026-07-28"),
    ("mcp-method", "tools/call"),
    ("mcp-name", "echo"),
];

#[test]
fn a_well_formed_request_passes() {
    let p = params(r#""name":"echo","#);
    assert!(check(Some(&headers(OK)), "tools/call", Some(&p)).is_ok());
    // Leading/trailing whitespace in a header value is not part of it (RFC 9110 5.5).
    let spaced = headers(&[OK[0], OK[1], ("mcp-name", "  echo ")]);
    assert!(check(Some(&spaced), "tools/call", Some(&p)).is_ok());
    // A base64-encoded name decodes before comparing.
    let p = params(r#""name":"héllo","#);
    let encoded = crate::jsonrpc::encode_header_value("héllo");
    assert!(encoded.starts_with("=?base64?"));
    assert!(check(
        Some(&headers(&[OK[0], OK[1], ("mcp-name", &encoded)])),
        "tools/call",
        Some(&p)
    )
    .is_ok());
}

#[test]
fn each_rung_names_its_problem() {
    let code_of = |h: &[(&'static str, &str)], method: &str, p: &str| {
        let p = RawValue::from_string(p.to_string()).unwrap();
        let e = check(Some(&headers(h)), method, Some(&p)).unwrap_err();
        (e.class().code, e.message().to_string())
    };
    let (c, m) = code_of(OK, "tools/call", r#"{"name":"echo"}"#);
    assert_eq!(c, code::INVALID_PARAMS, "{m}");
    assert!(m.contains("_meta"), "{m}");
    let p = params(r#""name":"echo","#);
    let p = p.get();
    let (c, m) = code_of(&[OK[1], OK[2]], "tools/call", p);
    assert_eq!(c, code::HEADER_MISMATCH);
    assert!(m.contains("MCP-Protocol-Version"), "{m}");
    let (c, m) = code_of(
        &[OK[0], ("mcp-method", "tools/list"), OK[2]],
        "tools/call",
        p,
    );
    assert_eq!(c, code::HEADER_MISMATCH);
    assert!(m.contains("tools/list"), "{m}");
    let (c, m) = code_of(&[OK[0], OK[1], ("mcp-name", "other")], "tools/call", p);
    assert_eq!(c, code::HEADER_MISMATCH);
    assert!(m.contains("other") && m.contains("echo"), "{m}");
    let (c, m) = code_of(&[OK[0], OK[1]], "tools/call", p);
    assert_eq!(c, code::HEADER_MISMATCH);
    assert!(m.contains("Mcp-Name header is missing"), "{m}");
    let (c, _) = code_of(
        &[OK[0], OK[1], OK[2], ("mcp-name", "echo")],
        "tools/call",
        p,
    );
    assert_eq!(c, code::HEADER_MISMATCH, "a duplicated routing header");
    let old = r#"{"name":"echo","_meta":{"io.modelcontextprotocol/protocolVersion":"2031-01-01","io.modelcontextprotocol/clientCapabilities":{}}}"#;
    let (c, m) = code_of(
        &[("mcp-protocol-version", "2031-01-01"), OK[1], OK[2]],
        "tools/call",
        old,
    );
    assert_eq!(c, code::UNSUPPORTED_PROTOCOL_VERSION);
    assert!(m.contains("2026-07-28") && m.contains("2025-11-25"), "{m}");
}
