//! Merging, lookup, untouched bodies, and collisions.

use super::*;

fn tool(name: &str, extra: &str) -> Item {
    let raw = format!(
        r#"{{"name":"{name}","description":"d {name}","inputSchema":{{"type":"object"}}{extra}}}"#
    );
    Item {
        key: Arc::from(name),
        raw: Arc::from(RawValue::from_string(raw).unwrap()),
    }
}

#[test]
fn merges_with_prefixes_and_maps_back() {
    let (a, b): (Arc<str>, Arc<str>) = (Arc::from("everything"), Arc::from("time"));
    let ta = [
        tool("echo", r#","futureField":{"keep":[1.50]}"#),
        tool("add", ""),
    ];
    let tb = [tool("get_current_time", "")];
    let (cat, collisions) = NameIndex::build(
        &[
            Source {
                server: &a,
                prefix: true,
                items: &ta,
            },
            Source {
                server: &b,
                prefix: true,
                items: &tb,
            },
        ],
        "__",
        64,
    );
    assert!(collisions.is_empty());
    let echo = cat.get("everything__echo").unwrap();
    assert_eq!(
        (&*echo.server_name, &*echo.original, echo.server),
        ("everything", "echo", 0)
    );
    assert_eq!(
        echo.json.get(),
        r#"{"name":"everything__echo","description":"d echo","inputSchema":{"type":"object"},"futureField":{"keep":[1.50]}}"#
    );
    assert_eq!(cat.get("time__get_current_time").unwrap().server, 1);
    assert!(cat.get("echo").is_none());
    assert_eq!(cat.items().len(), 3);
}

#[test]
fn collisions_are_reported_never_dropped() {
    let (a, b): (Arc<str>, Arc<str>) = (Arc::from("a"), Arc::from("b"));
    let t = [tool("echo", "")];
    let (cat, collisions) = NameIndex::build(
        &[
            Source {
                server: &a,
                prefix: false,
                items: &t,
            },
            Source {
                server: &b,
                prefix: false,
                items: &t,
            },
        ],
        "__",
        64,
    );
    assert_eq!(cat.items().len(), 2);
    assert_eq!(collisions.len(), 1);
    let c = &collisions[0];
    assert!(c.unprefixed);
    assert_eq!((&*c.kept_by, &*c.renamed_server), ("a", "b"));
    assert_eq!(&*cat.get("echo").unwrap().server_name, "a");
    assert_eq!(&*cat.get(&c.renamed_to).unwrap().server_name, "b");
    assert!(c.to_string().contains("\"a\"") && c.to_string().contains("\"b\""));
}

#[test]
fn prefixed_and_unprefixed_can_collide_too() {
    let (a, b): (Arc<str>, Arc<str>) = (Arc::from("a"), Arc::from("b"));
    let ta = [tool("b__x", "")];
    let tb = [tool("x", "")];
    let (_, collisions) = NameIndex::build(
        &[
            Source {
                server: &a,
                prefix: false,
                items: &ta,
            },
            Source {
                server: &b,
                prefix: true,
                items: &tb,
            },
        ],
        "__",
        64,
    );
    assert_eq!(collisions.len(), 1);
    assert!(!collisions[0].unprefixed);
}
