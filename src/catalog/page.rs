//! Gateway-made pagination over merged lists: an opaque cursor that encodes where the next page starts.

use serde_json::value::RawValue;

const TAG: &str = "sb1.";

/// Render one page of `items` as `{"<member>":[...],"nextCursor":...}`; `size` 0 means one page.
/// A cursor the gateway did not make is an error (the caller answers -32602).
pub fn render<I: std::ops::Deref<Target = RawValue>>(
    items: &[I],
    member: &str,
    cursor: Option<&str>,
    size: usize,
) -> Result<String, String> {
    let start = match cursor {
        None => 0,
        Some(c) => c
            .strip_prefix(TAG)
            .and_then(|n| usize::from_str_radix(n, 16).ok())
            .filter(|&n| n <= items.len() && n > 0)
            .ok_or_else(|| {
                format!("invalid cursor {c:?}: pass back a nextCursor this gateway returned")
            })?,
    };
    let end = if size == 0 {
        items.len()
    } else {
        (start + size).min(items.len())
    };
    let mut out = String::with_capacity(
        32 + items[start..end]
            .iter()
            .map(|i| i.get().len() + 1)
            .sum::<usize>(),
    );
    out.push_str("{\"");
    out.push_str(member);
    out.push_str("\":[");
    for (i, item) in items[start..end].iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item.get());
    }
    out.push(']');
    if end < items.len() {
        out.push_str(&format!(",\"nextCursor\":\"{TAG}{end:x}\""));
    }
    out.push('}');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_rejects_foreign_cursors() {
        let items: Vec<Box<RawValue>> = (0..5)
            .map(|i| RawValue::from_string(i.to_string()).unwrap())
            .collect();
        let first = render(&items, "tools", None, 2).unwrap();
        assert_eq!(first, r#"{"tools":[0,1],"nextCursor":"sb1.2"}"#);
        assert_eq!(
            render(&items, "tools", Some("sb1.4"), 2).unwrap(),
            r#"{"tools":[4]}"#
        );
        assert_eq!(
            render(&items, "tools", None, 0).unwrap(),
            r#"{"tools":[0,1,2,3,4]}"#
        );
        assert!(render(&items, "tools", Some("garbage"), 2).is_err());
        assert!(render(&items, "tools", Some("sb1.ff"), 2).is_err());
    }
}
