//! The benchmark fixture answers like an MCP server over HTTP and stdio, directly and behind the gateway.

mod common;

use common::*;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixture_over_http_directly_and_through_the_gateway() {
    let mut child = Command::new(switchboard_bin())
        .args(["fixture", "--http", "127.0.0.1:0", "--tools", "3"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _guard = Proc { child };
    let url = line.trim().trim_start_matches("listening on ").to_string();
    let mut direct = RawClient::new(&url);
    direct.initialize().await;
    let r = direct
        .request(
            1,
            "tools/call",
            json!({"name":"echo","arguments":{"message":"a \"quoted\" text"}}),
        )
        .await;
    assert_eq!(r["result"]["content"][0]["text"], "a \"quoted\" text");
    let list = direct.request(2, "tools/list", json!({})).await;
    assert_eq!(list["result"]["tools"].as_array().unwrap().len(), 4);

    let gw = Gateway::start(
        "switchboard.toml",
        &format!("[servers.fx]\nurl = \"{url}\"\n"),
    );
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let r = c
        .request(
            1,
            "tools/call",
            json!({"name":"fx__echo","arguments":{"message":"via gateway"}}),
        )
        .await;
    assert_eq!(r["result"]["content"][0]["text"], "via gateway");
}

#[test]
fn fixture_over_stdio() {
    let mut child = Command::new(switchboard_bin())
        .arg("fixture")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-06-18"}}}}"#).unwrap();
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#
    )
    .unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"hi"}}}}}}"#).unwrap();
    drop(stdin);
    let lines: Vec<String> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .collect();
    let _ = child.wait();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let init: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    let call: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(call["result"]["content"][0]["text"], "hi");
}
