//! Every kind of bad input gets the right HTTP status and JSON-RPC code, names the problem, and
//! disturbs nobody: the gateway stays up and other sessions keep working.

mod common;

use common::*;
use serde_json::{json, Value};

fn demo_config() -> String {
    format!(
        r#"
[gateway]
max_body_bytes = 65536

[servers.math]
command = "{bin}"
args = ["demo-server", "--kit", "math"]
"#,
        bin = switchboard_bin()
    )
}

struct Case {
    name: &'static str,
    body: String,
    headers: Vec<(&'static str, &'static str)>,
    with_session: bool,
    status: u16,
    code: Option<i64>,
    /// Text the error message must contain.
    says: &'static str,
}

fn case(
    name: &'static str,
    body: impl Into<String>,
    status: u16,
    code: Option<i64>,
    says: &'static str,
) -> Case {
    Case {
        name,
        body: body.into(),
        headers: vec![],
        with_session: true,
        status,
        code,
        says,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_clear_errors_and_disturbs_nobody() {
    let gw = Gateway::start("switchboard.toml", &demo_config());
    let mut good = RawClient::new(&gw.url);
    good.initialize().await;
    let mut victim = RawClient::new(&gw.url);
    victim.initialize().await;

    let call = |tool: &str| {
        json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":tool,"arguments":{"a":1,"b":2}}}).to_string()
    };
    let list = json!({"jsonrpc":"2.0","id":8,"method":"tools/list"}).to_string();
    let mut cases = vec![
        case(
            "malformed JSON",
            "{\"jsonrpc\": \"2.0\", \"id\": 1,",
            400,
            Some(-32700),
            "parse error",
        ),
        case(
            "not JSON-RPC",
            r#"{"hello":"world"}"#,
            400,
            Some(-32600),
            "jsonrpc",
        ),
        case("batch", "[]", 400, Some(-32600), "batch"),
        case(
            "unknown method",
            json!({"jsonrpc":"2.0","id":3,"method":"frobnicate/now"}).to_string(),
            200,
            Some(-32601),
            "frobnicate/now",
        ),
        case(
            "unknown tool",
            call("math__nope"),
            200,
            Some(-32602),
            "math__nope",
        ),
        Case {
            with_session: false,
            ..case(
                "missing session id",
                list.clone(),
                400,
                Some(-32600),
                "Mcp-Session-Id",
            )
        },
        Case {
            with_session: false,
            headers: vec![("mcp-session-id", "0123456789abcdef0123456789abcdef")],
            ..case(
                "unknown session",
                list.clone(),
                404,
                Some(-32600),
                "unknown or ended session",
            )
        },
        Case {
            headers: vec![("origin", "https://evil.example")],
            ..case(
                "bad Origin",
                list.clone(),
                403,
                Some(-32600),
                "evil.example",
            )
        },
        Case {
            headers: vec![("mcp-protocol-version", "1999-01-01")],
            ..case(
                "unsupported protocol version",
                list.clone(),
                400,
                Some(-32022),
                "1999-01-01",
            )
        },
        Case {
            headers: vec![("accept", "text/html")],
            ..case("wrong Accept", list.clone(), 406, Some(-32600), "Accept")
        },
        Case {
            headers: vec![("content-type", "text/plain")],
            ..case(
                "wrong Content-Type",
                list.clone(),
                415,
                Some(-32600),
                "Content-Type",
            )
        },
        case(
            "oversized body",
            format!(
                r#"{{"jsonrpc":"2.0","id":9,"method":"ping","params":{{"pad":"{}"}}}}"#,
                "x".repeat(100_000)
            ),
            413,
            Some(-32600),
            "limit",
        ),
    ];
    for c in cases.drain(..) {
        let mut client = RawClient::new(&gw.url);
        if c.with_session {
            client.session = good.session.clone();
        }
        let a = client.post_raw(c.body.clone(), &c.headers).await;
        assert_eq!(a.status, c.status, "{}: {}", c.name, a.text);
        if let Some(code) = c.code {
            assert_eq!(a.body["error"]["code"], code, "{}: {}", c.name, a.text);
            let msg = a.body["error"]["message"].as_str().unwrap_or("");
            assert!(
                msg.contains(c.says),
                "{}: message {msg:?} should mention {:?}",
                c.name,
                c.says
            );
        }
        // The other session is undisturbed after every bad request.
        let ok = victim
            .request(
                10,
                "tools/call",
                json!({"name":"math__add","arguments":{"a":40,"b":2}}),
            )
            .await;
        assert_eq!(
            ok["result"]["content"][0]["text"], "42",
            "after {}: {ok}",
            c.name
        );
    }
    // Requests that echo an id echo the right one.
    let a = good.post_raw(call("math__nope"), &[]).await;
    assert_eq!(a.body["id"], 7);
    // A known session can be ended, and is then unknown.
    let del = good
        .http
        .delete(&gw.url)
        .header("mcp-session-id", good.session.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 200);
    assert_eq!(good.post_raw(list.clone(), &[]).await.status, 404);
    // GET without an event-stream Accept is 406; an unsupported method on /mcp is 405.
    let get = victim
        .http
        .get(&gw.url)
        .header("accept", "application/json")
        .header("mcp-session-id", victim.session.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 406);
    let put = victim.http.put(&gw.url).send().await.unwrap();
    assert_eq!(put.status(), 405);
    // The gateway never panicked.
    let log = gw.log();
    assert!(!log.contains("panicked"), "{log}");
}

/// 2026-07-28 requests (no session; the version, the method and the name mirrored in headers):
/// each malformed one gets the revision's error code and HTTP status.
#[tokio::test]
async fn stateless_requests_are_checked_rung_by_rung() {
    let gw = Gateway::start("switchboard.toml", &demo_config());
    let client = RawClient::new(&gw.url);
    let meta = json!({"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}});
    let post = |method: &'static str, params: Value, headers: Vec<(&'static str, &'static str)>| {
        let client = &client;
        async move {
            let body = json!({"jsonrpc":"2.0","id":7,"method":method,"params":params}).to_string();
            client.post_raw(body, &headers).await
        }
    };
    let stateless = |method: &'static str| {
        vec![
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", method),
        ]
    };
    // server/discover: both generations' versions.
    let a = post(
        "server/discover",
        json!({"_meta": meta}),
        stateless("server/discover"),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let versions = a.body["result"]["supportedVersions"].as_array().unwrap();
    assert_eq!(versions[0], "2026-07-28");
    assert!(versions.iter().any(|v| v == "2025-11-25"), "{}", a.text);
    assert_eq!(
        a.body["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "switchboard"
    );
    // No envelope: -32602, 400.
    let a = post("tools/list", json!({}), stateless("tools/list")).await;
    assert_eq!(
        (a.status, a.body["error"]["code"].as_i64()),
        (400, Some(-32602)),
        "{}",
        a.text
    );
    // Header and body disagree: -32020, 400, naming both values.
    let a = post(
        "tools/list",
        json!({"_meta": meta}),
        stateless("prompts/list"),
    )
    .await;
    assert_eq!(
        (a.status, a.body["error"]["code"].as_i64()),
        (400, Some(-32020)),
        "{}",
        a.text
    );
    assert!(
        a.text.contains("prompts/list") && a.text.contains("tools/list"),
        "{}",
        a.text
    );
    let mut h = stateless("tools/call");
    h.push(("mcp-name", "text__reverse"));
    let a = post(
        "tools/call",
        json!({"_meta": meta, "name": "text__echo", "arguments": {}}),
        h,
    )
    .await;
    assert_eq!(a.body["error"]["code"], -32020, "{}", a.text);
    // A version nobody speaks: -32022 with what the gateway supports.
    let future = json!({"io.modelcontextprotocol/protocolVersion":"2031-01-01","io.modelcontextprotocol/clientCapabilities":{}});
    let a = post(
        "tools/list",
        json!({"_meta": future}),
        vec![
            ("mcp-protocol-version", "2031-01-01"),
            ("mcp-method", "tools/list"),
        ],
    )
    .await;
    assert_eq!(
        (a.status, a.body["error"]["code"].as_i64()),
        (400, Some(-32022)),
        "{}",
        a.text
    );
    assert_eq!(a.body["error"]["data"]["requested"], "2031-01-01");
    // Methods the revision removed: -32601, 404.
    for m in ["ping", "initialize", "logging/setLevel"] {
        let a = post(m, json!({"_meta": meta}), stateless(m)).await;
        assert_eq!(
            (a.status, a.body["error"]["code"].as_i64()),
            (404, Some(-32601)),
            "{m}: {}",
            a.text
        );
    }
    // A retry naming a call the gateway never parked.
    let mut h = stateless("tools/call");
    h.push(("mcp-name", "text__echo"));
    let a = post("tools/call", json!({"_meta": meta, "name": "text__echo", "arguments": {"text": "x"}, "requestState": "forged", "inputResponses": {}}), h).await;
    assert_eq!(
        (a.status, a.body["error"]["code"].as_i64()),
        (400, Some(-32602)),
        "{}",
        a.text
    );
    assert!(a.text.contains("requestState"), "{}", a.text);
    // A sessionless notification is accepted and dropped; GET and DELETE without a session are 405.
    let n = client
        .post_raw(
            json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}})
                .to_string(),
            &stateless("notifications/cancelled"),
        )
        .await;
    assert_eq!(n.status, 202);
    let get = client
        .http
        .get(&gw.url)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
    let del = client.http.delete(&gw.url).send().await.unwrap();
    assert_eq!(del.status(), 405);
}
