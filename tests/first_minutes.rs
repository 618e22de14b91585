//! The first ten minutes: `import` from real client files (and `--apply`, twice), `init` then
//! `check`, `check` on a server that cannot start, `status`, completions, plain-text logs, and
//! `serve` on a busy port starting nothing.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // blocking harness threads on the wall clock, outside any runtime

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Run `switchboard ARGS` in `dir` with `env`.
fn sb(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(switchboard_bin())
        .args(args)
        .current_dir(dir)
        .env_remove("SWITCHBOARD_CONFIG")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn write_json(path: &Path, v: &Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(v).unwrap()).unwrap();
}

/// Every file in `dir` (recursively), with its contents.
fn snapshot(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap_or_default(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_merges_real_client_files_and_apply_is_idempotent() {
    needs_peers!();
    let (_web, port) = everything_http("streamableHttp");
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let everything = everything_js().display().to_string();
    // Shaped like real files: other settings beside the servers, env, args, a URL server,
    // inline tokens, VS Code's inputs and ${workspaceFolder}.
    let claude = h.join(".config/Claude/claude_desktop_config.json");
    write_json(
        &claude,
        &json!({
            "globalShortcut": "Ctrl+Space",
            "mcpServers": {
                "time": { "command": time_server(), "args": ["--local-timezone=UTC"] },
                "everything": { "command": "node", "args": [everything, "stdio"],
                                "env": { "EVERYTHING_API_KEY": "sk-abcdefghijklmnopqrstuvwx", "LOG_LEVEL": "info" } },
            }
        }),
    );
    let vscode = h.join("project/.vscode/mcp.json");
    write_json(
        &vscode,
        &json!({
            "inputs": [{ "type": "promptString", "id": "demo-token", "password": true }],
            "servers": {
                "web": { "type": "http", "url": format!("http://127.0.0.1:{port}/mcp") },
                "text": { "type": "stdio", "command": switchboard_bin(), "args": ["demo-server", "--kit", "text"],
                          "env": { "ROOT": "${workspaceFolder}", "DEMO_TOKEN": "${input:demo-token}" } },
            }
        }),
    );
    let cursor = h.join(".cursor/mcp.json");
    write_json(
        &cursor,
        &json!({ "mcpServers": {
            "math": { "command": switchboard_bin(), "args": ["demo-server", "--kit", "math"] },
            // The same server as Claude's: imported once.
            "time": { "command": time_server(), "args": ["--local-timezone=UTC"] },
        }}),
    );
    let files = [&claude, &vscode, &cursor].map(|p| p.display().to_string());
    let args: Vec<&str> = ["import"]
        .into_iter()
        .chain(files.iter().map(String::as_str))
        .collect();
    let out = sb(h, &args, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(stdout.contains("added 5 servers"), "{stdout}");
    assert!(
        stderr.contains("EVERYTHING_API_KEY")
            && !stderr.contains("sk-abc")
            && stderr.contains("DEMO_TOKEN"),
        "named, never shown: {stderr}"
    );
    let config = std::fs::read_to_string(h.join("switchboard.toml")).unwrap();
    assert!(
        config.contains("${EVERYTHING_API_KEY}") && !config.contains("sk-abc"),
        "{config}"
    );
    assert!(
        config.contains(&h.join("project").display().to_string()),
        "workspaceFolder made absolute: {config}"
    );
    assert!(
        stdout.contains("\"switchboard\""),
        "the entry to use instead: {stdout}"
    );

    // serve loads it and lists the same servers, each ready.
    let mut cmd = Command::new(switchboard_bin());
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(h)
        .env("EVERYTHING_API_KEY", "sk-test")
        .env("DEMO_TOKEN", "t");
    let gw = Gateway::launch(cmd, tempfile::tempdir().unwrap());
    let servers = get_json(&format!("{}/servers", gw.base)).await;
    let rows = servers["servers"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["server"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["time", "everything", "web", "text", "math"],
        "{servers}"
    );
    assert!(rows.iter().all(|r| r["state"] == "ready"), "{servers}");
    drop(gw);

    // --apply: backups, client files that still parse, other settings kept.
    let out = sb(h, &[&args[..], &["--apply"]].concat(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for f in [&claude, &vscode, &cursor] {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        let key = if f == &vscode {
            "servers"
        } else {
            "mcpServers"
        };
        let entries = doc[key].as_object().unwrap();
        assert_eq!(entries.keys().collect::<Vec<_>>(), ["switchboard"], "{doc}");
        assert_eq!(entries["switchboard"]["args"][0], "stdio", "{doc}");
        let backups = std::fs::read_dir(f.parent().unwrap())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".bak"))
            .count();
        assert_eq!(backups, 1, "{}", f.display());
    }
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&claude).unwrap()).unwrap();
    assert_eq!(doc["globalShortcut"], "Ctrl+Space");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&vscode).unwrap()).unwrap();
    assert_eq!(doc["inputs"][0]["id"], "demo-token");

    // Again: nothing changes, no new backup.
    let before = snapshot(h);
    let out = sb(h, &[&args[..], &["--apply"]].concat(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("nothing new to add"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(snapshot(h), before, "a second import changes nothing");
}

#[test]
fn init_writes_a_file_that_serve_loads_and_check_passes() {
    let dir = tempfile::tempdir().unwrap();
    let out = sb(dir.path(), &["init"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let again = sb(dir.path(), &["init"], &[]);
    assert!(!again.status.success(), "never overwrites without --force");
    assert!(text(&again.stderr).contains("--force"));
    let out = sb(dir.path(), &["check", "--config", "switchboard.toml"], &[]);
    let report = text(&out.stdout);
    assert!(out.status.success(), "{report}{}", text(&out.stderr));
    for server in ["text", "math"] {
        let line = report.lines().find(|l| l.starts_with(server)).unwrap();
        assert!(line.contains(" ok ") && line.contains(" 3 "), "{report}");
    }
    let mut cmd = Command::new(switchboard_bin());
    cmd.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--config",
        "switchboard.toml",
    ])
    .current_dir(dir.path());
    let gw = Gateway::launch(cmd, tempfile::tempdir().unwrap());
    let health = std::net::TcpStream::connect(gw.base.trim_start_matches("http://"));
    assert!(health.is_ok());
}

#[test]
fn check_fails_naming_the_server_that_cannot_start_with_its_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "[servers.math]\ncommand = \"{}\"\nargs = [\"demo-server\", \"--kit\", \"math\"]\n\n\
         [servers.missing]\ncommand = \"/nonexistent/mcp-server\"\n\n\
         [servers.crashing]\ncommand = \"sh\"\nargs = [\"-c\", \"echo 'Error: Cannot find module mcp-thing' >&2; exit 3\"]\n\n\
         [servers.someday]\ncommand = \"/nonexistent/lazy-server\"\nlazy = true\n",
        switchboard_bin()
    );
    std::fs::write(dir.path().join("c.toml"), config).unwrap();
    let out = sb(dir.path(), &["check", "--config", "c.toml"], &[]);
    let (report, err) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{report}{err}");
    assert!(
        err.contains("2 of 3 required servers failed: missing, crashing"),
        "{err}"
    );
    assert!(
        report.contains("/nonexistent/mcp-server") && report.contains("No such file"),
        "{report}"
    );
    assert!(
        report.contains("stderr: Error: Cannot find module mcp-thing"),
        "{report}"
    );
    let lazy = report.lines().find(|l| l.starts_with("someday")).unwrap();
    assert!(lazy.contains("(lazy)"), "reported, not required: {report}");
    let json = sb(dir.path(), &["check", "--config", "c.toml", "--json"], &[]);
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    let crashing = v["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["server"] == "crashing")
        .unwrap();
    assert_eq!(crashing["ok"], false);
    assert!(
        crashing["stderr"][0]
            .as_str()
            .unwrap()
            .contains("Cannot find module"),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_a_running_gateways_servers() {
    let config = format!(
        "[servers.math]\ncommand = \"{}\"\nargs = [\"demo-server\", \"--kit\", \"math\"]\n",
        switchboard_bin()
    );
    let gw = Gateway::start("switchboard.toml", &config);
    let dir = tempfile::tempdir().unwrap();
    let out = sb(dir.path(), &["status", "--url", &gw.url], &[]);
    let table = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(table.starts_with("SERVER"), "{table}");
    let row = table.lines().find(|l| l.starts_with("math")).unwrap();
    assert!(row.contains("ready") && row.contains("closed"), "{table}");
    drop(gw);
    let out = sb(dir.path(), &["status", "--url", "http://127.0.0.1:9"], &[]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no gateway answers at http://127.0.0.1:9"));
}

#[test]
fn logs_written_to_a_file_are_plain_text() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("gateway.log");
    let mut child = Command::new(switchboard_bin())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_remove("NO_COLOR")
        .env("SWITCHBOARD_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(&log)
        .unwrap()
        .contains("listening on")
    {
        assert!(std::time::Instant::now() < deadline, "never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let written = std::fs::read_to_string(&log).unwrap();
    assert!(written.contains("INFO"), "{written}");
    assert!(
        !written.contains('\u{1b}'),
        "no escape sequences: {written:?}"
    );
}

#[test]
fn serve_on_a_busy_port_fails_before_starting_any_server() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("started");
    let config = format!(
        "[servers.witness]\ncommand = \"sh\"\nargs = [\"-c\", \"touch {}; exec {} demo-server\"]\n",
        marker.display(),
        switchboard_bin()
    );
    std::fs::write(dir.path().join("c.toml"), config).unwrap();
    let out = sb(
        dir.path(),
        &["serve", "--config", "c.toml", "--listen", &addr],
        &[],
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    assert!(!marker.exists(), "no server was started: {err}");
}

#[test]
fn completions_are_printed_for_each_shell() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = sb(dir.path(), &["completions", shell], &[]);
        assert!(out.status.success(), "{shell}");
        let script = text(&out.stdout);
        assert!(
            script.contains("switchboard") && script.contains("import"),
            "{shell}: {script}"
        );
    }
}
