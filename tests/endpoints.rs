//! Named endpoints end to end, with real upstreams (server-everything, mcp-server-time): an
//! endpoint that includes one server and excludes a tool lists exactly that set through the
//! Python SDK, the TypeScript SDK (streamable HTTP and legacy SSE) and the stdio face; it refuses
//! everything outside it on every path (calls, the lean face's call tool, prompts, resources,
//! subscriptions, completions, `find_tools`, `/analyze`, `/route`) with the error policy gives;
//! a renamed tool is callable by its new name only and reaches the upstream under its own.

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn config() -> String {
    format!(
        r#"
[servers.everything]
command = "node"
args = ["{js}", "stdio"]

[servers.time]
command = "{time}"

[endpoints.clock]
servers = ["time"]
exclude = ["time__convert_time"]
[endpoints.clock.overrides."time__get_current_time"]
name = "now"
description = "The current time in a given IANA time zone"
annotations = {{ readOnlyHint = true, title = "Now" }}

[endpoints.ide]
servers = ["everything", "time"]
include = ["everything__echo", "time__*"]
exclude = ["time__convert_time"]
expose = "search"
[endpoints.ide.overrides."time__get_current_time"]
name = "now"
"#,
        js = everything_js().display(),
        time = time_server().display(),
    )
}

/// What every client runs against `/mcp/clock` (or `/sse/clock`).
fn actions() -> Value {
    json!([
        ["list"],
        ["call", "now", {"timezone": "UTC"}],
        ["call", "time__get_current_time", {"timezone": "UTC"}],
        ["call", "time__convert_time", {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"}],
        ["call", "everything__echo", {"message": "out of view"}],
        ["call", "get_current_time", {"timezone": "UTC"}],
    ])
}

/// The answers to [`actions`], whichever client ran them.
fn check_clock(who: &str, out: &[Value]) {
    assert_eq!(
        out[0],
        json!(["now", "switchboard__find_tools"]),
        "{who}: {out:?}"
    );
    assert_eq!(out[1]["ok"], true, "{who}: {out:?}");
    assert!(
        out[1]["text"].as_str().unwrap().contains("\"timezone\""),
        "{who}: {out:?}"
    );
    for (i, name) in [
        (2, "time__get_current_time"),
        (3, "time__convert_time"),
        (4, "everything__echo"),
    ] {
        assert_eq!(out[i]["code"], -32041, "{who} {name}: {out:?}");
        let message = out[i]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("{name:?} is not offered by endpoint \"clock\"")),
            "{who}: {message}"
        );
    }
    // The upstream's own name does not reach a renamed tool either.
    assert_eq!(out[5]["code"], -32602, "{who}: {out:?}");
}

fn sdk_python(url: &str) -> Vec<Value> {
    let v = run_json(
        Command::new(python())
            .arg(client_script("py_auth.py"))
            .args([url, ""])
            .arg(actions().to_string()),
    );
    v.as_array().unwrap().clone()
}

fn sdk_typescript(url: &str) -> Vec<Value> {
    let v = run_json(
        Command::new("node")
            .arg(client_script("ts_actions.mjs"))
            .arg(url)
            .arg(actions().to_string())
            .env("SDK_NODE_MODULES", tools_dir().join("npm/node_modules")),
    );
    v.as_array().unwrap().clone()
}

#[test]
fn an_endpoint_lists_exactly_its_view_through_both_sdks_and_refuses_the_rest() {
    needs_peers!();
    let gw = Gateway::start("switchboard.toml", &config());
    let clock = format!("{}/mcp/clock", gw.base);
    check_clock("python", &sdk_python(&clock));
    check_clock("typescript", &sdk_typescript(&clock));
    // `now` answered: the upstream (which knows no tool of that name) got its own.
    check_clock(
        "typescript over SSE",
        &sdk_typescript(&format!("{}/sse/clock", gw.base)),
    );
}

/// The first item of an aggregate list's `member`, as exposed.
async fn first(c: &RawClient, method: &str, member: &str, key: &str) -> String {
    let r = c.request(50, method, json!({})).await;
    r["result"][member][0][key]
        .as_str()
        .unwrap_or_else(|| panic!("{method} is empty: {r}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_other_path_sees_only_the_endpoint_and_its_new_names() {
    needs_peers!();
    let gw = Gateway::start("switchboard.toml", &config());
    let mut whole = RawClient::new(&gw.url);
    whole.initialize().await;
    let names = tool_names(&whole.request(1, "tools/list", json!({})).await).join(" ");
    assert!(names.contains("time__get_current_time") && names.contains("time__convert_time"));
    assert!(!names.split(' ').any(|n| n == "now"), "{names}");
    let prompt = first(&whole, "prompts/list", "prompts", "name").await;
    let uri = first(&whole, "resources/list", "resources", "uri").await;

    let mut c = RawClient::new(&format!("{}/mcp/clock", gw.base));
    c.initialize().await;
    let tools = c.request(2, "tools/list", json!({})).await;
    let now = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "now")
        .unwrap_or_else(|| panic!("{tools}"));
    assert_eq!(
        now["description"],
        "The current time in a given IANA time zone"
    );
    assert_eq!(now["annotations"]["readOnlyHint"], true, "{now}");
    assert_eq!(now["annotations"]["title"], "Now", "{now}");
    assert!(
        now["inputSchema"]["properties"]["timezone"].is_object(),
        "{now}"
    );
    for (method, member) in [("prompts/list", "prompts"), ("resources/list", "resources")] {
        let r = c.request(3, method, json!({})).await;
        assert_eq!(r["result"][member], json!([]), "{method}: {r}");
    }
    let outside = [
        ("prompts/get", json!({"name": prompt})),
        ("resources/read", json!({"uri": uri})),
        ("resources/subscribe", json!({"uri": uri})),
        (
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": prompt}, "argument": {"name": "x", "value": ""}}),
        ),
    ];
    for (method, params) in outside {
        let r = c.request(4, method, params).await;
        assert_eq!(r["error"]["code"], -32041, "{method}: {r}");
        assert!(
            r["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not offered by endpoint \"clock\""),
            "{r}"
        );
    }
    // find_tools searches the endpoint's tools under their new names (words of the override's
    // description count).
    let found = c
        .request(5, "tools/call", json!({"name": "switchboard__find_tools", "arguments": {"query": "current time in an IANA zone"}}))
        .await;
    let listed: Vec<&str> = found["result"]["structuredContent"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{found}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["now"], "{found}");

    // A session belongs to the endpoint it was opened at.
    let mut elsewhere = RawClient::new(&gw.url);
    elsewhere.session = c.session.clone();
    let a = elsewhere
        .post_raw(
            json!({"jsonrpc":"2.0","id":6,"method":"tools/list"}).to_string(),
            &[("mcp-protocol-version", "2025-11-25")],
        )
        .await;
    assert_eq!(a.status, 404, "{}", a.text);
    let unknown = RawClient::new(&format!("{}/mcp/nope", gw.base))
        .post_raw(
            json!({"jsonrpc":"2.0","id":7,"method":"initialize","params":{}}).to_string(),
            &[],
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);
    let message = unknown.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("no endpoint is named \"nope\" (configured: clock, ide)"),
        "{message}"
    );
    analyze_and_route(&gw).await;
    let servers = get_json(&format!("{}/servers", gw.base)).await;
    let rows = &servers["endpoints"];
    assert_eq!(rows[0]["endpoint"], "clock", "{servers}");
    assert_eq!(rows[0]["path"], "/mcp/clock", "{servers}");
    assert_eq!(
        (rows[0]["tools"].as_u64(), rows[1]["tools"].as_u64()),
        (Some(1), Some(2)),
        "{servers}"
    );
    assert_eq!(rows[0]["unmatched_overrides"], json!([]), "{servers}");
}

/// `/analyze` and `/route` with `endpoint`: its router (whose catalog words come from the
/// override's description: "IANA" is in no rule), its names, its refusals.
async fn analyze_and_route(gw: &Gateway) {
    let a = get_json(&format!(
        "{}/analyze?endpoint=clock&prompt=answer+by+IANA+name",
        gw.base
    ))
    .await;
    let ranking = a["ranking"].as_array().unwrap_or_else(|| panic!("{a}"));
    assert_eq!(ranking.len(), 1, "only the endpoint's servers score: {a}");
    assert_eq!(ranking[0]["server"], "time", "{a}");
    assert_eq!(ranking[0]["tools"], json!(["now"]), "{a}");
    let route = |body: Value| {
        let url = format!("{}/route", gw.base);
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, r) = route(json!({"endpoint": "clock", "prompt": "time in Tokyo", "tool": "time__get_current_time", "arguments": {"timezone": "UTC"}})).await;
    assert_eq!(status, 403, "{r}");
    assert!(
        r["error"]
            .as_str()
            .unwrap()
            .contains("not offered by endpoint \"clock\""),
        "{r}"
    );
    let (status, r) = route(json!({"endpoint": "clock", "prompt": "answer by IANA name", "arguments": {"timezone": "Asia/Tokyo"}})).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["tool"], "now", "{r}");
    assert!(
        r["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Asia/Tokyo"),
        "{r}"
    );
    let (status, r) = route(json!({"endpoint": "nope", "prompt": "x"})).await;
    assert_eq!(status, 404, "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lean_endpoint_calls_through_its_call_tool_within_its_view() {
    needs_peers!();
    let gw = Gateway::start("switchboard.toml", &config());
    let mut c = RawClient::new(&format!("{}/mcp/ide", gw.base));
    c.initialize().await;
    let tools = c.request(1, "tools/list", json!({})).await;
    assert_eq!(
        tool_names(&tools),
        ["switchboard__find_tools", "switchboard__call_tool"],
        "{tools}"
    );
    let call = |id, name: &str, arguments: Value| {
        let params = json!({"name": "switchboard__call_tool", "arguments": {"name": name, "arguments": arguments}});
        let c = &c;
        async move { c.request(id, "tools/call", params).await }
    };
    let r = call(2, "now", json!({"timezone": "UTC"})).await;
    assert!(
        r["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("UTC"),
        "{r}"
    );
    let r = call(3, "everything__echo", json!({"message": "in view"})).await;
    assert!(
        r["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("in view"),
        "{r}"
    );
    for name in [
        "time__convert_time",
        "everything__get-sum",
        "time__get_current_time",
    ] {
        let r = call(4, name, json!({})).await;
        assert_eq!(r["error"]["code"], -32041, "{name}: {r}");
    }
}

/// One JSON-RPC line to the stdio face, and the answer with that id.
fn ask(
    stdin: &mut impl Write,
    out: &mut impl BufRead,
    id: u64,
    method: &str,
    params: Value,
) -> Value {
    let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    writeln!(stdin, "{msg}").unwrap();
    loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "stdio face closed");
        let v: Value = serde_json::from_str(&line).unwrap();
        if v["id"] == id {
            return v;
        }
    }
}

#[test]
fn the_stdio_face_serves_a_named_endpoint() {
    needs_peers!();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.toml");
    std::fs::write(&path, config()).unwrap();
    let wrong = failure_of(
        Command::new(switchboard_bin())
            .args(["stdio", "--endpoint", "nope", "--config"])
            .arg(&path)
            .env("XDG_STATE_HOME", dir.path().join("state"))
            .stdin(Stdio::null()),
    );
    assert!(wrong.contains("no endpoint is named \"nope\""), "{wrong}");
    let mut child = Command::new(switchboard_bin())
        .args(["stdio", "--endpoint", "clock", "--config"])
        .arg(&path)
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let init = json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}});
    ask(&mut stdin, &mut out, 0, "initialize", init);
    writeln!(
        stdin,
        "{}",
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
    )
    .unwrap();
    let tools = ask(&mut stdin, &mut out, 1, "tools/list", json!({}));
    assert_eq!(
        tool_names(&tools),
        ["switchboard__find_tools", "now"],
        "{tools}"
    );
    let r = ask(
        &mut stdin,
        &mut out,
        2,
        "tools/call",
        json!({"name": "time__convert_time", "arguments": {}}),
    );
    assert_eq!(r["error"]["code"], -32041, "{r}");
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_aggregate_disabled_only_named_endpoints_answer() {
    let config = format!(
        "[gateway]\naggregate = false\n\n[servers.fx]\ncommand = \"{}\"\nargs = [\"fixture\"]\n\n[endpoints.only]\nservers = [\"fx\"]\n",
        switchboard_bin()
    );
    let gw = Gateway::start("switchboard.toml", &config);
    let a = RawClient::new(&gw.url)
        .post_raw(
            json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}).to_string(),
            &[],
        )
        .await;
    assert_eq!(a.status, 404, "{}", a.text);
    let message = a.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("gateway.aggregate = false") && message.contains("only"),
        "{message}"
    );
    let sse = reqwest::get(format!("{}/sse", gw.base)).await.unwrap();
    assert_eq!(sse.status(), 404);
    let mut c = RawClient::new(&format!("{}/mcp/only", gw.base));
    c.initialize().await;
    let r = c
        .request(
            2,
            "tools/call",
            json!({"name": "fx__echo", "arguments": {"message": "named"}}),
        )
        .await;
    assert!(
        r["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("named"),
        "{r}"
    );
}
