//! End to end: real upstream servers (server-everything over stdio, streamable HTTP and SSE;
//! mcp-server-time over stdio) behind the gateway, driven by the official Python SDK client.

mod common;

use common::*;
use serde_json::Value;
use std::process::Command;

/// Run the Python SDK client against `url`, calling each (tool, args) pair.
fn python_client(url: &str, calls: &[(&str, &str)]) -> Value {
    let mut cmd = Command::new(python());
    cmd.arg(client_script("py_client.py")).arg(url);
    for (tool, args) in calls {
        cmd.arg(tool).arg(args);
    }
    let out = cmd.output().expect("python runs");
    assert!(
        out.status.success(),
        "python client failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("client prints JSON")
}

fn tool_names(v: &Value) -> Vec<String> {
    v["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect()
}

/// Check the standard pair of calls went through and answered what the real servers answer.
fn assert_echo_and_time(result: &Value, echo: &str, time: &str) {
    let names = tool_names(result);
    assert!(
        names.iter().any(|n| n == echo),
        "{echo} missing from {names:?}"
    );
    assert!(
        names.iter().any(|n| n == time),
        "{time} missing from {names:?}"
    );
    let calls = result["calls"].as_array().unwrap();
    assert_eq!(calls[0]["is_error"], false, "{result}");
    assert!(
        calls[0]["text"]
            .as_str()
            .unwrap()
            .contains("hello through the gateway"),
        "{result}"
    );
    assert_eq!(calls[1]["is_error"], false, "{result}");
    let time_json: Value =
        serde_json::from_str(calls[1]["text"].as_str().unwrap()).expect("time answers JSON");
    assert_eq!(time_json["timezone"], "UTC", "{result}");
    assert!(time_json["datetime"].as_str().is_some(), "{result}");
}

const ECHO_ARGS: &str = r#"{"message": "hello through the gateway"}"#;
const TIME_ARGS: &str = r#"{"timezone": "UTC"}"#;

#[test]
fn python_sdk_through_toml_config_over_every_transport() {
    needs_peers!();
    let (_http, http_port) = everything_http("streamableHttp");
    let (_sse, sse_port) = everything_http("sse");
    let config = format!(
        r#"
[servers.everything]
command = "node"
args = ["{js}", "stdio"]

[servers.time]
command = "{time}"

[servers.evhttp]
url = "http://127.0.0.1:{http_port}/mcp"

[servers.evsse]
url = "http://127.0.0.1:{sse_port}/sse"
transport = "sse"
"#,
        js = everything_js().display(),
        time = time_server().display(),
    );
    let gw = Gateway::start("switchboard.toml", &config);
    let result = python_client(
        &gw.url,
        &[
            ("everything__echo", ECHO_ARGS),
            ("time__get_current_time", TIME_ARGS),
            ("evhttp__echo", ECHO_ARGS),
            ("evsse__echo", ECHO_ARGS),
        ],
    );
    assert_echo_and_time(&result, "everything__echo", "time__get_current_time");
    // The Python SDK probes server/discover and, finding 2026-07-28, speaks it (statelessly)
    // while every upstream here speaks the initialize generation: the gateway bridges.
    assert_eq!(result["version"], "2026-07-28");
    // Each upstream is spoken to in its own generation: mcp-server-time offers 2026-07-28 when
    // probed; server-everything answers server/discover with an error and gets initialize.
    let servers = protocols(&gw);
    let protocol = |name: &str| servers.get(name).cloned();
    assert_eq!(
        protocol("time"),
        Some(serde_json::json!("2026-07-28")),
        "{servers}"
    );
    assert_eq!(
        protocol("everything"),
        Some(serde_json::json!("2025-11-25")),
        "{servers}"
    );
    assert_eq!(
        protocol("evhttp"),
        Some(serde_json::json!("2025-11-25")),
        "{servers}"
    );
    let names = tool_names(&result);
    for prefix in ["everything__", "time__", "evhttp__", "evsse__"] {
        assert!(
            names.iter().any(|n| n.starts_with(prefix)),
            "no {prefix} tools in {names:?}"
        );
    }
    let calls = result["calls"].as_array().unwrap();
    for call in &calls[2..] {
        assert_eq!(call["is_error"], false, "{result}");
        assert!(
            call["text"]
                .as_str()
                .unwrap()
                .contains("hello through the gateway"),
            "{result}"
        );
    }
}

#[test]
fn claude_desktop_config_loads_unchanged() {
    needs_peers!();
    let config = serde_json::json!({
        "mcpServers": {
            "everything": { "command": "node", "args": [everything_js(), "stdio"] },
            "time": { "command": time_server(), "args": [], "env": { "TZ": "UTC" } },
            "unused": { "command": "does-not-exist", "disabled": true }
        },
        "globalShortcut": "Ctrl+Space"
    });
    let gw = Gateway::start("claude_desktop_config.json", &config.to_string());
    let result = python_client(
        &gw.url,
        &[
            ("everything__echo", ECHO_ARGS),
            ("time__get_current_time", TIME_ARGS),
        ],
    );
    assert_echo_and_time(&result, "everything__echo", "time__get_current_time");
    assert!(!tool_names(&result).iter().any(|n| n.starts_with("unused")));
}

#[test]
fn vscode_config_loads_unchanged() {
    needs_peers!();
    let (_http, http_port) = everything_http("streamableHttp");
    let config = serde_json::json!({
        "inputs": [],
        "servers": {
            "everything": { "type": "http", "url": format!("http://127.0.0.1:{http_port}/mcp") },
            "time": { "type": "stdio", "command": time_server(), "args": [] }
        }
    });
    let gw = Gateway::start(".vscode/mcp.json", &config.to_string());
    let result = python_client(
        &gw.url,
        &[
            ("everything__echo", ECHO_ARGS),
            ("time__get_current_time", TIME_ARGS),
        ],
    );
    assert_echo_and_time(&result, "everything__echo", "time__get_current_time");
}

#[test]
fn a_failing_upstream_does_not_block_the_others() {
    needs_peers!();
    let config = format!(
        r#"
[servers.broken]
command = "/nonexistent/mcp-server"

[servers.time]
command = "{time}"
"#,
        time = time_server().display(),
    );
    let gw = Gateway::start("switchboard.toml", &config);
    let result = python_client(&gw.url, &[("time__get_current_time", TIME_ARGS)]);
    let names = tool_names(&result);
    assert!(names.iter().all(|n| !n.starts_with("broken")), "{names:?}");
    assert_eq!(result["calls"][0]["is_error"], false);
    let log = gw.log();
    assert!(
        log.contains("broken") && log.contains("/nonexistent/mcp-server"),
        "the log says why:\n{log}"
    );
}

#[test]
fn seed_registry_server_is_launched_and_reached_over_sse() {
    needs_peers!();
    let port = free_port();
    let registry = serde_json::json!({
        "everything": {
            "name": "Everything (SSE)",
            "path": std::env::temp_dir(),
            "command": format!("exec node {} sse", everything_js().display()),
            "port": port,
            "env": { "PORT": port.to_string() },
            "dependencies": {},
            "health_check": format!("curl http://localhost:{port}/health")
        }
    });
    let gw = Gateway::start("mcp-servers.json", &registry.to_string());
    let result = python_client(&gw.url, &[("everything__echo", ECHO_ARGS)]);
    assert_eq!(result["calls"][0]["is_error"], false, "{result}");
    assert!(result["calls"][0]["text"]
        .as_str()
        .unwrap()
        .contains("hello through the gateway"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_http_session_is_reinitialized_transparently() {
    needs_peers!();
    let port = free_port();
    let start_upstream = || {
        let child = Command::new("node")
            .arg(everything_js())
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        wait_for_port(port, std::time::Duration::from_secs(30));
        Proc { child }
    };
    let upstream = start_upstream();
    let config = format!("[servers.everything]\nurl = \"http://127.0.0.1:{port}/mcp\"\n");
    let gw = Gateway::start("switchboard.toml", &config);
    let mut client = RawClient::new(&gw.url);
    client.initialize().await;
    let echo = serde_json::json!({"name": "everything__echo", "arguments": {"message": "before"}});
    let r = client.request(1, "tools/call", echo).await;
    assert!(
        r["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("before"),
        "{r}"
    );
    // Restart the upstream: it forgets every session and answers the old one with 404.
    drop(upstream);
    let _upstream = start_upstream();
    let echo = serde_json::json!({"name": "everything__echo", "arguments": {"message": "after"}});
    let r = client.request(2, "tools/call", echo).await;
    assert!(
        r["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or("")
            .contains("after"),
        "{r}\n{}",
        gw.log()
    );
    let log = gw.log_with("re-initializing").await;
    assert!(log.contains("re-initializing"), "{log}");
}
