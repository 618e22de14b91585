//! The admin page in a real browser (Debian's Chromium, headless, driven by selenium through
//! chromedriver), against a gateway of real servers: the servers table shows each configured
//! server ready, the catalog searches, the playground highlights what matched a typed prompt,
//! the reload button reports a broken configuration (which `/servers` shows too), and the page
//! fits a narrow screen. A screenshot is left in `target/artefacts/admin-page.png`.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

#[test]
fn the_admin_page_shows_servers_highlights_matches_and_reports_a_broken_reload() {
    needs_peers!();
    for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        assert!(
            Path::new(tool).exists(),
            "{tool} is missing: .ci/install installs Debian's chromium and chromium-driver"
        );
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let config = format!(
        "[servers.time]\ncommand = \"{}\"\n\n{}",
        time_server().display(),
        fixture("echo", "", "")
    );
    let gw = Gateway::start("switchboard.toml", &config);
    let artefacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/artefacts");
    std::fs::create_dir_all(&artefacts).unwrap();
    let shot = artefacts.join("admin-page.png");
    let _ = std::fs::remove_file(&shot);
    let out = Command::new(python())
        .arg(client_script("admin_page.py"))
        .arg(&gw.base)
        .arg(gw.dir().join("switchboard.toml"))
        .arg("[servers.time]\ncommand = \"x\"\nsurprise = true\n")
        .arg(&shot)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the browser run failed:\n{stderr}");
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["servers"]["time"], "ready", "{seen}");
    assert_eq!(seen["servers"]["echo"], "ready", "{seen}");
    assert!(
        seen["catalog"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "time__get_current_time"),
        "{seen}"
    );
    let marks: Vec<String> = seen["marks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_lowercase())
        .collect();
    assert!(
        marks.iter().any(|m| m.contains("time") || m == "tokyo"),
        "{seen}"
    );
    assert!(
        seen["ranking"][0].as_str().unwrap().starts_with("time:"),
        "{seen}"
    );
    assert_eq!(seen["labels"], true, "every field has its label: {seen}");
    let reload = seen["reload"].as_str().unwrap();
    assert!(
        reload.starts_with("Refused") && reload.contains("surprise"),
        "{seen}"
    );
    assert!(
        seen["config"].as_str().unwrap().contains("surprise"),
        "{seen}"
    );
    assert_eq!(seen["narrow_overflow"], false, "{seen}");
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "a screenshot was written"
    );
    let status = rt.block_on(get_json(&format!("{}/servers", gw.base)));
    assert!(
        status["config"]["last_error"]
            .as_str()
            .unwrap()
            .contains("surprise"),
        "{status}"
    );
}
