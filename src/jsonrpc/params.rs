//! Small surgical edits of raw `params` objects: replace a member, keep every other byte's meaning.

use indexmap::IndexMap;
use serde_json::value::RawValue;

type Object = IndexMap<String, Box<RawValue>>;

fn object(params: Option<&str>) -> Object {
    params
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_default()
}

fn raw(text: &str) -> Box<RawValue> {
    RawValue::from_string(text.to_string()).expect("callers pass valid JSON")
}

/// `params` with members replaced (or added); values are raw JSON text.
pub fn set_members(params: Option<&str>, members: &[(&str, &str)]) -> String {
    let mut obj = object(params);
    for (k, v) in members {
        obj.insert((*k).to_string(), raw(v));
    }
    serde_json::to_string(&obj).expect("raw values serialize")
}

/// `params` with `_meta.progressToken` set to `token` (raw JSON text).
pub fn with_progress_token(params: Option<&str>, token: &str) -> String {
    let mut obj = object(params);
    let mut meta: Object = obj
        .get("_meta")
        .and_then(|m| serde_json::from_str(m.get()).ok())
        .unwrap_or_default();
    meta.insert("progressToken".into(), raw(token));
    let meta = serde_json::to_string(&meta).expect("raw values serialize");
    obj.insert("_meta".into(), raw(&meta));
    serde_json::to_string(&obj).expect("raw values serialize")
}

/// The raw `_meta.progressToken` of `params`, if any.
pub fn progress_token(params: Option<&RawValue>) -> Option<Box<RawValue>> {
    let obj = object(params.map(RawValue::get));
    let meta: Object = serde_json::from_str(obj.get("_meta")?.get()).ok()?;
    meta.get("progressToken").cloned()
}

/// A member of `params`, raw.
pub fn member(params: Option<&str>, key: &str) -> Option<Box<RawValue>> {
    object(params).swap_remove(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_keep_the_rest() {
        let p =
            r#"{"name":"a__b","arguments":{"x":1.50},"_meta":{"progressToken":7,"other":true}}"#;
        assert_eq!(
            set_members(Some(p), &[("name", "\"b\"")]),
            r#"{"name":"b","arguments":{"x":1.50},"_meta":{"progressToken":7,"other":true}}"#
        );
        let raw = RawValue::from_string(p.into()).unwrap();
        assert_eq!(progress_token(Some(&raw)).unwrap().get(), "7");
        let q = with_progress_token(Some(p), "\"sb-3\"");
        assert!(
            q.contains(r#""_meta":{"progressToken":"sb-3","other":true}"#),
            "{q}"
        );
        assert_eq!(
            with_progress_token(None, "1"),
            r#"{"_meta":{"progressToken":1}}"#
        );
        assert_eq!(member(Some(p), "arguments").unwrap().get(), r#"{"x":1.50}"#);
    }
}
