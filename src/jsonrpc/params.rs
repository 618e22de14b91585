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

/// What the request path reads of a request's params, in one pass without copying: the `name`
/// it routes on (and where it sits, to swap it), and `_meta.progressToken`.
#[derive(Debug, Default)]
pub struct View<'a> {
    /// `name`, if it is a string.
    pub name: Option<std::borrow::Cow<'a, str>>,
    /// Byte range of the `name` value (quotes included) in the params text.
    pub name_span: Option<std::ops::Range<usize>>,
    /// `_meta.progressToken`, raw.
    pub progress_token: Option<&'a RawValue>,
}

#[derive(serde::Deserialize)]
struct Top<'a> {
    #[serde(borrow, default)]
    name: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "_meta")]
    meta: Option<&'a RawValue>,
}

#[derive(serde::Deserialize)]
struct Meta<'a> {
    #[serde(borrow, default, rename = "progressToken")]
    progress_token: Option<&'a RawValue>,
}

/// Read the [`View`] of `params` (an object; anything else gives an empty view).
pub fn view(params: &str) -> View<'_> {
    let Ok(top) = serde_json::from_str::<Top>(params) else {
        return View::default();
    };
    let name_span = top.name.map(|n| {
        let start = n.get().as_ptr() as usize - params.as_ptr() as usize;
        start..start + n.get().len()
    });
    View {
        name: top.name.and_then(|n| serde_json::from_str(n.get()).ok()),
        name_span,
        progress_token: top
            .meta
            .and_then(|m| serde_json::from_str::<Meta>(m.get()).ok())
            .and_then(|m| m.progress_token),
    }
}

/// `text` with `span` replaced by `with` (raw JSON): swapping one value without re-serializing.
pub fn splice(text: &str, span: std::ops::Range<usize>, with: &str) -> String {
    let mut out = String::with_capacity(text.len() + with.len());
    out.push_str(&text[..span.start]);
    out.push_str(with);
    out.push_str(&text[span.end..]);
    out
}

/// The raw `_meta.progressToken` of `params`, if any.
pub fn progress_token(params: &str) -> Option<Box<RawValue>> {
    view(params).progress_token.map(ToOwned::to_owned)
}

/// A string member of `params`.
pub fn string_member(params: Option<&str>, key: &str) -> Option<String> {
    serde_json::from_str(member(params, key)?.get()).ok()
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
        assert_eq!(progress_token(p).unwrap().get(), "7");
        let v = view(p);
        assert_eq!(v.name.as_deref(), Some("a__b"));
        assert_eq!(
            splice(p, v.name_span.unwrap(), "\"b\""),
            set_members(Some(p), &[("name", "\"b\"")])
        );
        assert!(view("[1]").name.is_none());
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
