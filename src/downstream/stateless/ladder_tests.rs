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

mod fuzz {
    //! The ladder under arbitrary headers and envelopes (`fuzz_*`): always one answer, and only
    //! the revision's three refusals.
    use super::*;
    use crate::call::Kind;
    use proptest::prelude::*;

    fn header_name() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "mcp-protocol-version",
            "mcp-method",
            "mcp-name",
            "x-other",
        ])
    }

    fn meta() -> impl Strategy<Value = String> {
        let version = prop_oneof![
            Just("\"2026-07-28\"".to_string()),
            Just("\"2025-11-25\"".to_string()),
            "[0-9-]{0,12}".prop_map(|s| format!("{s:?}")),
            Just("17".to_string()),
            Just("null".to_string()),
        ];
        (prop::option::of(version), any::<bool>(), any::<bool>()).prop_map(|(v, caps, info)| {
            let mut members = Vec::new();
            if let Some(v) = v {
                members.push(format!("\"io.modelcontextprotocol/protocolVersion\":{v}"));
            }
            if caps {
                members.push("\"io.modelcontextprotocol/clientCapabilities\":{}".into());
            }
            if info {
                members.push("\"io.modelcontextprotocol/clientInfo\":{\"name\":\"f\"}".into());
            }
            format!("{{{}}}", members.join(","))
        })
    }

    proptest! {
        #[test]
        fn fuzz_the_ladder_answers_everything_with_its_own_refusals(
            pairs in prop::collection::vec((header_name(), "[ -~]{0,20}"), 0..5),
            method in prop::sample::select(vec!["tools/call", "tools/list", "prompts/get", "resources/read"]),
            name in "[ -~]{0,12}",
            meta in prop::option::of(meta()),
            use_headers in any::<bool>(),
        ) {
            let mut h = HeaderMap::new();
            for (k, v) in &pairs {
                if let Ok(v) = HeaderValue::from_str(v) {
                    h.append(*k, v);
                }
            }
            let body = match meta {
                Some(m) => format!("{{\"name\":{name:?},\"uri\":{name:?},\"_meta\":{m}}}"),
                None => format!("{{\"name\":{name:?}}}"),
            };
            let p = RawValue::from_string(body).unwrap();
            match check(use_headers.then_some(&h), method, Some(&p)) {
                Ok(e) => prop_assert!(e.capabilities.starts_with('{'), "capabilities are an object"),
                Err(f) => prop_assert!(
                    matches!(f.kind(), Kind::InvalidParams | Kind::HeaderMismatch | Kind::UnsupportedVersion),
                    "{:?}: {}", f.kind(), f.message()
                ),
            }
        }
    }
}
