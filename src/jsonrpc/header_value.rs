//! How 2026-07-28 carries a name or parameter in an HTTP header: plain when it is safe visible
//! ASCII, else `=?base64?...?=` (UTF-8, standard alphabet).

use base64::Engine;

/// A header value, decoding the `=?base64?...?=` form; `None` if that form is malformed.
pub fn decode_header_value(v: &str) -> Option<String> {
    let Some(payload) = v
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    else {
        return Some(v.to_string());
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// A value as an HTTP header carries it: plain when it is safe, else the base64 form.
pub fn encode_header_value(v: &str) -> String {
    let plain = v.bytes().all(|b| (0x20..=0x7e).contains(&b))
        && v.trim() == v
        && !(v.starts_with("=?base64?") && v.ends_with("?="));
    if plain {
        v.to_string()
    } else {
        format!(
            "=?base64?{}?=",
            base64::engine::general_purpose::STANDARD.encode(v)
        )
    }
}
