//! Property tests of every configuration format (`fuzz_*`): whatever the text, it loads or the
//! error names the file and says what is wrong; it never panics.

use super::entry::KNOWN_FIELDS;
use super::expand::Context;
use super::Config;
use proptest::prelude::*;
use serde_json::{json, Value};

/// A TOML value of any type, as text.
fn toml_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        "[a-z0-9./ _${}-]{0,16}".prop_map(|s| format!("{s:?}")),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:?}")),
        any::<bool>().prop_map(|b| b.to_string()),
        "[0-9]{1,3}(ms|s|m|h|x)".prop_map(|s| format!("{s:?}")),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec(("[a-z_]{1,10}", inner), 0..4).prop_map(|kv| {
                let body: Vec<String> = kv.into_iter().map(|(k, v)| format!("{k} = {v}")).collect();
                format!("{{ {} }}", body.join(", "))
            }),
        ]
    })
}

/// A whole `switchboard.toml`: a few sections with known and unknown fields.
fn toml_file() -> impl Strategy<Value = String> {
    let field = prop_oneof![
        prop::sample::select(KNOWN_FIELDS.to_vec()).prop_map(str::to_string),
        Just("listen".to_string()),
        Just("max_sessions".to_string()),
        Just("threshold".to_string()),
        "[a-z_]{1,10}",
    ];
    let section = (
        prop_oneof![
            Just("gateway".to_string()),
            Just("router".to_string()),
            "[a-z]{1,6}".prop_map(|n| format!("servers.{n}")),
        ],
        prop::collection::vec((field, toml_value()), 0..6),
    );
    prop::collection::vec(section, 0..4).prop_map(|sections| {
        let mut out = String::new();
        for (name, fields) in sections {
            out.push_str(&format!("[{name}]\n"));
            for (k, v) in fields {
                out.push_str(&format!("{k} = {v}\n"));
            }
        }
        out
    })
}

/// JSON shaped like one of the JSON formats (or none of them).
fn json_file() -> impl Strategy<Value = Value> {
    let v = prop_oneof![
        Just(Value::Null),
        "[a-z0-9 ./-]{0,12}".prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop::collection::vec("[a-z]{0,6}".prop_map(Value::from), 0..3).prop_map(Value::from),
    ];
    let entry = prop::collection::btree_map(
        prop::sample::select(vec![
            "command", "args", "env", "url", "type", "port", "path", "disabled", "headers", "other",
        ]),
        v,
        0..6,
    )
    .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
    let servers = prop::collection::btree_map("[a-z]{1,6}", entry, 0..4)
        .prop_map(|m| Value::Object(m.into_iter().collect()));
    prop_oneof![
        servers.clone().prop_map(|s| json!({ "mcpServers": s })),
        servers.clone().prop_map(|s| json!({ "servers": s })),
        servers,
    ]
}

proptest! {
    #[test]
    fn fuzz_any_toml_loads_or_names_the_problem(text in toml_file()) {
        if let Err(e) = super::toml::parse(&text, "f.toml", &Context::default()) {
            let e = e.to_string();
            prop_assert!(e.starts_with("f.toml: "), "{e}");
            prop_assert!(e.trim_end().len() > "f.toml: .:".len(), "an error in words: {e}");
        }
    }

    #[test]
    fn fuzz_any_text_is_refused_cleanly(text in "\\PC{0,200}") {
        let _ = Config::parse(&text, "f", &Context::default());
        let _ = super::rules::parse_file(&text, "r");
    }

    #[test]
    fn fuzz_any_json_format_loads_or_names_the_problem(doc in json_file()) {
        if let Err(e) = Config::parse(&doc.to_string(), "f.json", &Context::default()) {
            prop_assert!(e.to_string().starts_with("f.json: "), "{e}");
        }
    }

    #[test]
    fn fuzz_seed_limits_never_panic(t in any::<f64>(), s in any::<f64>(), r in any::<u32>()) {
        let doc = json!({ "server_keywords": {}, "default_limits": {
            "response_timeout": if t.is_finite() { json!(t) } else { json!(1) },
            "startup_wait": if s.is_finite() { json!(s) } else { json!(1) },
            "max_retries": r } });
        let _ = super::rules::parse_file(&doc.to_string(), "r.json");
    }
}
