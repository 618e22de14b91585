//! Traces end to end: a client's W3C `traceparent` continues through the gateway to an HTTP
//! upstream (the fixture records the headers it gets: same trace, the gateway's own span as
//! parent, the client's sampling flag), log lines carry the trace id, a request without one
//! sends none on (nothing exported), and with
//! `[telemetry] otlp_endpoint` the spans (`mcp`, `request`, `upstream`) reach an OTLP/HTTP
//! collector (a small one here, which records what it is sent).

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;

use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// What the collector was sent: content type and body, per POST.
type Bodies = Arc<parking_lot::Mutex<Vec<(String, Vec<u8>)>>>;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN: &str = "00f067aa0ba902b7";

/// The `traceparent`s the recorder was sent, split into (version, trace, parent, flags).
fn traceparents(file: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|h| h["traceparent"].as_str().map(str::to_string))
        .map(|t| t.split('-').map(str::to_string).collect())
        .collect()
}

async fn call_with(c: &RawClient, id: u64, traceparent: Option<&str>) -> Value {
    let body = json!({"jsonrpc":"2.0","id":id,"method":"tools/call",
        "params":{"name":"rec__echo","arguments":{"message":"traced"}}});
    let mut extra = vec![("mcp-protocol-version", "2025-11-25")];
    if let Some(t) = traceparent {
        extra.push(("traceparent", t));
    }
    let a = c.post_raw(body.to_string(), &extra).await;
    assert_eq!(a.status, 200, "{}", a.text);
    a.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clients_trace_continues_to_the_upstream_and_into_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("headers.jsonl");
    let (_upstream, port) = recorder(&file);
    // At debug, a successful call logs its answer: the line to look for.
    let gw = Gateway::start_env(
        "switchboard.toml",
        &format!("[servers.rec]\nurl = \"http://127.0.0.1:{port}/mcp\"\n"),
        &[("SWITCHBOARD_LOG", "info,switchboard=debug")],
    );
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let before = traceparents(&file).len();
    let parent = format!("00-{TRACE}-{CLIENT_SPAN}-01");
    let answer = call_with(&c, 1, Some(&parent)).await;
    assert!(answer["result"].is_object(), "{answer}");
    let sent = traceparents(&file);
    let ours: Vec<_> = sent[before..].iter().filter(|t| t[1] == TRACE).collect();
    assert_eq!(
        ours.len(),
        1,
        "one upstream request continued the trace: {sent:?}"
    );
    let t = ours[0];
    assert_eq!(t[0], "00");
    assert_ne!(
        t[2], CLIENT_SPAN,
        "the upstream's parent is the gateway's span"
    );
    assert_eq!(t[2].len(), 16);
    assert_eq!(t[3], "01", "the client's sampling decision travels on");
    let log = gw.log_with("upstream answered").await;
    let line = log
        .lines()
        .find(|l| l.contains("upstream answered"))
        .expect("the call's log line");
    assert!(
        line.contains(&format!("trace_id={TRACE}")),
        "log lines carry the trace id: {line}"
    );

    // Without a traceparent, and nothing exported: no trace to continue, none is sent on.
    let before = traceparents(&file).len();
    let lines = std::fs::read_to_string(&file).unwrap().lines().count();
    call_with(&c, 2, None).await;
    let now = std::fs::read_to_string(&file).unwrap().lines().count();
    assert!(now > lines, "the call reached the upstream");
    assert_eq!(traceparents(&file).len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_over_otlp_when_configured() {
    // A collector that keeps every body POSTed to /v1/traces.
    let bodies: Bodies = Arc::default();
    let sink = bodies.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: bytes::Bytes| {
            let sink = sink.clone();
            async move {
                let kind = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                sink.lock().push((kind, body.to_vec()));
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("headers.jsonl");
    let (_upstream, port) = recorder(&file);
    let config = format!(
        "[telemetry]\notlp_endpoint = \"http://{collector}/v1/traces\"\nservice_name = \"sb-test\"\n\n[servers.rec]\nurl = \"http://127.0.0.1:{port}/mcp\"\n"
    );
    let gw = Gateway::start("switchboard.toml", &config);
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let parent = format!("00-{TRACE}-{CLIENT_SPAN}-01");
    call_with(&c, 1, Some(&parent)).await;
    // SIGTERM flushes what the batch still holds.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(gw.pid() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let trace: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&TRACE[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    let has = |needle: &[u8]| {
        bodies
            .lock()
            .iter()
            .any(|(_, b)| b.windows(needle.len()).any(|w| w == needle))
    };
    while !(has(&trace) && has(b"upstream")) {
        assert!(
            Instant::now() < deadline,
            "no spans of the trace reached the collector"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = bodies.lock().clone();
    assert!(
        got.iter().all(|(k, _)| k == "application/x-protobuf"),
        "{:?}",
        got.iter().map(|g| &g.0).collect::<Vec<_>>()
    );
    for name in [&b"request"[..], b"mcp", b"sb-test", b"rec"] {
        assert!(
            has(name),
            "{:?} is in the export",
            String::from_utf8_lossy(name)
        );
    }
}
