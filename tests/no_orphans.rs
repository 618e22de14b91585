//! No upstream child outlives the gateway: not after SIGTERM, not after SIGKILL.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // blocking harness threads on the wall clock, outside any runtime

mod common;

use common::*;
use std::time::{Duration, Instant};

/// Three stdio upstreams, plus a network upstream the gateway launches itself (as seed-004
/// registry servers are): that one never reads stdin, so only the parent-death signal can stop it
/// when the gateway is killed outright.
fn config() -> String {
    let port = free_port();
    format!(
        r#"
[servers.launched]
command = "node"
args = ["{js}", "sse"]
env = {{ PORT = "{port}" }}
url = "http://127.0.0.1:{port}/sse"
transport = "sse"

[servers.everything]
command = "node"
args = ["{js}", "stdio"]

[servers.time]
command = "{time}"

[servers.demo]
command = "{bin}"
args = ["demo-server"]
"#,
        js = everything_js().display(),
        time = time_server().display(),
        bin = switchboard_bin(),
    )
}

fn wait_gone(pids: &[u32], within: Duration) -> Vec<u32> {
    let deadline = Instant::now() + within;
    loop {
        let left: Vec<u32> = pids.iter().copied().filter(|p| alive(*p)).collect();
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stop_with(signal: nix::sys::signal::Signal) {
    let mut gw = Gateway::start("switchboard.toml", &config());
    let children = children_of(gw.pid());
    assert_eq!(children.len(), 4, "one child per upstream: {children:?}");
    assert!(children.iter().all(|p| alive(*p)));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(gw.pid() as i32), signal).unwrap();
    let status = gw.proc.child.wait().unwrap();
    let left = wait_gone(&children, Duration::from_secs(10));
    assert!(
        left.is_empty(),
        "children {left:?} outlived the gateway ({status:?})\n{}",
        gw.log()
    );
}

#[test]
fn children_die_after_sigterm() {
    needs_peers!();
    stop_with(nix::sys::signal::Signal::SIGTERM);
}

#[test]
fn children_die_after_sigkill() {
    needs_peers!();
    stop_with(nix::sys::signal::Signal::SIGKILL);
}
