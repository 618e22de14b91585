//! `x-mcp-header` (2026-07-28): a tool's `inputSchema` may mark primitive properties, reachable
//! from the root through `properties` alone, to be mirrored into `Mcp-Param-{token}` headers. The
//! gateway validates them on its 2026-07-28 face and writes them for 2026-07-28 HTTP upstreams.

use super::{decode_header_value, encode_header_value};
use serde_json::Value;

/// One annotated property: where it is in the arguments, its header token, its JSON type.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// The chain of `properties` keys from the schema root.
    pub path: Vec<String>,
    /// The `x-mcp-header` value (the header is `Mcp-Param-{token}`).
    pub token: String,
    /// The property's `type` (`string`, `integer`, `boolean`).
    pub kind: String,
}

/// Every annotation reachable through `properties` chains (others are ignored).
pub fn annotations(schema: &Value) -> Vec<Annotation> {
    let mut out = Vec::new();
    let mut stack: Vec<(Vec<String>, &Value)> = vec![(Vec::new(), schema)];
    while let Some((path, node)) = stack.pop() {
        let Some(obj) = node.as_object() else {
            continue;
        };
        if let (false, Some(Value::String(token))) = (path.is_empty(), obj.get("x-mcp-header")) {
            let kind = obj
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            out.push(Annotation {
                path: path.clone(),
                token: token.clone(),
                kind,
            });
        }
        if let Some(Value::Object(props)) = obj.get("properties") {
            for (k, v) in props {
                let mut p = path.clone();
                p.push(k.clone());
                stack.push((p, v));
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn value_at<'a>(arguments: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut node = arguments;
    for key in path {
        node = node.as_object()?.get(key)?;
    }
    (!node.is_null()).then_some(node)
}

/// A primitive as a header carries it (before encoding); `None` for anything else.
fn render(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The `Mcp-Param-*` headers a call with `arguments` carries (name, encoded value).
pub fn mirror(annotations: &[Annotation], arguments: &Value) -> Vec<(String, String)> {
    annotations
        .iter()
        .filter_map(|a| {
            let v = render(value_at(arguments, &a.path)?)?;
            Some((format!("Mcp-Param-{}", a.token), encode_header_value(&v)))
        })
        .collect()
}

/// Check each annotated property's header against the argument: present together and equal
/// (integers compared as numbers), or absent together. `header` returns every value sent under a
/// (case-insensitive) name. The error names the header and what is wrong.
pub fn validate<'h>(
    annotations: &[Annotation],
    arguments: &Value,
    header: impl Fn(&str) -> Vec<&'h str>,
) -> Result<(), String> {
    for a in annotations {
        let name = format!("Mcp-Param-{}", a.token);
        let sent = header(&name);
        if sent.len() > 1 {
            return Err(format!("the {name} header appears more than once"));
        }
        let arg = a.path.join(".");
        let value = value_at(arguments, &a.path);
        match (sent.first(), value.and_then(render)) {
            (None, None) => {}
            (Some(_), None) => {
                return Err(format!(
                    "the {name} header is present but the argument {arg:?} is not"
                ))
            }
            (None, Some(_)) => {
                return Err(format!(
                    "the {name} header is missing but the argument {arg:?} is present"
                ))
            }
            (Some(raw), Some(body)) => {
                let decoded = decode_header_value(raw.trim())
                    .ok_or_else(|| format!("the {name} header carries a malformed base64 value"))?;
                let same = match (a.kind.as_str(), value) {
                    ("integer", Some(Value::Number(n))) => {
                        decoded.parse::<f64>().ok() == n.as_f64() && !decoded.contains(['e', 'E'])
                    }
                    _ => decoded == body,
                };
                if !same {
                    return Err(format!(
                        "the {name} header {decoded:?} does not match the argument {arg:?} ({body:?})"
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type":"object","properties":{
            "region":{"type":"string","x-mcp-header":"Region"},
            "n":{"type":"integer","x-mcp-header":"N"},
            "nested":{"type":"object","properties":{"flag":{"type":"boolean","x-mcp-header":"Flag"}}},
            "list":{"type":"array","items":{"type":"string","x-mcp-header":"Ignored"}},
            "query":{"type":"string"}}})
    }

    #[test]
    fn annotations_follow_properties_only() {
        let tokens: Vec<String> = annotations(&schema())
            .into_iter()
            .map(|a| a.token)
            .collect();
        assert_eq!(tokens, ["N", "Flag", "Region"]);
    }

    #[test]
    fn mirrored_headers_validate_and_mismatches_are_named() {
        let a = annotations(&schema());
        let args = json!({"region":"Hello, 世界","n":42,"nested":{"flag":true},"query":"q"});
        let headers = mirror(&a, &args);
        assert!(headers.contains(&(
            "Mcp-Param-Region".into(),
            "=?base64?SGVsbG8sIOS4lueVjA==?=".into()
        )));
        let got = |h: Vec<(String, String)>| {
            validate(&a, &args, |name| {
                h.iter()
                    .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
                    .collect()
            })
        };
        assert_eq!(got(headers.clone()), Ok(()));
        let mut wrong = headers.clone();
        wrong.retain(|(k, _)| k != "Mcp-Param-N");
        wrong.push(("Mcp-Param-N".into(), "42.0".into()));
        assert_eq!(got(wrong), Ok(()), "integers compare as numbers");
        let mut missing = headers.clone();
        missing.retain(|(k, _)| k != "Mcp-Param-Flag");
        assert!(got(missing)
            .unwrap_err()
            .contains("Mcp-Param-Flag header is missing"));
        let mut bad = headers;
        bad.retain(|(k, _)| k != "Mcp-Param-Region");
        bad.push(("Mcp-Param-Region".into(), "=?base64?SGVsbG8?=".into()));
        assert!(got(bad).unwrap_err().contains("malformed base64"));
    }
}
