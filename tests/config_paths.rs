//! Configuration files found by relative paths, and the loop guard. One test per file would not
//! help here: these change the working directory, so they run in their own test binary, in order.

use std::path::Path;
use std::process::Command;
use switchboard::config::Config;

#[test]
fn relative_paths_loop_guard_and_ancestry() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::create_dir(root.join(".vscode")).unwrap();
    std::fs::write(
        root.join(".vscode/mcp.json"),
        r#"{"servers": {"here": {"type": "stdio", "command": "echo", "args": ["${workspaceFolder}"]}}}"#,
    )
    .unwrap();
    std::env::set_current_dir(&root).unwrap();

    // `${workspaceFolder}` of a relative `.vscode/mcp.json` is the folder holding `.vscode/`.
    let c = Config::load(Path::new(".vscode/mcp.json")).unwrap();
    let switchboard::config::Transport::Stdio(l) = &c.servers[0].transport else {
        panic!("a stdio server");
    };
    assert_eq!(l.args, [root.display().to_string()]);

    // An entry that runs switchboard on this very file is refused at load, saying why.
    let bin = env!("CARGO_BIN_EXE_switchboard");
    std::fs::write(
        root.join("loop.toml"),
        format!("[servers.again]\ncommand = \"{bin}\"\nargs = [\"stdio\", \"--config\", \"loop.toml\"]\n"),
    )
    .unwrap();
    let e = Config::load(Path::new("loop.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("servers.again") && e.contains("this same configuration"),
        "{e}"
    );

    // However it is hidden, a gateway started by one serving the same file refuses to start.
    std::fs::write(root.join("plain.toml"), "[servers]\n").unwrap();
    let ancestry = root.join("plain.toml").display().to_string();
    let out = Command::new(bin)
        .args(["tools", "--config", "plain.toml"])
        .env("SWITCHBOARD_ANCESTRY", &ancestry)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("launched this one"), "{err}");
    // Without that ancestry the same file serves.
    let out = Command::new(bin)
        .args(["tools", "--config", "plain.toml"])
        .env_remove("SWITCHBOARD_ANCESTRY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
