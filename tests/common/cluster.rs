//! A cluster's peers for tests: a real `redis-server` and Debian's nginx in front of replicas
//! (each skipped, saying so, when its package is not installed, unless CI requires every peer),
//! and what a replica says of its store.

use super::{free_port, wait_for_port, Gateway, Proc};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio::time::Instant;

/// Debian's `package` binary at `path`; `None` (the test skipped, saying so) when it is not
/// installed, unless CI requires every peer.
pub fn installed(path: &'static str, package: &str) -> Option<&'static std::path::Path> {
    let bin = std::path::Path::new(path);
    if bin.exists() {
        return Some(bin);
    }
    let required = std::env::var_os("SWITCHBOARD_REQUIRE_PEERS").is_some_and(|v| !v.is_empty());
    assert!(
        !required,
        "{package} is not installed: run `bash .ci/install`"
    );
    eprintln!("skipped: {package} is not installed (apt-get install {package})");
    None
}

/// A `redis-server` on `port`, keeping nothing on disk; `None` (the test skipped, saying so)
/// when Debian's package is not installed, unless CI requires every peer.
pub fn redis(port: u16) -> Option<Proc> {
    let bin = installed("/usr/bin/redis-server", "redis-server")?;
    let child = Command::new(bin)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port, Duration::from_secs(10));
    Some(Proc { child })
}

/// `/ready`: its status and body.
pub async fn ready(gw: &Gateway) -> (u16, Value) {
    let r = reqwest::get(format!("{}/ready", gw.base)).await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Until the replica's store is up.
pub async fn wait_until_up(gw: &Gateway) {
    let until = Instant::now() + Duration::from_secs(20);
    while ready(gw).await.1["cluster"]["state"] != "up" {
        assert!(
            Instant::now() < until,
            "the store never came up:\n{}",
            gw.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Debian's nginx round-robin over `backends` (no stickiness), answering on the returned URL.
pub fn nginx(backends: &[&Gateway]) -> Option<(Proc, String, tempfile::TempDir)> {
    let bin = installed("/usr/sbin/nginx", "nginx")?;
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let servers: String = backends
        .iter()
        .map(|g| format!("server {};", g.base.trim_start_matches("http://")))
        .collect();
    let conf = format!(
        "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 256; }}\nhttp {{\n access_log off;\n client_body_temp_path {d}/body;\n\
         proxy_temp_path {d}/proxy;\n fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n\
         scgi_temp_path {d}/scgi;\n upstream replicas {{ {servers} }}\n server {{\n  listen 127.0.0.1:{port};\n\
         location / {{ proxy_pass http://replicas; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header Host $http_host;\n\
         proxy_buffering off; proxy_read_timeout 60s; }}\n }}\n}}\n"
    );
    let path = dir.path().join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let child = Command::new(bin)
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(&path)
        .arg("-e")
        .arg(dir.path().join("error.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port, Duration::from_secs(10));
    Some((Proc { child }, format!("http://127.0.0.1:{port}/mcp"), dir))
}
