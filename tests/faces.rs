//! The HTTP faces in-process (`Server::app().oneshot`, no socket) against the built-in demo kits:
//! initialize, list, call on both protocol generations, and the bad-input answers. Needs nothing
//! installed: plain `cargo test` covers the core.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use switchboard::config::Config;
use switchboard::gateway::Gateway;
use switchboard::server::Server;
use tower::ServiceExt;

/// A gateway over the two demo kits, started in this process (the kits are children).
async fn server() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.toml");
    let bin = env!("CARGO_BIN_EXE_switchboard");
    std::fs::write(
        &path,
        format!(
            "[gateway]\nmax_body_bytes = 65536\n\n[servers.text]\ncommand = \"{bin}\"\nargs = [\"demo-server\", \"--kit\", \"text\"]\n\n[servers.math]\ncommand = \"{bin}\"\nargs = [\"demo-server\", \"--kit\", \"math\"]\n"
        ),
    )
    .unwrap();
    let config = Config::load(&path).unwrap();
    let gw: Arc<Gateway> = Gateway::start(config).await.unwrap();
    (Server::new(gw).unwrap(), dir)
}

/// One HTTP exchange with the application: status, headers, and the body as JSON (or text).
struct Answer {
    status: StatusCode,
    session: Option<String>,
    body: Value,
}

async fn send(server: &Server, req: Request<Body>) -> Answer {
    let resp = server.app().oneshot(req).await.unwrap();
    let status = resp.status();
    let session = resp
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Answer {
        status,
        session,
        body,
    }
}

/// A POST to `/mcp` with the usual headers, `extra` added (or replacing them).
fn post(body: impl Into<String>, session: Option<&str>, extra: &[(&str, &str)]) -> Request<Body> {
    let mut b = Request::post("/mcp")
        .header("host", "127.0.0.1:8931")
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json");
    if let Some(s) = session {
        b = b.header("mcp-session-id", s);
    }
    for (k, v) in extra {
        b.headers_mut().unwrap().insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    b.body(Body::from(body.into())).unwrap()
}

fn request(id: u64, method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
}

/// Initialize a session the way an `initialize`-generation client does; its id.
async fn initialize(server: &Server) -> String {
    let init = request(
        1,
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
    );
    let a = send(server, post(init, None, &[])).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["result"]["protocolVersion"], "2025-11-25");
    let sid = a.session.expect("initialize sets Mcp-Session-Id");
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string();
    assert_eq!(
        send(server, post(note, Some(&sid), &[])).await.status,
        StatusCode::ACCEPTED
    );
    sid
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_lists_and_calls_the_demo_kits() {
    let (server, _dir) = server().await;
    let sid = initialize(&server).await;
    let list = send(
        &server,
        post(request(2, "tools/list", json!({})), Some(&sid), &[]),
    )
    .await;
    let names: Vec<&str> = list.body["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for want in [
        "text__echo",
        "text__reverse",
        "math__add",
        "switchboard__find_tools",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let call = request(
        3,
        "tools/call",
        json!({"name": "math__add", "arguments": {"a": 40, "b": 2}}),
    );
    let a = send(&server, post(call, Some(&sid), &[])).await;
    assert_eq!(a.body["id"], 3);
    assert_eq!(a.body["result"]["content"][0]["text"], "42", "{}", a.body);
    let call = request(
        4,
        "tools/call",
        json!({"name": "text__reverse", "arguments": {"text": "abc"}}),
    );
    let a = send(&server, post(call, Some(&sid), &[])).await;
    assert_eq!(a.body["result"]["content"][0]["text"], "cba", "{}", a.body);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stateless_client_calls_without_a_session() {
    let (server, _dir) = server().await;
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    let discover = request(1, "server/discover", json!({"_meta": meta}));
    let headers = [
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "server/discover"),
    ];
    let a = send(&server, post(discover, None, &headers)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body["result"]["supportedVersions"]
        .as_array()
        .unwrap()
        .contains(&json!("2026-07-28")));
    let call = request(
        2,
        "tools/call",
        json!({"name": "math__multiply", "arguments": {"a": 6, "b": 7}, "_meta": meta}),
    );
    let headers = [
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "math__multiply"),
    ];
    let a = send(&server, post(call, None, &headers)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["result"]["content"][0]["text"], "42", "{}", a.body);
    assert_eq!(a.body["result"]["resultType"], "complete");
    server.shutdown().await;
}

/// (what, request, with the session?, extra headers, status, JSON-RPC code, words the message has)
type Bad = (
    &'static str,
    String,
    bool,
    Vec<(&'static str, &'static str)>,
    u16,
    i64,
    &'static str,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_the_classified_status_code_and_message() {
    let (server, _dir) = server().await;
    let sid = initialize(&server).await;
    let list = request(5, "tools/list", json!({}));
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}});
    let cases: Vec<Bad> = vec![
        (
            "malformed JSON",
            "{not json".into(),
            true,
            vec![],
            400,
            -32700,
            "parse error",
        ),
        (
            "a batch",
            format!("[{list}]"),
            true,
            vec![],
            400,
            -32600,
            "batch",
        ),
        (
            "unknown method",
            request(6, "tools/frobnicate", json!({})),
            true,
            vec![],
            200,
            -32601,
            "tools/frobnicate",
        ),
        (
            "unknown tool",
            request(7, "tools/call", json!({"name": "math__nope"})),
            true,
            vec![],
            200,
            -32602,
            "math__nope",
        ),
        (
            "no session",
            list.clone(),
            false,
            vec![],
            400,
            -32600,
            "Mcp-Session-Id",
        ),
        (
            "bad Origin",
            list.clone(),
            true,
            vec![("origin", "https://evil.example")],
            403,
            -32600,
            "evil.example",
        ),
        (
            "bad Host",
            list.clone(),
            true,
            vec![("host", "evil.example")],
            403,
            -32600,
            "evil.example",
        ),
        (
            "unsupported version",
            list.clone(),
            true,
            vec![("mcp-protocol-version", "1999-01-01")],
            400,
            -32022,
            "1999-01-01",
        ),
        (
            "wrong Accept",
            list.clone(),
            true,
            vec![("accept", "text/html")],
            406,
            -32600,
            "Accept",
        ),
        (
            "wrong Content-Type",
            list.clone(),
            true,
            vec![("content-type", "text/plain")],
            415,
            -32600,
            "Content-Type",
        ),
        (
            "oversized body",
            request(8, "ping", json!({"pad": "x".repeat(100_000)})),
            true,
            vec![],
            413,
            -32600,
            "max_body_bytes",
        ),
        (
            "2026-07-28 without the envelope",
            request(9, "tools/list", json!({})),
            false,
            vec![
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "tools/list"),
            ],
            400,
            -32602,
            "_meta",
        ),
        (
            "2026-07-28 headers disagree with the body",
            request(10, "tools/list", json!({"_meta": meta})),
            false,
            vec![
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "tools/call"),
            ],
            400,
            -32020,
            "Mcp-Method",
        ),
    ];
    for (what, body, with_session, headers, status, code, says) in cases {
        let a = send(
            &server,
            post(body, with_session.then_some(sid.as_str()), &headers),
        )
        .await;
        assert_eq!(a.status.as_u16(), status, "{what}: {}", a.body);
        assert_eq!(a.body["error"]["code"], code, "{what}: {}", a.body);
        let message = a.body["error"]["message"].as_str().unwrap_or("");
        assert!(
            message.contains(says),
            "{what}: {message:?} should name {says:?}"
        );
        assert!(
            a.body["error"]["data"]["reason"].is_string(),
            "{what}: every error says its reason"
        );
    }
    // An unknown session is 404, and the gateway still answers the good one.
    let a = send(&server, post(list.clone(), Some("feedbeef"), &[])).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = send(&server, post(list, Some(&sid), &[])).await;
    assert_eq!(a.status, StatusCode::OK);
    // GET without a session: 405 naming what to do instead.
    let get = Request::get("/mcp")
        .header("host", "127.0.0.1")
        .header("accept", "text/event-stream")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        send(&server, get).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_endpoints_report_the_upstreams() {
    let (server, _dir) = server().await;
    let get = |path: &str| {
        Request::get(path)
            .header("host", "127.0.0.1")
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(send(&server, get("/health")).await.status, StatusCode::OK);
    // The home page: JSON for a program, HTML for a browser; it names where things are.
    let home = send(&server, get("/")).await;
    assert_eq!(home.status, StatusCode::OK);
    assert_eq!(
        (home.body["mcp"].as_str(), home.body["version"].as_str()),
        (Some("/mcp"), Some(env!("CARGO_PKG_VERSION"))),
        "{}",
        home.body
    );
    let page = Request::get("/")
        .header("accept", "text/html,application/xhtml+xml")
        .body(Body::empty())
        .unwrap();
    let page = send(&server, page).await;
    let html = page.body.as_str().unwrap_or_default();
    assert!(
        html.contains("<h1>switchboard") && html.contains("/servers"),
        "{html}"
    );
    // What names servers and errors is behind the same Host check as the faces.
    for path in ["/servers", "/metrics"] {
        let rebinding = Request::get(path)
            .header("host", "evil.example")
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            send(&server, rebinding).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let ready = send(&server, get("/ready")).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(ready.body["ready"], 2);
    let servers = send(&server, get("/servers")).await;
    let rows = servers.body["servers"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["server"].as_str().unwrap()).collect();
    assert_eq!(names, ["text", "math"]);
    assert!(
        rows.iter()
            .all(|r| r["state"] == "ready" && r["tools"] == 3),
        "{rows:?}"
    );
    server.shutdown().await;
}
