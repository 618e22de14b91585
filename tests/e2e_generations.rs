//! Both protocol generations on both sides of the gateway: clients of the `initialize`
//! generation (TypeScript SDK; Python SDK in legacy mode) and of 2026-07-28 (Python SDK in its
//! default mode), against upstreams of the `initialize` generation (server-everything) and of
//! 2026-07-28 (mcp-server-time; a Python SDK server whose tool asks the user a question).
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // blocking harness threads on the wall clock, outside any runtime

mod common;

use common::*;
use serde_json::Value;
use std::process::Command;

fn config() -> String {
    let stateless = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/py_stateless_upstream.py");
    format!(
        r#"
[servers.everything]
command = "node"
args = ["{js}", "stdio"]

[servers.time]
command = "{time}"

[servers.stateless]
command = "{python}"
args = ["{stateless}"]
"#,
        js = everything_js().display(),
        time = time_server().display(),
        python = python().display(),
        stateless = stateless.display(),
    )
}

#[test]
fn typescript_client_of_the_initialize_generation_reaches_both_generations() {
    needs_peers!();
    let gw = Gateway::start("switchboard.toml", &config());
    let p = protocols(&gw);
    assert_eq!(p["everything"], "2025-11-25", "{p}");
    assert_eq!(p["time"], "2026-07-28", "{p}");
    assert_eq!(p["stateless"], "2026-07-28", "{p}");
    let v = run_json(
        Command::new("node")
            .arg(client_script("ts_client.mjs"))
            .arg(&gw.url)
            .args(["everything__echo", r#"{"message":"from TypeScript"}"#])
            .args(["time__get_current_time", r#"{"timezone":"UTC"}"#])
            .args(["stateless__greet", "{}"])
            .env("SDK_NODE_MODULES", tools_dir().join("npm/node_modules")),
    );
    assert_eq!(v["version"], "2025-11-25", "{v}");
    let calls = v["calls"].as_array().unwrap();
    assert!(calls.iter().all(|c| c["is_error"] == false), "{v}");
    assert!(
        calls[0]["text"]
            .as_str()
            .unwrap()
            .contains("from TypeScript"),
        "{v}"
    );
    assert!(
        calls[1]["text"].as_str().unwrap().contains("\"timezone\""),
        "{v}"
    );
    // The 2026-07-28 upstream answered input_required; the gateway asked this client with an
    // elicitation/create request and sent the answer back upstream.
    assert_eq!(v["asked"], serde_json::json!(["What is your name?"]), "{v}");
    assert_eq!(calls[2]["text"], "Hello, Ada!", "{v}");
}

#[test]
fn python_clients_of_both_generations_answer_a_stateless_upstreams_question() {
    needs_peers!();
    let gw = Gateway::start("switchboard.toml", &config());
    for (mode, version) in [("legacy", "2025-11-25"), ("auto", "2026-07-28")] {
        let v = run_json(
            Command::new(python())
                .arg(client_script("py_bridge.py"))
                .args([&gw.url, mode, "stateless__greet"]),
        );
        assert_eq!(v["version"], version, "{mode}: {v}");
        assert_eq!(
            v["asked"],
            serde_json::json!(["What is your name?"]),
            "{mode}: {v}"
        );
        assert_eq!(v["text"], "Hello, Ada!", "{mode}: {v}");
    }
    // The 2026-07-28 client's plain calls to both generations (a question from an
    // initialize-generation upstream to this client is in e2e_surface).
    let v = run_json(
        Command::new(python())
            .arg(client_script("py_client.py"))
            .args([
                &gw.url,
                "everything__echo",
                r#"{"message":"stateless to legacy"}"#,
            ])
            .args(["time__get_current_time", r#"{"timezone":"UTC"}"#]),
    );
    assert_eq!(v["version"], "2026-07-28", "{v}");
    assert!(
        v["calls"][0]["text"]
            .as_str()
            .unwrap()
            .contains("stateless to legacy"),
        "{v}"
    );
    assert!(
        v["calls"][1]["text"].as_str().unwrap().contains("UTC"),
        "{v}"
    );
}

/// A 2026-07-28 HTTP upstream that checks `Mcp-Param-Region` against the argument its tool marks
/// `x-mcp-header`: calls from either generation succeed only if the gateway mirrors it.
#[test]
fn x_mcp_header_parameters_are_mirrored_to_a_stateless_http_upstream() {
    needs_peers!();
    let port = free_port();
    let stateless = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/py_stateless_upstream.py");
    let config = format!(
        "[servers.geo]\ncommand = \"{}\"\nargs = [\"{}\", \"--http\", \"{port}\"]\nurl = \"http://127.0.0.1:{port}/mcp\"\n",
        python().display(),
        stateless.display()
    );
    let gw = Gateway::start("switchboard.toml", &config);
    assert_eq!(protocols(&gw)["geo"], "2026-07-28");
    // A 2026-07-28 client (it mirrors the header to the gateway, which checks it, then mirrors
    // it again upstream).
    let v = run_json(
        Command::new(python())
            .arg(client_script("py_client.py"))
            .args([&gw.url, "geo__locate", r#"{"region":"eu-west"}"#]),
    );
    assert_eq!(v["version"], "2026-07-28", "{v}");
    assert_eq!(v["calls"][0]["text"], "region=eu-west", "{v}");
    // An initialize-generation client knows nothing of Mcp-Param headers: the gateway adds it.
    let v = run_json(
        Command::new("node")
            .arg(client_script("ts_client.mjs"))
            .arg(&gw.url)
            .args(["geo__locate", r#"{"region":"Zürich"}"#])
            .env("SDK_NODE_MODULES", tools_dir().join("npm/node_modules")),
    );
    assert_eq!(v["calls"][0]["text"], "region=Zürich", "{v}");
    assert_eq!(v["calls"][0]["is_error"], false, "{v}");
}

/// A stateless request to a per-session upstream gets a connection of its own, stopped when the
/// request ends: no process outlives its request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stateless_requests_leave_no_per_session_processes_behind() {
    needs_peers!();
    let config = format!(
        "[servers.private]\ncommand = \"{}\"\nargs = [\"fixture\"]\nisolation = \"per-session\"\n",
        switchboard_bin()
    );
    let gw = Gateway::start("switchboard.toml", &config);
    let before = children_of(gw.pid()).len();
    let client = RawClient::new(&gw.url);
    for i in 0..3 {
        let body = serde_json::json!({"jsonrpc":"2.0","id":i,"method":"tools/call","params":{
            "name":"private__echo","arguments":{"message":"once"},
            "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}});
        let a = client
            .post_raw(
                body.to_string(),
                &[
                    ("mcp-protocol-version", "2026-07-28"),
                    ("mcp-method", "tools/call"),
                    ("mcp-name", "private__echo"),
                ],
            )
            .await;
        assert_eq!(a.body["result"]["content"][0]["text"], "once", "{}", a.text);
    }
    let mut now = usize::MAX;
    for _ in 0..50 {
        now = children_of(gw.pid()).iter().filter(|p| alive(**p)).count();
        if now == before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        now,
        before,
        "per-session processes left behind\n{}",
        gw.log()
    );
}

/// The stdio face (`switchboard stdio`, as desktop apps launch it) in both generations: plain
/// calls, and questions from upstreams of either generation answered by the client.
#[test]
fn stdio_face_serves_both_generations_and_bridges_questions() {
    needs_peers!();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.toml");
    std::fs::write(&path, config()).unwrap();
    for (mode, version) in [("auto", "2026-07-28"), ("legacy", "2025-11-25")] {
        for (tool, args, asked) in [
            ("everything__echo", r#"{"message":"over stdio"}"#, None),
            ("stateless__greet", "{}", Some("What is your name?")),
            (
                "everything__trigger-elicitation-request",
                "{}",
                Some("Please provide inputs"),
            ),
        ] {
            let v = run_json(
                Command::new(python())
                    .arg(client_script("py_stdio.py"))
                    .arg(switchboard_bin())
                    .arg(&path)
                    .args([mode, tool, args]),
            );
            assert_eq!(v["version"], version, "{mode} {tool}: {v}");
            assert_eq!(v["is_error"], false, "{mode} {tool}: {v}");
            match asked {
                None => assert!(v["text"].as_str().unwrap().contains("over stdio"), "{v}"),
                Some(q) => {
                    assert!(
                        v["asked"][0].as_str().unwrap().starts_with(q),
                        "{mode} {tool}: {v}"
                    );
                    assert!(
                        v["text"].as_str().unwrap().contains("Ada"),
                        "{mode} {tool}: {v}"
                    );
                }
            }
        }
    }
}

/// The message answering request `id` (others are skipped); fails with `what` after 20 s.
fn answer_to(rx: &std::sync::mpsc::Receiver<Value>, id: &str, what: &str) -> Value {
    loop {
        let v = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect(what);
        if v["id"] == id {
            return v;
        }
    }
}

/// A 2026-07-28 client on the stdio face cancels with notifications/cancelled: the request is
/// answered at once with an error, long before the operation would end.
#[test]
fn stdio_face_cancels_a_stateless_request() {
    needs_peers!();
    use std::io::{BufRead, BufReader, Write};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.toml");
    std::fs::write(&path, config()).unwrap();
    let mut child = Command::new(switchboard_bin())
        .args(["stdio", "--config"])
        .arg(&path)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Value>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str(&line) {
                let _ = tx.send(v);
            }
        }
    });
    let meta = serde_json::json!({"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}});
    let call = serde_json::json!({"jsonrpc":"2.0","id":"long","method":"tools/call","params":{
        "name":"everything__trigger-long-running-operation","arguments":{"duration":60,"steps":2},"_meta":meta}});
    writeln!(stdin, "{call}").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let cancel = serde_json::json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"long","reason":"changed my mind"}});
    writeln!(stdin, "{cancel}").unwrap();
    let answer = answer_to(&rx, "long", "the cancelled request is answered");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cancelled"),
        "{answer}"
    );
    // Cancelled before the gateway has even sent it upstream (the two lines arrive together).
    let call = serde_json::json!({"jsonrpc":"2.0","id":"quick","method":"tools/call","params":{
        "name":"everything__trigger-long-running-operation","arguments":{"duration":60,"steps":2},"_meta":meta}});
    let cancel = serde_json::json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"quick"}});
    write!(stdin, "{call}\n{cancel}\n").unwrap();
    let answer = answer_to(&rx, "quick", "the request cancelled at once is answered");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cancelled"),
        "{answer}"
    );
    drop(stdin);
    let _ = child.wait();
}
