//! Writing JSON-RPC messages by splicing raw JSON text, without re-serializing payloads.
//!
//! Every `&str` argument named id, result, error or params is raw JSON text, written verbatim.

use super::RpcError;
use bytes::{BufMut, Bytes, BytesMut};
const HEAD: &[u8] = br#"{"jsonrpc":"2.0","id":"#;

fn json_str(out: &mut BytesMut, s: &str) {
    // serde_json's string escaping into a Vec cannot fail.
    let mut w = out.writer();
    serde_json::to_writer(&mut w, s).expect("writing a string to memory");
}

/// `{"jsonrpc":"2.0","id":ID,"result":RESULT}`
pub fn response_result(id: &str, result: &str) -> Bytes {
    let mut out = BytesMut::with_capacity(HEAD.len() + id.len() + result.len() + 12);
    out.put_slice(HEAD);
    out.put_slice(id.as_bytes());
    out.put_slice(br#","result":"#);
    out.put_slice(result.as_bytes());
    out.put_u8(b'}');
    out.freeze()
}

/// `{"jsonrpc":"2.0","id":ID,"error":ERROR}` with a raw error object (passed through from an upstream).
pub fn response_error_raw(id: &str, error: &str) -> Bytes {
    let mut out = BytesMut::with_capacity(HEAD.len() + id.len() + error.len() + 11);
    out.put_slice(HEAD);
    out.put_slice(id.as_bytes());
    out.put_slice(br#","error":"#);
    out.put_slice(error.as_bytes());
    out.put_u8(b'}');
    out.freeze()
}

/// An error response made by the gateway; `id` is `null` when the request's id is unknown.
pub fn error_message(id: Option<&str>, err: &RpcError) -> Bytes {
    let mut out = BytesMut::with_capacity(96 + err.message.len());
    out.put_slice(HEAD);
    out.put_slice(id.unwrap_or("null").as_bytes());
    out.put_slice(br#","error":{"code":"#);
    out.put_slice(err.code.to_string().as_bytes());
    out.put_slice(br#","message":"#);
    json_str(&mut out, &err.message);
    if let Some(data) = &err.data {
        out.put_slice(br#","data":"#);
        out.put_slice(data.get().as_bytes());
    }
    out.put_slice(b"}}");
    out.freeze()
}

/// `{"jsonrpc":"2.0","id":N,"method":M,"params":P}` with a numeric id (the gateway's own ids).
pub fn request(id: u64, method: &str, params: Option<&str>) -> Bytes {
    request_with_id(&id.to_string(), method, params)
}

/// A request with a raw id (any JSON string or number).
pub fn request_with_id(id: &str, method: &str, params: Option<&str>) -> Bytes {
    let plen = params.map_or(0, str::len);
    let mut out = BytesMut::with_capacity(64 + method.len() + plen);
    out.put_slice(HEAD);
    out.put_slice(id.as_bytes());
    out.put_slice(br#","method":"#);
    json_str(&mut out, method);
    if let Some(p) = params {
        out.put_slice(br#","params":"#);
        out.put_slice(p.as_bytes());
    }
    out.put_u8(b'}');
    out.freeze()
}

/// `{"jsonrpc":"2.0","method":M,"params":P}`
pub fn notification(method: &str, params: Option<&str>) -> Bytes {
    let plen = params.map_or(0, str::len);
    let mut out = BytesMut::with_capacity(48 + method.len() + plen);
    out.put_slice(br#"{"jsonrpc":"2.0","method":"#);
    json_str(&mut out, method);
    if let Some(p) = params {
        out.put_slice(br#","params":"#);
        out.put_slice(p.as_bytes());
    }
    out.put_u8(b'}');
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splices_parts_verbatim() {
        let r = response_result("\"a\"", r#"{"x": 1.50}"#);
        assert_eq!(
            &r[..],
            br#"{"jsonrpc":"2.0","id":"a","result":{"x": 1.50}}"#
        );
        let e = error_message(None, &RpcError::new(-32700, "bad \"json\""));
        let v: serde_json::Value = serde_json::from_slice(&e).unwrap();
        assert_eq!(v["error"]["message"], "bad \"json\"");
        assert!(v["id"].is_null());
        let q = request(3, "tools/call", Some(r#"{"name":"t"}"#));
        assert_eq!(
            &q[..],
            br#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"t"}}"#
        );
        let n = notification("notifications/initialized", None);
        assert_eq!(
            &n[..],
            br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#
        );
    }
}
