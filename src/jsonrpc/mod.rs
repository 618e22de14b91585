//! JSON-RPC 2.0 envelopes: read only what routing needs, keep the rest as raw JSON.
//!
//! A message is parsed into [`Message`], which borrows from the input buffer: `id`, `params`,
//! `result` and `error` stay [`RawValue`]s, so fields the gateway does not understand (newer
//! protocol revisions, vendor extensions) pass through byte for byte.

mod error;
mod header_value;
pub mod param_headers;
mod params;
mod write;

pub use error::{code, RpcError};
pub use header_value::{decode_header_value, encode_header_value};
pub use params::{
    member, progress_token, set_members, splice, string_member, view, with_progress_token, View,
};
pub use write::{
    error_message, notification, request, request_with_id, response_error_raw, response_result,
};

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// One JSON-RPC message, borrowed from its buffer.
#[derive(Debug, Deserialize)]
pub struct Message<'a> {
    /// Must be `"2.0"`.
    #[serde(default, borrow)]
    pub jsonrpc: Option<Cow<'a, str>>,
    /// Request or response id (string or integer), raw; an explicit `null` is kept (and refused
    /// by [`Message::kind`]) rather than read as "no id", which would make a request a notification.
    #[serde(default, borrow, deserialize_with = "present_even_if_null")]
    pub id: Option<&'a RawValue>,
    /// Method name of a request or notification.
    #[serde(default, borrow)]
    pub method: Option<Cow<'a, str>>,
    /// Parameters, untouched.
    #[serde(default, borrow)]
    pub params: Option<&'a RawValue>,
    /// Result of a successful response, untouched (`null` is a result too).
    #[serde(default, borrow, deserialize_with = "present_even_if_null")]
    pub result: Option<&'a RawValue>,
    /// Error object of a failed response, untouched (`"error": null` beside a result, as some
    /// peers write it, counts as no error).
    #[serde(default, borrow)]
    pub error: Option<&'a RawValue>,
}

fn present_even_if_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// What a [`Message`] is, once checked.
#[derive(Debug)]
pub enum Kind<'m> {
    /// A request: it expects exactly one answer.
    Request {
        id: &'m RawValue,
        method: &'m str,
        params: Option<&'m RawValue>,
    },
    /// A notification: no answer.
    Notification {
        method: &'m str,
        params: Option<&'m RawValue>,
    },
    /// A response to a request we sent.
    Response {
        id: &'m RawValue,
        outcome: Outcome<'m>,
    },
}

/// A response's payload.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'m> {
    /// `result`
    Result(&'m RawValue),
    /// `error` (the whole error object)
    Error(&'m RawValue),
}

/// Why a buffer is not a usable JSON-RPC message.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Not JSON at all (-32700).
    #[error("parse error: {0}")]
    Json(serde_json::Error),
    /// JSON, but a batch (arrays are not part of MCP since 2025-06-18).
    #[error("invalid request: JSON-RPC batches are not supported; send one message per request")]
    Batch,
    /// JSON, but not a JSON-RPC 2.0 message (-32600).
    #[error("invalid request: {0}")]
    Invalid(&'static str),
}

impl ParseError {
    /// The JSON-RPC code for this error.
    pub fn code(&self) -> i64 {
        match self {
            ParseError::Json(_) => code::PARSE_ERROR,
            ParseError::Batch | ParseError::Invalid(_) => code::INVALID_REQUEST,
        }
    }
}

/// Parse one message from a buffer.
pub fn parse(buf: &[u8]) -> Result<Message<'_>, ParseError> {
    let first = buf.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        Some(b'[') => {
            // Still make sure it is JSON, so malformed input gets -32700 and not -32600.
            serde_json::from_slice::<serde::de::IgnoredAny>(buf).map_err(ParseError::Json)?;
            Err(ParseError::Batch)
        }
        Some(b'{') => serde_json::from_slice(buf).map_err(|e| {
            if e.is_data() {
                ParseError::Invalid("a member has the wrong type")
            } else {
                ParseError::Json(e)
            }
        }),
        _ => match serde_json::from_slice::<serde::de::IgnoredAny>(buf) {
            Err(e) => Err(ParseError::Json(e)),
            Ok(_) => Err(ParseError::Invalid(
                "a JSON-RPC message must be a JSON object",
            )),
        },
    }
}

impl<'a> Message<'a> {
    /// Classify the message, checking the JSON-RPC 2.0 rules MCP relies on.
    pub fn kind(&self) -> Result<Kind<'_>, ParseError> {
        if self.jsonrpc.as_deref() != Some("2.0") {
            return Err(ParseError::Invalid("\"jsonrpc\" must be \"2.0\""));
        }
        if let Some(id) = self.id {
            if !is_string_or_integer(id.get()) {
                return Err(ParseError::Invalid("\"id\" must be a string or an integer"));
            }
        }
        match (&self.method, self.id, self.result, self.error) {
            (Some(m), Some(id), None, None) => Ok(Kind::Request {
                id,
                method: m.as_ref(),
                params: self.params,
            }),
            (Some(m), None, None, None) => Ok(Kind::Notification {
                method: m.as_ref(),
                params: self.params,
            }),
            (None, Some(id), Some(r), None) => Ok(Kind::Response {
                id,
                outcome: Outcome::Result(r),
            }),
            (None, Some(id), None, Some(e)) => Ok(Kind::Response {
                id,
                outcome: Outcome::Error(e),
            }),
            (None, None, _, _) => Err(ParseError::Invalid(
                "a message needs a \"method\" (request or notification) or an \"id\" (response)",
            )),
            _ => Err(ParseError::Invalid(
                "a message must be exactly one of request, notification, response",
            )),
        }
    }
}

/// Whether raw JSON text is a string or an integer (`1.5`, `-0.0` and `1e3` are numbers, not
/// integers: MCP ids are strings or integers).
fn is_string_or_integer(raw: &str) -> bool {
    if raw.starts_with('"') {
        return true;
    }
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Read one string member (`name`, `uri`, `cursor`...) out of raw params without parsing the rest.
pub fn str_member(params: Option<&RawValue>, key: &str) -> Option<String> {
    let map: std::collections::HashMap<String, &RawValue> =
        serde_json::from_str(params?.get()).ok()?;
    serde_json::from_str(map.get(key)?.get()).ok()
}

#[cfg(test)]
mod fuzz_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(s: &str) -> Result<String, i64> {
        let m = parse(s.as_bytes()).map_err(|e| e.code())?;
        let k = m.kind().map_err(|e| e.code())?;
        Ok(match k {
            Kind::Request { method, .. } => format!("request {method}"),
            Kind::Notification { method, .. } => format!("notification {method}"),
            Kind::Response { outcome, .. } => match outcome {
                Outcome::Result(_) => "result".into(),
                Outcome::Error(_) => "error".into(),
            },
        })
    }

    #[test]
    fn classifies_messages() {
        let r = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
        assert_eq!(kind_of(r).unwrap(), "request ping");
        let n = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
        assert_eq!(
            kind_of(n).unwrap(),
            "notification notifications/initialized"
        );
        assert_eq!(
            kind_of(r#"{"jsonrpc":"2.0","id":"a","result":{}}"#).unwrap(),
            "result"
        );
        assert_eq!(
            kind_of(r#"{"jsonrpc":"2.0","id":"a","error":{"code":1,"message":"x"}}"#).unwrap(),
            "error"
        );
    }

    #[test]
    fn rejects_bad_input_with_the_right_code() {
        assert_eq!(kind_of("{not json"), Err(code::PARSE_ERROR));
        assert_eq!(kind_of("[1,"), Err(code::PARSE_ERROR));
        assert_eq!(kind_of("[]"), Err(code::INVALID_REQUEST));
        assert_eq!(kind_of("42"), Err(code::INVALID_REQUEST));
        assert_eq!(
            kind_of(r#"{"id":1,"method":"x"}"#),
            Err(code::INVALID_REQUEST)
        );
        assert_eq!(
            kind_of(r#"{"jsonrpc":"2.0","id":{},"method":"x"}"#),
            Err(code::INVALID_REQUEST)
        );
        assert_eq!(
            kind_of(r#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#),
            Err(code::INVALID_REQUEST)
        );
        assert_eq!(
            kind_of(r#"{"jsonrpc":"2.0","id":null,"method":"tools/list"}"#),
            Err(code::INVALID_REQUEST),
            "a null id is no notification"
        );
        assert_eq!(kind_of(r#"{"jsonrpc":"2.0"}"#), Err(code::INVALID_REQUEST));
        assert_eq!(
            kind_of(r#"{"jsonrpc":"2.0","method":5}"#),
            Err(code::INVALID_REQUEST)
        );
    }

    #[test]
    fn keeps_unknown_fields_raw() {
        let s = r#"{"jsonrpc":"2.0","id":7,"result":{"content":[],"futureField":{"a":[1,2.50]}}}"#;
        let m = parse(s.as_bytes()).unwrap();
        assert_eq!(
            m.result.unwrap().get(),
            r#"{"content":[],"futureField":{"a":[1,2.50]}}"#
        );
    }

    #[test]
    fn reads_one_member() {
        let raw = RawValue::from_string(r#"{"name":"a\"b","arguments":{"x":1}}"#.into()).unwrap();
        assert_eq!(str_member(Some(&raw), "name").unwrap(), "a\"b");
        assert!(str_member(Some(&raw), "uri").is_none());
    }
}
