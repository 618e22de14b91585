//! The command line: `tools` prints the merged catalog; bad configurations stop the gateway with
//! a message naming file, field and problem; unprefixed collisions are load errors.

mod common;

use common::*;
use std::process::Command;

fn run(args: &[&str], config: &str, file_name: &str) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file_name);
    std::fs::write(&path, config).unwrap();
    let out = Command::new(switchboard_bin())
        .args(args)
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn demo(name: &str, kit: &str, extra: &str) -> String {
    format!(
        "[servers.{name}]\ncommand = \"{bin}\"\nargs = [\"demo-server\", \"--kit\", \"{kit}\"]\n{extra}\n",
        bin = switchboard_bin()
    )
}

#[test]
fn tools_prints_the_merged_catalog() {
    let config = demo("text", "text", "") + &demo("math", "math", "");
    let (ok, out, err) = run(&["tools"], &config, "switchboard.toml");
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{out}");
    let row = lines
        .iter()
        .find(|l| l.starts_with("math__add"))
        .expect("math__add listed");
    assert!(
        row.contains("math") && row.contains("Add two numbers"),
        "{row}"
    );
    // The gateway's own tool first, marked as such: clients see it too.
    assert!(
        lines[1].starts_with("switchboard__find_tools") && lines[1].contains("(gateway)"),
        "{out}"
    );
    assert_eq!(lines.len(), 1 + 1 + 6, "{out}");

    let (ok, out, _) = run(&["tools", "--json"], &config, "switchboard.toml");
    assert!(ok);
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    let echo = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "text__echo")
        .unwrap();
    assert_eq!(echo["server"], "text");
    assert_eq!(echo["tool"], "echo");
}

#[test]
fn a_bad_config_stops_the_gateway_naming_file_field_and_problem() {
    let cases = [
        ("[servers.a]\ncommand = 42\n", "servers.a.command"),
        ("[servers.docs]\nurl = \"http://x/\"\nheaders = { Authorization = \"Bearer ${SB_TEST_UNSET_TOKEN}\" }\n", "SB_TEST_UNSET_TOKEN"),
        ("[gateway]\nlisten = \"not an address\"\n", "gateway.listen"),
        ("[servers.a]\ncommand = \"x\"\nbogus = 1\n", "bogus"),
    ];
    for (config, says) in cases {
        let (ok, _, err) = run(
            &["serve", "--listen", "127.0.0.1:0"],
            config,
            "switchboard.toml",
        );
        assert!(!ok, "{config} should not start");
        assert!(
            err.contains("switchboard.toml") && err.contains(says),
            "{config}: {err}"
        );
    }
}

#[test]
fn unprefixed_collision_is_a_load_error_naming_both_servers() {
    let config = demo("one", "text", "prefix = false") + &demo("two", "text", "prefix = false");
    let (ok, _, err) = run(
        &["serve", "--listen", "127.0.0.1:0"],
        &config,
        "switchboard.toml",
    );
    assert!(!ok);
    assert!(
        err.contains("\"one\"") && err.contains("\"two\"") && err.contains("echo"),
        "{err}"
    );
}

#[test]
fn prefixed_collision_is_reported_and_both_tools_stay() {
    // "a" exposes "b__echo" unprefixed; server "b" exposes "echo" as "b__echo" too.
    let dir = tempfile::tempdir().unwrap();
    let wrapper = dir.path().join("renamer.sh");
    // A stdio server whose only tool is literally named "b__echo": the demo server behind sed.
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\nexec {} demo-server --kit text | sed -u 's/\"name\":\"echo\"/\"name\":\"b__echo\"/'\n", switchboard_bin()),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&wrapper)
        .status()
        .unwrap();
    let config = format!(
        "[servers.a]\ncommand = \"{}\"\nprefix = false\n{}",
        wrapper.display(),
        demo("b", "text", "")
    );
    let (ok, out, err) = run(&["tools"], &config, "switchboard.toml");
    assert!(ok, "{err}");
    assert!(
        err.contains("collision") && err.contains("b__echo"),
        "{err}"
    );
    let b_echo: Vec<&str> = out.lines().filter(|l| l.starts_with("b__echo")).collect();
    assert_eq!(b_echo.len(), 2, "both tools listed, one renamed: {out}");
}
