//! Faults found by probing the gateway as an attacker and a careless operator would, each fixed
//! and kept fixed: a hung child with a full pipe, stderr that is not UTF-8, an oversized answer,
//! a call in the restart window, one crash under many calls, a start that fails first, `/route`
//! to a per-session server, the child environment.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // blocking harness threads on the wall clock, outside any runtime

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Poll `/servers` until `name`'s row satisfies `ok`, for at most `within`; the last row.
async fn wait_row(
    gw: &Gateway,
    name: &str,
    within: Duration,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let row = server_row(gw, name).await;
        if ok(&row) || Instant::now() > deadline {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn signal(pid: u32, sig: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_child_with_a_full_stdin_pipe_is_restarted() {
    let config = "[gateway]\nrequest_timeout = \"2s\"\n\n".to_string()
        + &fixture("stuck", "", "health_interval = \"1s\"\nretry = { max = 0 }");
    let gw = Gateway::start("switchboard.toml", &config);
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let before = children_of(gw.pid());
    assert_eq!(before.len(), 1);
    signal(before[0], nix::sys::signal::Signal::SIGSTOP);
    // 200 KB of arguments fill the pipe of a child that no longer reads.
    let big = "y".repeat(200_000);
    let r = c.request(1, "tools/call", echo("stuck", &big)).await;
    // Its deadline passes, or the health check finds the child hung first and restarts it.
    let reason = r["error"]["data"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason == "upstream_timeout" || reason == "upstream_crashed",
        "{r}"
    );
    let row = wait_row(&gw, "stuck", Duration::from_secs(30), |r| {
        r["restarts"].as_u64() >= Some(1) && r["state"] == "ready"
    })
    .await;
    assert_eq!(
        row["state"], "ready",
        "the stuck child was never restarted: {row}"
    );
    let after = children_of(gw.pid());
    assert!(
        !after.contains(&before[0]),
        "the stopped child is gone: {after:?}"
    );
    let r = c.request(2, "tools/call", echo("stuck", "back")).await;
    assert_eq!(r["result"]["content"][0]["text"], "back", "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stderr_that_is_not_utf8_leaves_the_child_alive() {
    let gw = Gateway::start(
        "switchboard.toml",
        &fixture("noisy", "--stderr-garbage", ""),
    );
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let child = children_of(gw.pid())[0];
    for i in 0..5 {
        let r = c.request(i, "tools/call", echo("noisy", "hi")).await;
        assert_eq!(r["result"]["content"][0]["text"], "hi", "call {i}: {r}");
    }
    assert!(alive(child), "the child died of its own stderr");
    assert_eq!(server_row(&gw, "noisy").await["restarts"], 0);
    let log = gw.log_with("\u{fffd}").await;
    assert!(log.contains("\u{fffd}"), "its lines are logged, lossily");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_over_the_message_limit_fails_its_call_at_once() {
    let config = "[gateway]\nrequest_timeout = \"30s\"\nmax_message_bytes = 4096\n\n".to_string()
        + &fixture("huge", "--huge-answer 100000", "retry = { max = 0 }");
    let gw = Gateway::start("switchboard.toml", &config);
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let started = Instant::now();
    let r = c.request(1, "tools/call", echo("huge", "x")).await;
    assert_eq!(r["error"]["data"]["reason"], "upstream_protocol", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_message_bytes"),
        "{r}"
    );
    // Not left to its 30 s deadline (a loose bound: this is a correctness check, not a benchmark).
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_in_the_restart_window_waits_for_the_restart() {
    // The first call crashes the child; the next one, sent at once, was never sent anywhere:
    // it waits for the restarted child instead of failing "not connected". Retries are off,
    // so it is the waiting that carries it.
    let config = "[gateway]\nrequest_timeout = \"20s\"\n\n".to_string()
        + &fixture("phoenix", "--crash-after 1", "retry = { max = 0 }");
    let gw = Gateway::start("switchboard.toml", &config);
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let r = c.request(1, "tools/call", echo("phoenix", "first")).await;
    assert_eq!(r["error"]["data"]["reason"], "upstream_crashed", "{r}");
    // --crash-after 1 crashes on every first call of a process: the second call reaches the
    // restarted child, which crashes in turn; what matters is that it reached it.
    let r = c.request(2, "tools/call", echo("phoenix", "second")).await;
    assert_ne!(r["error"]["data"]["reason"], "upstream_unavailable", "{r}");
    assert_eq!(
        r["error"]["data"]["reason"], "upstream_crashed",
        "it reached the new child: {r}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_crash_under_sixteen_calls_is_one_breaker_fault() {
    let config = "[gateway]\nrequest_timeout = \"20s\"\n\n".to_string()
        + &fixture(
            "busy",
            "--hang",
            "retry = { max = 0 }\nbreaker = { failures = 5 }",
        );
    let gw = Gateway::start("switchboard.toml", &config);
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let c = std::sync::Arc::new(c);
    let calls: Vec<_> = (0..16)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.request(i, "tools/call", echo("busy", "x")).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await; // all sixteen in flight
    signal(children_of(gw.pid())[0], nix::sys::signal::Signal::SIGKILL);
    for call in calls {
        let r = call.await.unwrap();
        assert_eq!(r["error"]["data"]["reason"], "upstream_crashed", "{r}");
    }
    let row = wait_row(&gw, "busy", Duration::from_secs(10), |r| {
        r["state"] == "ready"
    })
    .await;
    assert_eq!(
        row["breaker"], "closed",
        "one crash opened the breaker: {row}"
    );
    assert_eq!(row["state"], "ready", "{row}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_that_comes_up_late_is_found() {
    let port = free_port();
    let config = format!(
        "[gateway]\nready_minimum = 0\n\n[servers.late]\nurl = \"http://127.0.0.1:{port}/mcp\"\n"
    );
    let gw = Gateway::start("switchboard.toml", &config);
    let row = server_row(&gw, "late").await;
    assert_eq!(row["state"], "failed", "{row}");
    assert!(
        row["next_try_in_ms"].is_u64(),
        "/servers says when it is tried again: {row}"
    );
    let _late = Proc {
        child: std::process::Command::new(switchboard_bin())
            .args(["fixture", "--http", &format!("127.0.0.1:{port}")])
            .spawn()
            .unwrap(),
    };
    let row = wait_row(&gw, "late", Duration::from_secs(40), |r| r["tools"] == 1).await;
    assert_eq!(row["state"], "ready", "{row}");
    assert_eq!(row["tools"], 1, "its tools are in the catalog now: {row}");
    let ready = reqwest::get(format!("{}/ready", gw.base)).await.unwrap();
    assert_eq!(ready.status(), 200);
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let r = c.request(1, "tools/call", echo("late", "found")).await;
    assert_eq!(r["result"]["content"][0]["text"], "found", "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_to_a_per_session_server_leaves_no_child_behind() {
    let config = format!(
        "[servers.math]\ncommand = \"{}\"\nargs = [\"demo-server\", \"--kit\", \"math\"]\nisolation = \"per-session\"\n",
        switchboard_bin()
    );
    let gw = Gateway::start("switchboard.toml", &config);
    let baseline = children_of(gw.pid()).len();
    for _ in 0..5 {
        let r = post_json(
            &format!("{}/route", gw.base),
            &json!({ "prompt": "add two numbers", "tool": "add", "arguments": { "a": 1, "b": 2 } }),
        )
        .await;
        assert_eq!(r["result"]["content"][0]["text"], "3", "{r}");
    }
    let mut left = children_of(gw.pid()).len();
    for _ in 0..50 {
        if left == baseline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = children_of(gw.pid()).len();
    }
    assert_eq!(left, baseline, "a /route left a per-session child running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn children_get_a_clean_environment_unless_told_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let entry = |name: &str, extra: &str| {
        let out = dir.path().join(format!("{name}.env"));
        format!(
            "[servers.{name}]\ncommand = \"sh\"\nargs = [\"-c\", \"env > {} && exec {} fixture\"]\nenv = {{ GIVEN = \"yes\" }}\n{extra}\n",
            out.display(),
            switchboard_bin()
        )
    };
    let config = entry("clean", "") + &entry("inherits", "inherit_env = true");
    let gw = Gateway::start_env(
        "switchboard.toml",
        &config,
        &[("SB_TEST_SECRET", "hunter2")],
    );
    let read =
        |name: &str| std::fs::read_to_string(dir.path().join(format!("{name}.env"))).unwrap();
    let clean = read("clean");
    assert!(
        !clean.contains("hunter2"),
        "a secret of the gateway's reached the child:\n{clean}"
    );
    assert!(
        clean.contains("GIVEN=yes") && clean.contains("PATH="),
        "{clean}"
    );
    assert!(read("inherits").contains("SB_TEST_SECRET=hunter2"));
    drop(gw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_starting_stateless_upstream_is_spoken_to_in_its_revision() {
    needs_peers!();
    // It answers nothing for six seconds: longer than the probe's wait, well within the
    // startup timeout. Its late server/discover answer must win over the initialize asked
    // meanwhile (which a 2026-07-28 server refuses).
    let config = format!(
        "[servers.time]\ncommand = \"sh\"\nargs = [\"-c\", \"sleep 6; exec {}\"]\n",
        time_server().display()
    );
    let gw = Gateway::start("switchboard.toml", &config);
    let row = server_row(&gw, "time").await;
    assert_eq!(row["state"], "ready", "{row}\n{}", gw.log());
    assert_eq!(row["protocol"], "2026-07-28", "{row}");
    assert!(row["tools"].as_u64() >= Some(1), "{row}");
}
