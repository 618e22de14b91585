//! Soak: mixed load with faults for a while (`SOAK_SECONDS`, default 600), then the count.
//! Run with: `cargo bench --bench soak` (outside CI; it takes ten minutes).
//!
//! Load: session clients and stateless (2026-07-28) clients calling healthy, crashing, garbage-
//! writing, slow, HTTP and per-session upstreams; clients that vanish mid-request. Faults: one
//! child SIGKILLed, one stopped and continued, every few seconds. Reported: requests sent and
//! answered (each id exactly once), duplicates, RSS after warm-up and at the end, open file
//! descriptors and child processes, and whether any child outlives the gateway.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // blocking harness threads on the wall clock, outside any runtime

use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;
use common::{bin, status_kb, Proc};

fn spawn_listening(args: &[&str], config: Option<&str>) -> (Proc, String) {
    common::spawn_listening(args, config, "error,switchboard::cli=info")
}

fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// Every descendant of `pid`.
fn descendants(pid: u32) -> Vec<u32> {
    let mut parents: HashMap<u32, u32> = HashMap::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        if after.starts_with('Z') {
            continue;
        }
        parents.insert(p, after.split(' ').nth(1).unwrap().parse().unwrap());
    }
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parents.iter().filter(|(_, pp)| **pp == p).map(|(c, _)| *c));
        i += 1;
    }
    out.remove(0);
    out
}

#[derive(Default)]
struct Counts {
    sent: AtomicU64,
    answered: AtomicU64,
    duplicates: AtomicU64,
    lost: AtomicU64,
    ok: AtomicU64,
    errors: parking_lot::Mutex<HashMap<String, u64>>,
}

const SERVERS: &[&str] = &["steady", "victim", "noisy", "slow", "web", "private"];

/// One session client: initialize, then calls until `until`, checking each answer's id.
async fn session_client(url: String, n: u64, until: Instant, counts: Arc<Counts>) {
    let http = reqwest::Client::new();
    let post = |body: Value, sid: Option<String>| {
        let mut r = http
            .post(&url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json");
        if let Some(s) = sid {
            r = r
                .header("mcp-session-id", s)
                .header("mcp-protocol-version", "2025-11-25");
        }
        r.body(body.to_string()).send()
    };
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"soak","version":"0"}}});
    let Ok(resp) = post(init, None).await else {
        return;
    };
    let Some(sid) = resp
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_string())
    else {
        return;
    };
    let _ = post(
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
        Some(sid.clone()),
    )
    .await;
    let mut id = n * 1_000_000;
    while Instant::now() < until {
        id += 1;
        let server = SERVERS[(id as usize) % SERVERS.len()];
        let call = json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":format!("{server}__echo"),"arguments":{"message":"soak"}}});
        counts.sent.fetch_add(1, Ordering::Relaxed);
        let text = match post(call, Some(sid.clone())).await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        tally(&counts, id, &text);
    }
}

/// Count the answers to `id` in a JSON or SSE body: exactly one is right.
fn tally(counts: &Counts, id: u64, text: &str) {
    let answers: Vec<Value> = text
        .lines()
        .map(|l| l.strip_prefix("data: ").unwrap_or(l))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["id"] == id && (v.get("result").is_some() || v.get("error").is_some()))
        .collect();
    match answers.len() {
        0 => {
            counts.lost.fetch_add(1, Ordering::Relaxed);
        }
        n => {
            counts.answered.fetch_add(1, Ordering::Relaxed);
            counts.duplicates.fetch_add(n as u64 - 1, Ordering::Relaxed);
            let a = &answers[0];
            let reason = match (&a["error"], &a["result"]["isError"]) {
                (Value::Null, Value::Bool(true)) => Some("tool error result".to_string()),
                (Value::Null, _) => None,
                (e, _) => Some(
                    e["data"]["reason"]
                        .as_str()
                        .map_or_else(|| format!("code {}", e["code"]), str::to_string),
                ),
            };
            match reason {
                Some(reason) => *counts.errors.lock().entry(reason).or_default() += 1,
                None => {
                    counts.ok.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

/// A client that starts a slow call and goes away before the answer.
async fn vanishing_client(url: String, until: Instant) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(20))
        .build()
        .unwrap();
    let meta = json!({"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}});
    while Instant::now() < until {
        let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow__echo","arguments":{"message":"bye"},"_meta":meta}});
        let _ = http
            .post(&url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", "slow__echo")
            .body(body.to_string())
            .send()
            .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn config(web: &str) -> String {
    let fx = |name: &str, flags: &str, extra: &str| {
        let args: Vec<String> = std::iter::once("fixture".to_string())
            .chain(flags.split_whitespace().map(str::to_string))
            .collect();
        format!(
            "[servers.{name}]\ncommand = \"{}\"\nargs = {}\nhealth_interval = \"2s\"\n{extra}\n",
            bin(),
            serde_json::to_string(&args).unwrap()
        )
    };
    "[gateway]\nrequest_timeout = \"5s\"\nmax_sessions = 200\n\n".to_string()
        + &fx("steady", "", "")
        + &fx("victim", "--crash-after 200", "")
        + &fx("noisy", "--garbage --stderr-garbage", "")
        + &fx("slow", "--slow-ms 20", "")
        + &fx("private", "", "isolation = \"per-session\"")
        + &format!("[servers.web]\nurl = \"{web}\"\n")
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let seconds: u64 = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let warmup = Duration::from_secs((seconds / 10).clamp(5, 60));
    let (_web, web_url) = spawn_listening(&["fixture", "--http", "127.0.0.1:0"], None);
    let (gw, url) = spawn_listening(
        &["serve", "--listen", "127.0.0.1:0"],
        Some(&config(&web_url)),
    );
    let pid = gw.0.id();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let counts = Arc::new(Counts::default());
    let start = Instant::now();
    let until = start + Duration::from_secs(seconds);
    let mut samples = Vec::new();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for n in 0..8 {
            tasks.push(tokio::spawn(session_client(
                url.clone(),
                n,
                until,
                counts.clone(),
            )));
        }
        if knob("SOAK_VANISH") {
            tasks.push(tokio::spawn(vanishing_client(url.clone(), until)));
        }
        let faults = knob("SOAK_FAULTS");
        let mut tick = 0u64;
        while Instant::now() < until {
            tokio::time::sleep(Duration::from_secs(1)).await;
            tick += 1;
            let kids = descendants(pid);
            if faults && tick.is_multiple_of(7) {
                if let Some(&k) = kids.get(tick as usize % kids.len().max(1)) {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(k as i32),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
            }
            if faults && tick.is_multiple_of(11) {
                if let Some(&k) = kids.first() {
                    let k = nix::unistd::Pid::from_raw(k as i32);
                    let _ = nix::sys::signal::kill(k, nix::sys::signal::Signal::SIGSTOP);
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    let _ = nix::sys::signal::kill(k, nix::sys::signal::Signal::SIGCONT);
                }
            }
            samples.push((
                start.elapsed(),
                status_kb(pid, "VmRSS:"),
                fds(pid),
                descendants(pid).len(),
            ));
        }
        for t in tasks {
            let _ = t.await;
        }
    });
    tokio_settle();
    let after_warmup = samples
        .iter()
        .find(|s| s.0 >= warmup)
        .copied()
        .unwrap_or(samples[0]);
    let end = (
        start.elapsed(),
        status_kb(pid, "VmRSS:"),
        fds(pid),
        descendants(pid).len(),
    );
    let sessions_left = rt.block_on(async {
        let servers = url.replace("/mcp", "/servers");
        let v: Value = reqwest::get(servers).await.unwrap().json().await.unwrap();
        v["sessions"].clone()
    });
    let kids_before_stop = descendants(pid);
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    std::thread::sleep(Duration::from_secs(8));
    let orphans: Vec<u32> = kids_before_stop
        .into_iter()
        .filter(|k| std::path::Path::new(&format!("/proc/{k}")).exists())
        .collect();
    let c = &counts;
    let sent = c.sent.load(Ordering::Relaxed);
    let answered = c.answered.load(Ordering::Relaxed);
    println!(
        "soak: {seconds} s, 8 session clients{}, {}",
        if knob("SOAK_VANISH") {
            " + 1 vanishing client"
        } else {
            ""
        },
        if knob("SOAK_FAULTS") {
            "faults every 7 s (SIGKILL) and 11 s (SIGSTOP 3 s)"
        } else {
            "no faults"
        }
    );
    println!(
        "requests sent {sent}, answered {answered} (ok {}), unanswered {}, duplicate answers {}",
        c.ok.load(Ordering::Relaxed),
        c.lost.load(Ordering::Relaxed),
        c.duplicates.load(Ordering::Relaxed)
    );
    let mut errors: Vec<_> = c
        .errors
        .lock()
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    errors.sort();
    println!("error answers by reason: {errors:?}");
    let growth = (end.1 as f64 - after_warmup.1 as f64) / after_warmup.1.max(1) as f64 * 100.0;
    println!(
        "RSS after warm-up ({:?}) {} KB, at the end {} KB ({growth:+.1}%)",
        after_warmup.0, after_warmup.1, end.1
    );
    println!(
        "open fds after warm-up {}, at the end {}; child processes {} -> {}",
        after_warmup.2, end.2, after_warmup.3, end.3
    );
    println!("children alive 8 s after SIGTERM: {}", orphans.len());
    let mut per_minute: Vec<String> = Vec::new();
    let mut minute = None;
    for s in &samples {
        if minute != Some(s.0.as_secs() / 60) {
            minute = Some(s.0.as_secs() / 60);
            per_minute.push(format!("{} s: {} KB", s.0.as_secs(), s.1));
        }
    }
    println!("RSS by minute: {}", per_minute.join(", "));
    println!("sessions at the end: {sessions_left}");
    drop(gw);
}

/// An on/off switch from the environment, on unless set to `0` (to find what a change in RSS
/// comes from: `SOAK_FAULTS=0`, `SOAK_VANISH=0`).
fn knob(name: &str) -> bool {
    std::env::var(name).map_or(true, |v| v != "0")
}

/// Give the gateway a moment to finish what the last clients left.
fn tokio_settle() {
    std::thread::sleep(Duration::from_secs(2));
}
