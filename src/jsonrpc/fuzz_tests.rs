//! Property tests of the envelope reader and writers (`fuzz_*`: `bash benches/fuzz.sh` runs
//! each for a million cases; `cargo test` a short pass).

use super::*;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Something shaped like a JSON-RPC message, right or wrong in every member.
fn message() -> impl Strategy<Value = Value> {
    (
        prop::option::of(prop_oneof![
            Just(json!("2.0")),
            Just(json!("1.0")),
            json_value()
        ]),
        prop::option::of(json_value()),
        prop::option::of(prop_oneof![
            "[a-z/_]{1,20}".prop_map(Value::from),
            json_value()
        ]),
        prop::option::of(json_value()),
        prop::option::of(json_value()),
        prop::option::of(json_value()),
    )
        .prop_map(|(v, id, method, params, result, error)| {
            let mut m = serde_json::Map::new();
            for (k, x) in [
                ("jsonrpc", v),
                ("id", id),
                ("method", method),
                ("params", params),
                ("result", result),
                ("error", error),
            ] {
                if let Some(x) = x {
                    m.insert(k.into(), x);
                }
            }
            Value::Object(m)
        })
}

proptest! {
    #[test]
    fn fuzz_any_bytes_are_read_or_refused_with_a_code(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        match parse(&bytes) {
            Ok(m) => {
                if let Err(e) = m.kind() {
                    prop_assert!(matches!(e.code(), code::INVALID_REQUEST));
                }
            }
            Err(e) => prop_assert!(matches!(e.code(), code::PARSE_ERROR | code::INVALID_REQUEST)),
        }
    }

    #[test]
    fn fuzz_messages_are_classified_by_the_rules(msg in message()) {
        let text = msg.to_string();
        let Ok(m) = parse(text.as_bytes()) else {
            // Only a member of the wrong type makes a JSON object unreadable.
            return Ok(());
        };
        let id_ok = msg.get("id").is_none_or(|id| id.is_string() || id.is_i64() || id.is_u64());
        match m.kind() {
            Ok(Kind::Request { id, method, .. }) => {
                prop_assert_eq!(msg["jsonrpc"].as_str(), Some("2.0"));
                prop_assert!(id_ok && msg["id"] == serde_json::from_str::<Value>(id.get()).unwrap());
                prop_assert_eq!(msg["method"].as_str(), Some(method));
            }
            Ok(Kind::Notification { method, .. }) => {
                prop_assert!(msg.get("id").is_none());
                prop_assert_eq!(msg["method"].as_str(), Some(method));
            }
            Ok(Kind::Response { .. }) => {
                // A null member reads as an absent one ("method": null beside a result).
                prop_assert!(msg.get("method").is_none_or(Value::is_null) && id_ok && msg.get("id").is_some());
                let error = msg.get("error").is_some_and(|e| !e.is_null());
                prop_assert!(msg.get("result").is_some() != error);
            }
            Err(e) => prop_assert_eq!(e.code(), code::INVALID_REQUEST),
        }
    }

    #[test]
    fn fuzz_written_messages_read_back(id in any::<u64>(), method in "[a-z/_]{1,20}", params in json_value().prop_filter("params are structured", |v| !v.is_null())) {
        let p = params.to_string();
        let buf = request(id, &method, Some(&p));
        let m = parse(&buf).unwrap();
        match m.kind().unwrap() {
            Kind::Request { id: got, method: m2, params: p2 } => {
                prop_assert_eq!(got.get(), id.to_string());
                prop_assert_eq!(m2, method.as_str());
                prop_assert_eq!(p2.map(|p| p.get().to_string()), Some(p));
            }
            other => prop_assert!(false, "{other:?}"),
        }
    }

    #[test]
    fn fuzz_member_edits_keep_the_rest(obj in prop::collection::btree_map("[a-z_]{1,6}", json_value(), 0..6), key in "[a-z_]{1,6}", value in json_value()) {
        // Compared as read back from text on both sides: JSON numbers need not survive a
        // parse exactly, but the edit must not change a byte of what it leaves alone.
        let text = Value::Object(obj.into_iter().collect()).to_string();
        let before: serde_json::Map<String, Value> = serde_json::from_str(&text).unwrap();
        let value_text = value.to_string();
        let edited = set_members(Some(&text), &[(&key, &value_text)]);
        let back: serde_json::Map<String, Value> = serde_json::from_str(&edited).unwrap();
        prop_assert_eq!(&back[&key], &serde_json::from_str::<Value>(&value_text).unwrap());
        for (k, v) in before.iter().filter(|(k, _)| **k != key) {
            prop_assert_eq!(&back[k], v);
        }
    }
}
