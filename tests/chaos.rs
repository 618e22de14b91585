//! Chaos: clients call tools on two upstreams concurrently while one of them is killed (SIGKILL)
//! and restarted again and again. Every request gets exactly one answer, the healthy upstream
//! never fails a call, the victim recovers, and no process outlives the gateway.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // blocking harness threads on the wall clock, outside any runtime

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const CLIENTS: u64 = 6;
const CALLS: u64 = 60;
const KILLS: usize = 6;

/// `--tools 1` adds `tool_0`, which has no read-only annotation (never retried); the victim's
/// `--slow-ms` tells its process apart, and keeps calls in flight on it whenever it is killed
/// (with 1 ms a machine under load could land every kill between calls, and no kill was felt).
fn upstream(name: &str, flags: &str) -> String {
    format!(
        "[servers.{name}]\ncommand = \"{}\"\nargs = [\"fixture\", \"--tools\", \"1\"{flags}]\nbreaker = {{ open_for = \"1s\" }}\n",
        switchboard_bin()
    )
}

fn child_pids(gateway: u32) -> Vec<u32> {
    children_of(gateway)
}

/// The process serving the victim now, if any.
fn victim_pid(gateway: u32) -> Option<u32> {
    children_of(gateway).into_iter().find(|p| {
        alive(*p)
            && std::fs::read(format!("/proc/{p}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains("--slow-ms"))
    })
}

/// One client's work: `CALLS` requests alternating upstreams and tools; returns, per request,
/// its id and answer.
async fn client(url: String, n: u64) -> Vec<(u64, Value, &'static str)> {
    let mut c = RawClient::new(&url);
    c.initialize().await;
    let mut out = Vec::new();
    for i in 0..CALLS {
        let id = n * 1000 + i;
        let server = if i % 2 == 0 { "victim" } else { "steady" };
        let tool = if i % 4 < 2 { "echo" } else { "tool_0" };
        let msg = format!("{n}-{i}");
        let args = json!({ "message": msg });
        let r = c
            .request(
                id,
                "tools/call",
                json!({ "name": format!("{server}__{tool}"), "arguments": args }),
            )
            .await;
        out.push((id, r, server));
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_one_upstream_repeatedly_under_load() {
    let config = format!(
        "[gateway]\nrequest_timeout = \"20s\"\n\n{}{}",
        upstream("victim", ", \"--slow-ms\", \"40\""),
        upstream("steady", "")
    );
    let mut gw = Gateway::start("switchboard.toml", &config);
    let gateway_pid = gw.pid();
    let first = child_pids(gateway_pid);
    assert_eq!(first.len(), 2, "{first:?}");
    assert!(victim_pid(gateway_pid).is_some());
    let mut seen_children: HashSet<u32> = first.iter().copied().collect();

    let clients: Vec<_> = (1..=CLIENTS)
        .map(|n| tokio::spawn(client(gw.url.clone(), n)))
        .collect();
    // The killer: SIGKILL whatever process serves the victim now, wait a little, again.
    let stop = Arc::new(AtomicBool::new(false));
    let killer = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut killed = Vec::new();
            while killed.len() < KILLS && !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(250)).await;
                if let Some(p) = victim_pid(gateway_pid) {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(p as i32),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                    killed.push(p);
                }
            }
            killed
        })
    };
    let mut answers = Vec::new();
    for c in clients {
        answers.extend(c.await.unwrap());
    }
    stop.store(true, Ordering::Relaxed);
    let killed = killer.await.unwrap();
    assert!(
        killed.len() >= 3,
        "the victim was killed only {} times",
        killed.len()
    );
    seen_children.extend(killed.iter().copied());

    // Exactly one answer per request, under the request's own id.
    assert_eq!(answers.len() as u64, CLIENTS * CALLS);
    let ids: HashSet<u64> = answers.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(ids.len(), answers.len());
    let (mut victim_ok, mut victim_err) = (0, 0);
    for (id, r, server) in &answers {
        assert_eq!(r["id"], *id, "{r}");
        let has_result = r.get("result").is_some();
        let has_error = r.get("error").is_some();
        assert!(has_result ^ has_error, "exactly one of result/error: {r}");
        match (*server, has_result) {
            ("steady", true) => {}
            ("steady", false) => panic!("the healthy upstream failed a call: {r}\n{}", gw.log()),
            (_, true) => victim_ok += 1,
            (_, false) => {
                victim_err += 1;
                let msg = r["error"]["message"].as_str().unwrap_or_default();
                assert!(msg.contains("victim"), "the error names the server: {r}");
            }
        }
    }
    assert!(victim_err > 0, "the kills were felt");
    assert!(victim_ok > 0, "the victim answered between kills");

    // The victim recovers once the killing stops.
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let mut recovered = false;
    for i in 0..100 {
        let r = c
            .request(
                i,
                "tools/call",
                json!({ "name": "victim__tool_0", "arguments": { "message": "back" } }),
            )
            .await;
        if r["result"]["content"][0]["text"] == "back" {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the victim never came back\n{}", gw.log());
    let restarts = get_json(&format!("{}/servers", gw.base)).await["servers"][0]["restarts"]
        .as_u64()
        .unwrap();
    assert!(restarts >= 3, "restarts: {restarts}");

    // No orphans: every process the gateway ever started is gone once it stops.
    seen_children.extend(child_pids(gateway_pid));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(gateway_pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    gw.proc.child.wait().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut left: Vec<u32> = seen_children
        .iter()
        .copied()
        .filter(|p| alive(*p))
        .collect();
    while !left.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        left.retain(|p| alive(*p));
    }
    assert!(left.is_empty(), "orphans: {left:?}");
}
