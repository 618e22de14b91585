//! Every resource is bounded, and the client hitting a bound is told which: connections,
//! header and body read times, sessions and their idle time, per-session children, prompt
//! length; and a client that half-closes after its request still gets its answer.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // blocking harness threads on the wall clock, outside any runtime

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

fn demo(name: &str, kit: &str, extra: &str) -> String {
    format!(
        "[servers.{name}]\ncommand = \"{}\"\nargs = [\"demo-server\", \"--kit\", \"{kit}\"]\n{extra}\n",
        switchboard_bin()
    )
}

/// A raw connection to the gateway's port.
fn connect(gw: &Gateway) -> TcpStream {
    let addr = gw.base.trim_start_matches("http://").to_string();
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// Everything the server sends until it closes (or the read times out).
fn read_all(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn ping_request(host: &str, extra: &str, body: &str) -> String {
    format!(
        "POST /mcp HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\naccept: application/json\r\n{extra}\r\n{body}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed_and_over_the_cap_refused() {
    let config = "[gateway]\nmax_connections = 4\nheader_read_timeout = \"1s\"\nbody_read_timeout = \"1s\"\n\n".to_string()
        + &demo("math", "math", "");
    let gw = Gateway::start("switchboard.toml", &config);
    let host = gw.base.trim_start_matches("http://").to_string();
    // Half a header, then silence: closed after header_read_timeout.
    let mut half = connect(&gw);
    half.write_all(b"POST /mcp HTTP/1.1\r\nhost: ").unwrap();
    let answer = tokio::task::spawn_blocking(move || read_all(&mut half))
        .await
        .unwrap();
    assert!(!answer.contains("200 OK"), "{answer}");
    // A body shorter than its Content-Length: 408 after body_read_timeout.
    let mut short = connect(&gw);
    short
        .write_all(ping_request(&host, "content-length: 500\r\n", "{\"jsonrpc\":").as_bytes())
        .unwrap();
    let answer = tokio::task::spawn_blocking(move || read_all(&mut short))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_read_timeout"), "{answer}");
    // Four idle connections fill the cap; the fifth gets 503 with a JSON-RPC error saying why.
    let idle: Vec<TcpStream> = (0..4).map(|_| connect(&gw)).collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fifth = connect(&gw);
    let answer = tokio::task::spawn_blocking(move || read_all(&mut fifth))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("gateway.max_connections"), "{answer}");
    // They time out like any idle connection, and the gateway answers again.
    drop(idle);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let health = reqwest::get(format!("{}/health", gw.base)).await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_chunked_body_is_a_bad_body_not_too_large() {
    let gw = Gateway::start("switchboard.toml", &demo("math", "math", ""));
    let host = gw.base.trim_start_matches("http://").to_string();
    let mut s = connect(&gw);
    let req = ping_request(
        &host,
        "transfer-encoding: chunked\r\n",
        "zz\r\nnot a chunk\r\n0\r\n\r\n",
    );
    s.write_all(req.as_bytes()).unwrap();
    let answer = tokio::task::spawn_blocking(move || read_all(&mut s))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(!answer.contains("larger than"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_half_closes_still_gets_its_answer() {
    let gw = Gateway::start("switchboard.toml", &demo("math", "math", ""));
    let host = gw.base.trim_start_matches("http://").to_string();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}}}})
    .to_string();
    let extra = format!(
        "content-length: {}\r\nmcp-protocol-version: 2026-07-28\r\nmcp-method: server/discover\r\nconnection: close\r\n",
        body.len()
    );
    let mut s = connect(&gw);
    s.write_all(ping_request(&host, &extra, &body).as_bytes())
        .unwrap();
    s.shutdown(Shutdown::Write).unwrap(); // done sending; still reading
    let answer = tokio::task::spawn_blocking(move || read_all(&mut s))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("supportedVersions"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_capped_by_evicting_the_idlest_and_expire_when_idle() {
    let config = "[gateway]\nmax_sessions = 2\nsession_idle_timeout = \"2s\"\n\n".to_string()
        + &demo("math", "math", "");
    let gw = Gateway::start("switchboard.toml", &config);
    let add = json!({"name": "math__add", "arguments": {"a": 1, "b": 1}});
    let mut a = RawClient::new(&gw.url);
    a.initialize().await;
    let mut b = RawClient::new(&gw.url);
    b.initialize().await;
    b.request(1, "tools/list", json!({})).await; // a is now the idlest
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let gone = a
        .post_raw(
            json!({"jsonrpc":"2.0","id":2,"method":"tools/list"}).to_string(),
            &[],
        )
        .await;
    assert_eq!(
        gone.status, 404,
        "the idlest session made room: {}",
        gone.text
    );
    assert_eq!(
        b.request(3, "tools/call", add.clone()).await["result"]["content"][0]["text"],
        "2"
    );
    // Both remaining sessions hold a GET stream: neither can be ended, so a new one is refused.
    let stream = |client: &RawClient| {
        client
            .http
            .get(&client.url)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", client.session.clone().unwrap())
            .send()
    };
    let _sb = stream(&b).await.unwrap();
    let _sc = stream(&c).await.unwrap();
    let refused = RawClient::new(&gw.url)
        .post_raw(
            json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
                "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}})
            .to_string(),
            &[],
        )
        .await;
    assert_eq!(refused.status, 503, "{}", refused.text);
    assert_eq!(
        refused.body["error"]["data"]["reason"], "session_limit",
        "{}",
        refused.text
    );
    // Ending one makes room again.
    let del = b
        .http
        .delete(&b.url)
        .header("mcp-session-id", b.session.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 200);
    // Idle past session_idle_timeout (and without a stream): ended.
    let mut d = RawClient::new(&gw.url);
    d.initialize().await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let gone = d
        .post_raw(
            json!({"jsonrpc":"2.0","id":4,"method":"tools/list"}).to_string(),
            &[],
        )
        .await;
    assert_eq!(gone.status, 404, "an idle session expired: {}", gone.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_session_children_are_capped_and_the_idlest_gives_way() {
    let config = fixture(
        "slow",
        "--slow-ms 1500",
        "isolation = \"per-session\"\nmax_per_session_children = 1",
    );
    let gw = Gateway::start("switchboard.toml", &config);
    let mut a = RawClient::new(&gw.url);
    a.initialize().await;
    let mut b = RawClient::new(&gw.url);
    b.initialize().await;
    let a = std::sync::Arc::new(a);
    let busy = {
        let a = a.clone();
        tokio::spawn(async move { a.request(1, "tools/call", echo("slow", "a")).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await; // a's call holds the one place
    let r: Value = b.request(1, "tools/call", echo("slow", "b")).await;
    assert_eq!(r["error"]["data"]["reason"], "overloaded", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_per_session_children"),
        "{r}"
    );
    assert_eq!(busy.await.unwrap()["result"]["content"][0]["text"], "a");
    // a is idle now: its connection gives way to b's, and a gets a fresh one when it is back.
    let r: Value = b.request(2, "tools/call", echo("slow", "b")).await;
    assert_eq!(r["result"]["content"][0]["text"], "b", "{r}");
    let r: Value = a.request(3, "tools/call", echo("slow", "a again")).await;
    assert_eq!(r["result"]["content"][0]["text"], "a again", "{r}");
    assert_eq!(
        children_of(gw.pid()).len(),
        2,
        "the shared one and one per-session child"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompts_over_the_limit_are_refused_on_every_path() {
    let config = "[router]\nmax_prompt_bytes = 1024\n\n".to_string() + &demo("math", "math", "");
    let gw = Gateway::start("switchboard.toml", &config);
    let long = "add ".repeat(2000);
    let r = reqwest::Client::new()
        .post(format!("{}/route", gw.base))
        .json(&json!({ "prompt": long, "tool": "add" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let r = c
        .request(
            1,
            "tools/call",
            json!({"name": "switchboard__find_tools", "arguments": {"query": long}}),
        )
        .await;
    assert_eq!(r["result"]["isError"], true, "{r}");
    assert!(
        r["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("router.max_prompt_bytes"),
        "{r}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parked_input_required_call_expires_after_input_required_timeout() {
    needs_peers!();
    let config = format!(
        "[gateway]\ninput_required_timeout = \"1s\"\n\n[servers.everything]\ncommand = \"node\"\nargs = [\"{}\", \"stdio\"]\n",
        everything_js().display()
    );
    let gw = Gateway::start("switchboard.toml", &config);
    let client = RawClient::new(&gw.url);
    let (call, headers) = (sampling_call, SAMPLING_HEADERS);
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"sampling": {}}});
    let a = client.post_raw(call(json!({})), &headers).await;
    let result = &a.body["result"];
    assert_eq!(result["resultType"], "input_required", "{}", a.text);
    let state = result["requestState"].as_str().unwrap().to_string();
    let key = result["inputRequests"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let answer = json!({"role":"assistant","content":{"type":"text","text":"late"},"model":"t"});
    let retry = call(json!({"requestState": state, "inputResponses": {key: answer}}));
    let a = client.post_raw(retry, &headers).await;
    assert_eq!(
        (a.status, a.body["error"]["code"].as_i64()),
        (400, Some(-32602)),
        "{}",
        a.text
    );
    assert!(a.text.contains("expired"), "{}", a.text);
    // The expired call was dropped (and cancelled upstream); the shared connection still serves.
    let r = client
        .post_raw(
            json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"_meta": meta, "name": "everything__echo", "arguments": {"message": "still here"}}}).to_string(),
            &[("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/call"), ("mcp-name", "everything__echo")],
        )
        .await;
    assert!(r.text.contains("still here"), "{}", r.text);
}
