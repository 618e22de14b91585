//! The README says what the code does: its error table is the classification's own
//! (`cargo test --test readme -- --ignored` rewrites it), and every code block of its first
//! section ("Start here") runs as written.

mod common;

use std::path::{Path, PathBuf};

const TABLE_START: &str = "<!-- error table: generated, see tests/readme.rs -->\n";
const TABLE_END: &str = "<!-- end of error table -->";

fn path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")
}

/// The README's generated error table, and where it sits.
fn table_in(readme: &str) -> (usize, usize) {
    let start = readme
        .find(TABLE_START)
        .expect("the README marks its error table")
        + TABLE_START.len();
    let end = readme[start..]
        .find(TABLE_END)
        .expect("the error table ends")
        + start;
    (start, end)
}

#[test]
fn the_error_table_is_derived_from_the_classification() {
    let readme = std::fs::read_to_string(path()).unwrap();
    let (start, end) = table_in(&readme);
    assert_eq!(
        &readme[start..end],
        switchboard::call::failure::table(),
        "README.md's error table differs from the classification: run `cargo test --test readme -- --ignored`"
    );
}

#[test]
#[ignore = "rewrites README.md"]
fn write_the_generated_parts() {
    let mut readme = std::fs::read_to_string(path()).unwrap();
    let (start, end) = table_in(&readme);
    readme.replace_range(start..end, &switchboard::call::failure::table());
    std::fs::write(path(), readme).unwrap();
}

/// The fenced code blocks of the README's section `heading` (up to the next `## `), each with
/// its language.
fn blocks_of(readme: &str, heading: &str) -> Vec<(String, String)> {
    let start = readme.find(heading).expect("the README has the section");
    let rest = &readme[start + heading.len()..];
    let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
    let mut blocks = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if let Some(lang) = line.strip_prefix("```") {
            let body: Vec<&str> = lines
                .by_ref()
                .take_while(|l| !l.starts_with("```"))
                .collect();
            blocks.push((lang.trim().to_string(), body.join("\n") + "\n"));
        }
    }
    blocks
}

/// Runs the README's "Start here" blocks in a scratch home, in order, against the gateway the
/// blocks start: every line of a shell block has a runner here, or the test fails.
struct StartHere {
    home: tempfile::TempDir,
    /// A folder whose `switchboard` is the binary under test, first on `PATH`.
    bin: tempfile::TempDir,
    gateway: Option<common::Gateway>,
    ran: Vec<&'static str>,
}

impl StartHere {
    fn new() -> Self {
        let bin = tempfile::tempdir().unwrap();
        // CI installs the binary with the README's own `cargo install --path .` (see .ci/run);
        // elsewhere the one cargo built stands in.
        let installed = common::tools_dir().join("install/bin/switchboard");
        let required = std::env::var_os("SWITCHBOARD_REQUIRE_PEERS").is_some_and(|v| !v.is_empty());
        assert!(
            !required || installed.exists(),
            "{} is missing: .ci/run installs it",
            installed.display()
        );
        let target = match installed.exists() && required {
            true => installed,
            false => PathBuf::from(common::switchboard_bin()),
        };
        std::os::unix::fs::symlink(target, bin.path().join("switchboard")).unwrap();
        StartHere {
            home: tempfile::tempdir().unwrap(),
            bin,
            gateway: None,
            ran: Vec::new(),
        }
    }

    fn path_env(&self) -> String {
        format!(
            "{}:{}",
            self.bin.path().display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// The line with the gateway's real address for the README's 127.0.0.1:8931.
    fn here(&self, text: &str) -> String {
        let addr = self
            .gateway
            .as_ref()
            .expect("a block started the gateway")
            .base
            .trim_start_matches("http://")
            .to_string();
        text.replace("127.0.0.1:8931", &addr)
    }

    fn command(&self, program: &str) -> std::process::Command {
        let mut c = std::process::Command::new(program);
        c.current_dir(self.home.path())
            .env("HOME", self.home.path())
            .env("PATH", self.path_env())
            .env_remove("SWITCHBOARD_CONFIG");
        c
    }

    /// Start the gateway the way the line says, on a free port (the README's is 8931).
    fn serve(&mut self, program: &str, args: &[&str]) {
        self.gateway = None;
        let mut cmd = self.command(program);
        cmd.args(args).env("SWITCHBOARD_LISTEN", "127.0.0.1:0");
        self.gateway = Some(common::Gateway::launch(cmd, tempfile::tempdir().unwrap()));
    }

    fn run_ok(&self, program: &str, args: &[&str]) -> String {
        let out = self.command(program).args(args).output().unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(
            out.status.success(),
            "{program} {args:?}:\n{stdout}{stderr}"
        );
        stdout.into_owned()
    }

    fn sh(&mut self, line: &str) {
        let ci =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/run")).unwrap();
        match line {
            // The binary `cargo run` builds, run with the same arguments (the tests run inside
            // cargo, which holds the build directory).
            "cargo run --release -- serve" => self.serve(common::switchboard_bin(), &["serve"]),
            // The command that runs this very test, in CI.
            "bash .ci/run" => assert!(ci.contains("cargo test --all-targets"), "{ci}"),
            // Run by .ci/run before the tests; `switchboard` below is what it installed.
            "cargo install --path ." => assert!(ci.contains("cargo install --path ."), "{ci}"),
            "switchboard serve" => self.serve("switchboard", &["serve"]),
            "switchboard check" => {
                let report = self.run_ok("switchboard", &["check"]);
                assert!(
                    report.contains("text") && report.contains("math"),
                    "{report}"
                );
            }
            l if l.starts_with("curl ") => {
                let out = self.run_ok("sh", &["-c", &self.here(l)]);
                let v: serde_json::Value = serde_json::from_str(&out).unwrap();
                assert_eq!(v["selected"], serde_json::json!(["math"]), "{v}");
            }
            l if l.starts_with("switchboard import ") => {
                // A Claude Desktop file with the two demo servers, where the line says it is.
                let file = self
                    .home
                    .path()
                    .join(".config/Claude/claude_desktop_config.json");
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                let demo = |kit: &str| serde_json::json!({"command": common::switchboard_bin(), "args": ["demo-server", "--kit", kit]});
                let doc =
                    serde_json::json!({"mcpServers": {"text": demo("text"), "math": demo("math")}});
                std::fs::write(&file, doc.to_string()).unwrap();
                let out = self.run_ok("sh", &["-c", l]);
                assert!(out.contains("added 2 servers"), "{out}");
                let now: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
                assert!(now["mcpServers"]["switchboard"].is_object(), "{now}");
            }
            other => {
                panic!("README \"Start here\" line {other:?} has no runner in tests/readme.rs")
            }
        }
    }

    fn python(&mut self, code: &str) {
        let file = self.home.path().join("client.py");
        std::fs::write(&file, self.here(code)).unwrap();
        let out = self.run_ok(
            common::python().to_str().unwrap(),
            &[file.to_str().unwrap()],
        );
        assert_eq!(out.trim(), "42");
        self.ran.push("python");
    }

    fn js(&mut self, code: &str) {
        // Beside the installed SDK, so that its imports resolve.
        let file =
            common::tools_dir().join(format!("npm/readme-client-{}.mjs", std::process::id()));
        std::fs::write(&file, self.here(code)).unwrap();
        let out = self.command("node").arg(&file).output().unwrap();
        let _ = std::fs::remove_file(&file);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "draobhctiws");
        self.ran.push("js");
    }
}

#[test]
fn every_block_of_start_here_runs() {
    needs_peers!();
    let readme = std::fs::read_to_string(path()).unwrap();
    let blocks = blocks_of(&readme, "## Start here");
    let mut run = StartHere::new();
    for (lang, body) in &blocks {
        match lang.as_str() {
            "sh" => body
                .lines()
                .filter(|l| !l.trim().is_empty())
                .for_each(|l| run.sh(l.trim())),
            "python" => run.python(body),
            "js" => run.js(body),
            other => panic!("a {other:?} block in \"Start here\" has no runner in tests/readme.rs"),
        }
    }
    assert_eq!(run.ran, ["python", "js"], "{blocks:?}");
}
