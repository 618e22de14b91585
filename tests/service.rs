//! Running as a service, end to end with real upstreams (mcp-server-time, server-everything) and
//! the fixture: a reload applied as a diff from each trigger (the file changing, SIGHUP,
//! `POST /admin/reload`) keeps sessions and unchanged children, starts added servers (clients
//! are told), stops removed ones, applies a changed timeout; broken edits leave the running
//! configuration serving and say why in `/servers`; calls in flight across reloads that replace
//! their upstream all get their answer; SIGTERM lets a long call finish, then no child is left.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // blocking harness threads on the wall clock, outside any runtime

mod common;

use common::*;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn signal(pid: u32, sig: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig).unwrap();
}

/// `/servers`' `config` once `ok` holds of it (or as it is after 20 s).
async fn config_status(gw: &Gateway, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = get_json(&format!("{}/servers", gw.base)).await["config"].clone();
        if ok(&status) || Instant::now() > deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Write the gateway's configuration file anew (as an editor would: a new file renamed over it).
fn rewrite(gw: &Gateway, config: &str) {
    let tmp = gw.dir().join("switchboard.toml.new");
    std::fs::write(&tmp, config).unwrap();
    std::fs::rename(&tmp, gw.dir().join("switchboard.toml")).unwrap();
}

/// The session's standalone stream (GET), read in the background: what it has said so far.
fn listen(c: &RawClient) -> Arc<Mutex<String>> {
    let heard = Arc::new(Mutex::new(String::new()));
    let req = c
        .http
        .get(&c.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", c.session.clone().unwrap())
        .header("mcp-protocol-version", "2025-11-25");
    let sink = heard.clone();
    tokio::spawn(async move {
        let mut resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200);
        while let Ok(Some(chunk)) = resp.chunk().await {
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&chunk));
        }
    });
    heard
}

async fn tools(c: &RawClient, id: u64) -> Vec<String> {
    let list = c.request(id, "tools/list", json!({})).await;
    tool_names(&list).iter().map(|s| s.to_string()).collect()
}

fn pid_of(servers: &Value, name: &str) -> Option<u64> {
    servers["servers"]
        .as_array()?
        .iter()
        .find(|s| s["server"] == name)?["pid"]
        .as_u64()
}

fn time_entry() -> String {
    format!(
        "[servers.time]\ncommand = \"{}\"\n",
        time_server().display()
    )
}

fn everything_entry() -> String {
    format!(
        "[servers.everything]\ncommand = \"node\"\nargs = [\"{}\", \"stdio\"]\n",
        everything_js().display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_is_applied_as_a_diff_from_every_trigger() {
    needs_peers!();
    let slow = fixture("slow", "--slow-ms 1500", "");
    let first = format!("{}\n{slow}", time_entry());
    let gw = Gateway::start("switchboard.toml", &first);
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let heard = listen(&c);
    let session = c.session.clone();
    let before = get_json(&format!("{}/servers", gw.base)).await;
    let time_pid = pid_of(&before, "time").expect("the time server's pid");
    let slow_pid = pid_of(&before, "slow").expect("the fixture's pid");
    let echo = json!({"name": "slow__echo", "arguments": {"message": "hi"}});
    let answer = c.request(1, "tools/call", echo.clone()).await;
    assert!(answer["result"].is_object(), "{answer}");

    // The file: add everything, shorten the fixture's timeout below its delay.
    let slow_1s = fixture("slow", "--slow-ms 1500", "request_timeout = \"1s\"");
    rewrite(
        &gw,
        &format!("{}\n{slow_1s}\n{}", time_entry(), everything_entry()),
    );
    let status = config_status(&gw, |s| s["reloads"] == 1).await;
    assert_eq!(status["last_error"], Value::Null, "{status}");
    let after = get_json(&format!("{}/servers", gw.base)).await;
    assert_eq!(
        pid_of(&after, "time"),
        Some(time_pid),
        "an unchanged server kept its child"
    );
    assert_eq!(
        pid_of(&after, "slow"),
        Some(slow_pid),
        "a timeout change keeps the child"
    );
    let everything_pid = pid_of(&after, "everything").expect("the added server runs");
    assert_eq!(c.session, session);
    let names = tools(&c, 2).await;
    assert!(names.iter().any(|n| n == "everything__echo"), "{names:?}");
    assert!(
        names.iter().any(|n| n == "time__get_current_time"),
        "{names:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !heard
        .lock()
        .unwrap()
        .contains("notifications/tools/list_changed")
    {
        assert!(
            Instant::now() < deadline,
            "no list_changed: {}",
            heard.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let timed_out = c.request(3, "tools/call", echo.clone()).await;
    let reason = timed_out["error"]["data"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(
        ["upstream_timeout", "elapsed"].contains(&reason),
        "the new timeout applies: {timed_out}"
    );
    let now = c
        .request(
            4,
            "tools/call",
            json!({"name": "time__get_current_time", "arguments": {"timezone": "UTC"}}),
        )
        .await;
    assert!(now["result"].is_object(), "the session works on: {now}");

    // SIGHUP: remove everything; its child is gone once drained.
    std::fs::write(
        gw.dir().join("switchboard.toml"),
        format!("{}\n{slow}", time_entry()),
    )
    .unwrap();
    // Written in place and signalled at once: whichever trigger sees it first applies it, and
    // the other finds nothing new (the content is what was applied).
    signal(gw.pid(), nix::sys::signal::Signal::SIGHUP);
    let status = config_status(&gw, |s| s["reloads"].as_u64() >= Some(2)).await;
    assert!(status["reloads"].as_u64() >= Some(2), "{status}");
    let log = gw.log_with("trigger=\"SIGHUP\"").await;
    assert!(log.contains("trigger=\"SIGHUP\""), "SIGHUP did not reload");
    let deadline = Instant::now() + Duration::from_secs(15);
    while alive(everything_pid as u32) {
        assert!(
            Instant::now() < deadline,
            "the removed server's child is still running"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let names = tools(&c, 5).await;
    assert!(
        !names.iter().any(|n| n.starts_with("everything__")),
        "{names:?}"
    );
    let servers = get_json(&format!("{}/servers", gw.base)).await;
    assert_eq!(pid_of(&servers, "time"), Some(time_pid));

    // Broken edits, through the admin endpoint: each is refused, named, and changes nothing.
    let http = reqwest::Client::new();
    let broken = [
        (
            "[servers.time\ncommand = \"x\"\n".to_string(),
            "switchboard.toml",
        ),
        (format!("{}surprise = 1\n", time_entry()), "surprise"),
        (
            format!(
                "{}keywords = []\npatterns = [\"(unclosed\"]\n",
                time_entry()
            ),
            "patterns",
        ),
    ];
    for (text, named) in &broken {
        std::fs::write(gw.dir().join("switchboard.toml"), text).unwrap();
        let r = http
            .post(format!("{}/admin/reload", gw.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let body: Value = r.json().await.unwrap();
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains(named), "{named}: {body}");
        let status = config_status(&gw, |s| s["last_error"].is_string()).await;
        assert!(
            status["last_error"]
                .as_str()
                .unwrap_or_default()
                .contains(named),
            "{status}"
        );
        let now = c
            .request(
                6,
                "tools/call",
                json!({"name": "time__get_current_time", "arguments": {"timezone": "UTC"}}),
            )
            .await;
        assert!(
            now["result"].is_object(),
            "the old configuration serves on: {now}"
        );
    }
    let (scrape, _) = metrics(&gw).await;
    let rejected: f64 = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "switchboard_config_reloads_total")
        .filter(|s| s.labels.get("result") == Some("rejected"))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum();
    assert!(rejected >= 3.0, "{rejected}");
    // A good file again: applied, and the error is gone.
    rewrite(&gw, &format!("{}\n{slow}", time_entry()));
    let status = config_status(&gw, |s| s["last_error"].is_null()).await;
    assert!(status["last_error"].is_null(), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_in_flight_across_reloads_that_replace_their_upstream_all_get_answers() {
    let config = |n: usize| {
        format!(
            "[gateway]\nwatch = false\n\n{}",
            fixture("slow", &format!("--slow-ms 200 --tools {n}"), "")
        )
    };
    let gw = Gateway::start("switchboard.toml", &config(1));
    let url = gw.url.clone();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..4 {
        let (url, stop) = (url.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut c = RawClient::new(&url);
            c.initialize().await;
            let (mut sent, mut answered) = (0u64, 0u64);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                sent += 1;
                let message = format!("{w}-{sent}");
                let a = c
                    .request(
                        sent,
                        "tools/call",
                        json!({"name": "slow__echo", "arguments": {"message": message}}),
                    )
                    .await;
                let text = a["result"]["content"][0]["text"]
                    .as_str()
                    .unwrap_or_default();
                assert_eq!(text, message, "worker {w}, call {sent}: {a}");
                answered += 1;
            }
            (sent, answered)
        }));
    }
    let http = reqwest::Client::new();
    let mut pids = Vec::new();
    for round in 0..3 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        pids.push(pid_of(
            &get_json(&format!("{}/servers", gw.base)).await,
            "slow",
        ));
        std::fs::write(gw.dir().join("switchboard.toml"), config(round + 2)).unwrap();
        let r = http
            .post(format!("{}/admin/reload", gw.base))
            .send()
            .await
            .unwrap();
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["applied"]["replaced"], json!(["slow"]), "{body}");
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut sent, mut answered) = (0, 0);
    for w in workers {
        let (s, a) = w.await.unwrap();
        sent += s;
        answered += a;
    }
    assert_eq!(sent, answered);
    assert!(sent >= 12, "too little load to say anything: {sent}");
    pids.push(pid_of(
        &get_json(&format!("{}/servers", gw.base)).await,
        "slow",
    ));
    pids.dedup();
    assert_eq!(pids.len(), 4, "each reload replaced the child: {pids:?}");
    // The replaced children are gone once drained.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for pid in &pids[..3] {
        assert!(
            !alive(pid.unwrap() as u32),
            "a replaced child is still running: {pids:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_long_call_finish_then_stops_every_child() {
    let config = format!(
        "[gateway]\ndrain_timeout = \"10s\"\n\n{}",
        fixture("slow", "--slow-ms 2000", "")
    );
    let gw = Gateway::start("switchboard.toml", &config);
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let heard = listen(&c);
    let children = children_of(gw.pid());
    assert!(!children.is_empty());
    let call = tokio::spawn(async move {
        c.request(
            1,
            "tools/call",
            json!({"name": "slow__echo", "arguments": {"message": "late"}}),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let sent_at = Instant::now();
    signal(gw.pid(), nix::sys::signal::Signal::SIGTERM);
    let answer = call.await.unwrap();
    assert_eq!(answer["result"]["content"][0]["text"], "late", "{answer}");
    // The standalone stream was closed with a last event saying when to come back.
    assert!(
        heard.lock().unwrap().contains("retry: 3000"),
        "{}",
        heard.lock().unwrap()
    );
    let mut gw = gw;
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = gw.proc.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the gateway did not exit");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    assert!(
        sent_at.elapsed() < Duration::from_secs(10),
        "exited within the grace period"
    );
    for pid in children {
        assert!(!alive(pid), "child {pid} outlived the gateway");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switchboard_health_is_what_probes_run() {
    let gw = Gateway::start("switchboard.toml", &fixture("up", "", ""));
    let health = |args: &[&str]| {
        std::process::Command::new(switchboard_bin())
            .arg("health")
            .args(args)
            .output()
            .unwrap()
    };
    let alive = health(&["--url", &gw.base]);
    assert!(
        alive.status.success(),
        "{}",
        String::from_utf8_lossy(&alive.stderr)
    );
    assert!(String::from_utf8_lossy(&alive.stdout).contains("ok"));
    let ready = health(&["--ready", "--url", &gw.base]);
    assert!(
        ready.status.success(),
        "{}",
        String::from_utf8_lossy(&ready.stderr)
    );
    let nobody = health(&["--url", &format!("127.0.0.1:{}", free_port())]);
    assert!(!nobody.status.success());
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("no gateway answers"));
}
