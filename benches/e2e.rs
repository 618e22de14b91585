//! End-to-end load harness: the gateway against the same fixture upstream reached directly, in one
//! run. Run with: `cargo bench --bench e2e` (`E2E_SECONDS=N` sets the time per measurement).
//!
//! Measures tools/call throughput and latency at concurrency 1, 16 and 64 over streamable HTTP
//! (JSON answers) and with a stdio upstream; tools/list latency over 50 upstreams x 100 tools;
//! gateway RSS idle and with 10,000 idle sessions. Prints a table with gateway/direct ratios, and
//! (when Debian's nginx is installed) a table against nginx as a bare reverse-proxy hop in front
//! of the same fixture, interleaved in the same run: one shared session, a session per
//! connection, stateless 2026-07-28 clients, SSE answers, a stdio upstream.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // blocking harness threads on the wall clock, outside any runtime

use serde_json::{json, Value};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

mod common;
use common::{bin, rss_kb, Proc};

/// Start `switchboard ARGS` and wait for it to listen, logging warnings only.
fn spawn_listening(args: &[&str], config: Option<&str>) -> (Proc, String) {
    common::spawn_listening(args, config, "warn,switchboard::cli=info")
}

/// Latency samples (µs) and how long they took.
struct Run {
    samples: Vec<u32>,
    elapsed: Duration,
}

impl Run {
    fn rps(&self) -> f64 {
        self.samples.len() as f64 / self.elapsed.as_secs_f64()
    }
    fn pct(&self, p: f64) -> u32 {
        let mut s = self.samples.clone();
        s.sort_unstable();
        s.get(((s.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0)
    }
}

async fn mcp_session(client: &reqwest::Client, url: &str) -> Option<String> {
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"e2e","version":"0"}}});
    let r = client
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(init.to_string())
        .send()
        .await
        .expect("initialize");
    let sid = r
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_string());
    let _ = r.bytes().await;
    let mut note = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(json!({"jsonrpc":"2.0","method":"notifications/initialized"}).to_string());
    if let Some(s) = &sid {
        note = note.header("mcp-session-id", s);
    }
    let _ = note.send().await;
    sid
}

/// What kind of client a load run uses.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Each connection its own session.
    PerConnection,
    /// One session, opened first, shared by every connection.
    Shared,
    /// 2026-07-28: no session, the envelope in `_meta`, mirrored headers.
    Stateless,
    /// Each connection its own session, accepting only event-stream answers.
    Sse,
}

/// `concurrency` clients, each on its own connection and session, calling `method` for `time`.
async fn load_http(
    url: &str,
    method: &str,
    params: Value,
    concurrency: usize,
    time: Duration,
) -> Run {
    load(url, method, params, concurrency, time, Mode::PerConnection).await
}

/// The same with 2026-07-28 clients: no session, the envelope in `_meta`, mirrored headers.
async fn load_modern(
    url: &str,
    method: &str,
    mut params: Value,
    concurrency: usize,
    time: Duration,
) -> Run {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    load(url, method, params, concurrency, time, Mode::Stateless).await
}

async fn load(
    url: &str,
    method: &str,
    params: Value,
    concurrency: usize,
    time: Duration,
    mode: Mode,
) -> Run {
    let modern = mode == Mode::Stateless;
    let shared = match mode {
        Mode::Shared => mcp_session(&reqwest::Client::new(), url).await,
        _ => None,
    };
    let accept = match mode {
        Mode::Sse => "text/event-stream",
        _ => "application/json, text/event-stream",
    };
    let name = params["name"].as_str().unwrap_or_default().to_string();
    let method = method.to_string();
    let body = bytes::Bytes::from(
        json!({"jsonrpc":"2.0","id":1,"method":method,"params":params}).to_string(),
    );
    let start = Instant::now();
    let workers = (0..concurrency).map(|_| {
        let (url, body) = (url.to_string(), body.clone());
        let (method, name, shared) = (method.clone(), name.clone(), shared.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .tcp_nodelay(true)
                .build()
                .unwrap();
            let sid = match mode {
                Mode::Stateless => None,
                Mode::Shared => shared,
                _ => mcp_session(&client, &url).await,
            };
            let mut samples = Vec::new();
            let deadline = Instant::now() + time;
            while Instant::now() < deadline {
                let t = Instant::now();
                let mut req = client
                    .post(&url)
                    .header("accept", accept)
                    .header("content-type", "application/json");
                req = match modern {
                    true => req
                        .header("mcp-protocol-version", "2026-07-28")
                        .header("mcp-method", method.as_str())
                        .header("mcp-name", name.as_str()),
                    false => req.header("mcp-protocol-version", "2025-11-25"),
                };
                if let Some(s) = &sid {
                    req = req.header("mcp-session-id", s);
                }
                let r = req.body(body.clone()).send().await.expect("request");
                let b = r.bytes().await.expect("body");
                let answer = match mode {
                    Mode::Sse => b.windows(8).any(|w| w == b"\"result\""),
                    _ => b.starts_with(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\""),
                };
                assert!(answer, "{}", String::from_utf8_lossy(&b));
                samples.push(t.elapsed().as_micros() as u32);
            }
            samples
        })
    });
    let mut samples = Vec::new();
    for w in futures::future::join_all(workers).await {
        samples.extend(w.unwrap());
    }
    Run {
        samples,
        elapsed: start.elapsed(),
    }
}

/// Direct to a stdio fixture: `concurrency` requests in flight on one pipe, matched by id.
async fn load_stdio(concurrency: usize, time: Duration) -> Run {
    let mut child = tokio::process::Command::new(bin())
        .arg("fixture")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let pending: Arc<dashmap::DashMap<u64, tokio::sync::oneshot::Sender<()>>> =
        Arc::new(dashmap::DashMap::new());
    let reader_pending = pending.clone();
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let v: Value = serde_json::from_str(&line).unwrap();
            if let Some(id) = v["id"].as_u64() {
                if let Some((_, tx)) = reader_pending.remove(&id) {
                    let _ = tx.send(());
                }
            }
        }
    });
    let (wtx, mut wrx) = tokio::sync::mpsc::channel::<Vec<u8>>(1024);
    tokio::spawn(async move {
        while let Some(m) = wrx.recv().await {
            stdin.write_all(&m).await.unwrap();
            // Write what is queued before flushing, as a gateway's writer does.
            while let Ok(m) = wrx.try_recv() {
                stdin.write_all(&m).await.unwrap();
            }
            stdin.flush().await.unwrap();
        }
    });
    let ids = Arc::new(std::sync::atomic::AtomicU64::new(1));
    let start = Instant::now();
    let workers = (0..concurrency).map(|_| {
        let (wtx, pending, ids) = (wtx.clone(), pending.clone(), ids.clone());
        tokio::spawn(async move {
            let mut samples = Vec::new();
            let deadline = Instant::now() + time;
            while Instant::now() < deadline {
                let id = ids.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let (tx, rx) = tokio::sync::oneshot::channel();
                pending.insert(id, tx);
                let msg = format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/call\",\"params\":{{\"name\":\"echo\",\"arguments\":{{\"message\":\"hello benchmark\"}}}}}}\n");
                let t = Instant::now();
                wtx.send(msg.into_bytes()).await.unwrap();
                rx.await.unwrap();
                samples.push(t.elapsed().as_micros() as u32);
            }
            samples
        })
    });
    let mut samples = Vec::new();
    for w in futures::future::join_all(workers).await {
        samples.extend(w.unwrap());
    }
    let elapsed = start.elapsed();
    drop(child);
    Run { samples, elapsed }
}

fn row(label: &str, direct: &Run, gateway: &Run) {
    println!(
        "| {label:<22} | {:>9.0} | {:>9.0} | {:>5.2} | {:>5} / {:>5} / {:>6} | {:>5} / {:>5} / {:>6} |",
        direct.rps(),
        gateway.rps(),
        gateway.rps() / direct.rps(),
        direct.pct(0.5),
        direct.pct(0.9),
        direct.pct(0.99),
        gateway.pct(0.5),
        gateway.pct(0.9),
        gateway.pct(0.99),
    );
}

/// The CPUs this machine gives (nginx gets as many worker processes as the gateway threads).
fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// One row of the nginx table: a target's runs at c = 1, 16, 64.
struct Line {
    label: &'static str,
    runs: [Run; 3],
}

/// The table of issue "as fast as a bare proxy hop": direct, nginx and the gateway's kinds of
/// client, interleaved per concurrency, with ratios to nginx.
async fn against_nginx(fixture: &str, nginx: &str, gw_http: &str, gw_stdio: &str, time: Duration) {
    let direct_args = json!({"name":"echo","arguments":{"message":"hello benchmark"}});
    let gw_args = json!({"name":"fx__echo","arguments":{"message":"hello benchmark"}});
    let mut modern_args = gw_args.clone();
    modern_args["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    let targets: [(&'static str, &str, &Value, Mode); 7] = [
        (
            "direct to the upstream",
            fixture,
            &direct_args,
            Mode::Shared,
        ),
        ("nginx, a bare L7 hop", nginx, &direct_args, Mode::Shared),
        (
            "switchboard, one shared session",
            gw_http,
            &gw_args,
            Mode::Shared,
        ),
        (
            "switchboard, session per connection",
            gw_http,
            &gw_args,
            Mode::PerConnection,
        ),
        (
            "switchboard, 2026-07-28 stateless",
            gw_http,
            &modern_args,
            Mode::Stateless,
        ),
        ("switchboard, SSE answers", gw_http, &gw_args, Mode::Sse),
        (
            "switchboard, stdio upstream",
            gw_stdio,
            &gw_args,
            Mode::PerConnection,
        ),
    ];
    let mut runs: Vec<Vec<Run>> = targets.iter().map(|_| Vec::new()).collect();
    // Interleaved: every target at one concurrency before the next concurrency.
    for c in [1usize, 16, 64] {
        for (i, (_, url, args, mode)) in targets.iter().enumerate() {
            runs[i].push(load(url, "tools/call", (*args).clone(), c, time, *mode).await);
        }
    }
    let lines: Vec<Line> = targets
        .iter()
        .zip(runs)
        .map(|((label, ..), r)| Line {
            label,
            runs: r.try_into().ok().expect("three runs"),
        })
        .collect();
    let (direct, hop) = (&lines[0].runs, &lines[1].runs);
    let hop_added = hop[0].pct(0.5) as i64 - direct[0].pct(0.5) as i64;
    println!(
        "\nagainst nginx ({} worker processes), tools/call, same fixture, same run\n",
        workers()
    );
    println!("| target | c=1 rps | c=1 p50 | added p50 | c=16 rps | c=64 rps | c=16 p99 | ratio to nginx c=16 / c=64 | added p50 / nginx's |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for l in &lines {
        let added = l.runs[0].pct(0.5) as i64 - direct[0].pct(0.5) as i64;
        println!(
            "| {} | {:.0} | {} µs | {} | {:.0} | {:.0} | {} µs | {:.2} / {:.2} | {} |",
            l.label,
            l.runs[0].rps(),
            l.runs[0].pct(0.5),
            if l.label.starts_with("direct") {
                "-".to_string()
            } else {
                format!("{added} µs")
            },
            l.runs[1].rps(),
            l.runs[2].rps(),
            l.runs[1].pct(0.99),
            l.runs[1].rps() / hop[1].rps(),
            l.runs[2].rps() / hop[2].rps(),
            if l.label.starts_with("direct") || hop_added <= 0 {
                "-".to_string()
            } else {
                format!("{:.2}x", added as f64 / hop_added as f64)
            },
        );
    }
    println!(
        "\np99 at c=16 over nginx's: {}",
        lines[2..]
            .iter()
            .map(|l| format!(
                "{} {:.2}x",
                l.label,
                l.runs[1].pct(0.99) as f64 / hop[1].pct(0.99).max(1) as f64
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
}

fn main() {
    // Only run when asked for this bench (`cargo bench` passes --bench; `cargo test` runs benches in test mode).
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let seconds: u64 = std::env::var("E2E_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let time = Duration::from_secs(seconds);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let (_fixture, fixture_url) = spawn_listening(&["fixture", "--http", "127.0.0.1:0"], None);
    let http_cfg = format!("[servers.fx]\nurl = \"{fixture_url}\"\n");
    let (_gw_http, gw_http_url) =
        spawn_listening(&["serve", "--listen", "127.0.0.1:0"], Some(&http_cfg));
    let stdio_cfg = format!(
        "[servers.fx]\ncommand = \"{}\"\nargs = [\"fixture\"]\n",
        bin()
    );
    let (_gw_stdio, gw_stdio_url) =
        spawn_listening(&["serve", "--listen", "127.0.0.1:0"], Some(&stdio_cfg));

    let direct_args = json!({"name":"echo","arguments":{"message":"hello benchmark"}});
    let gw_args = json!({"name":"fx__echo","arguments":{"message":"hello benchmark"}});
    println!("\nswitchboard e2e: gateway vs direct, same fixture upstream, same run ({seconds} s per cell, {} CPUs)\n", std::thread::available_parallelism().map_or(0, |n| n.get()));
    println!("| tools/call             | direct/s  | gateway/s | ratio | direct p50/p90/p99 µs  | gateway p50/p90/p99 µs |");
    println!("| ---------------------- | --------- | --------- | ----- | ---------------------- | ---------------------- |");
    let mut added = Vec::new();
    rt.block_on(async {
        // Warm up connections and caches.
        let _ = load_http(
            &gw_http_url,
            "tools/call",
            gw_args.clone(),
            4,
            Duration::from_millis(500),
        )
        .await;
        for c in [1usize, 16, 64] {
            let d = load_http(&fixture_url, "tools/call", direct_args.clone(), c, time).await;
            let g = load_http(&gw_http_url, "tools/call", gw_args.clone(), c, time).await;
            row(&format!("HTTP upstream, c={c}"), &d, &g);
            if c == 1 {
                added.push((
                    "HTTP",
                    g.pct(0.5) as i64 - d.pct(0.5) as i64,
                    g.pct(0.99) as i64 - d.pct(0.99) as i64,
                ));
            }
        }
        for c in [1usize, 16] {
            let d = load_http(&fixture_url, "tools/call", direct_args.clone(), c, time).await;
            let g = load_modern(&gw_http_url, "tools/call", gw_args.clone(), c, time).await;
            row(&format!("HTTP, 2026-07-28, c={c}"), &d, &g);
        }
        for c in [1usize, 16, 64] {
            let d = load_stdio(c, time).await;
            let g = load_http(&gw_stdio_url, "tools/call", gw_args.clone(), c, time).await;
            row(&format!("stdio upstream, c={c}"), &d, &g);
            if c == 1 {
                added.push((
                    "stdio",
                    g.pct(0.5) as i64 - d.pct(0.5) as i64,
                    g.pct(0.99) as i64 - d.pct(0.99) as i64,
                ));
            }
        }
    });
    println!();
    for (kind, p50, p99) in &added {
        println!("added latency at c=1, {kind} upstream (the stdio direct client talks to a pipe, the gateway client pays HTTP too): p50 {p50} µs, p99 {p99} µs");
    }

    // Against a bare L7 hop: nginx in front of the same fixture, in the same run.
    match common::nginx::start(&fixture_url, workers()) {
        None => println!("\n(nginx is not installed: `apt-get install nginx` adds the comparison with a bare proxy hop)"),
        Some((_nginx, nginx_url)) => rt.block_on(against_nginx(
            &fixture_url,
            &nginx_url,
            &gw_http_url,
            &gw_stdio_url,
            time,
        )),
    }

    // tools/list over 50 upstreams x 100 tools.
    let mut big = String::new();
    for i in 0..50 {
        big.push_str(&format!(
            "[servers.s{i}]\ncommand = \"{}\"\nargs = [\"fixture\", \"--tools\", \"99\"]\n\n",
            bin()
        ));
    }
    let (_gw_big, gw_big_url) = spawn_listening(&["serve", "--listen", "127.0.0.1:0"], Some(&big));
    rt.block_on(async {
        let list = load_http(&gw_big_url, "tools/list", json!({}), 1, time).await;
        println!(
            "\ntools/list, 50 upstreams x 100 tools (5,001 tools with switchboard__find_tools): p50 {} µs, p90 {} µs, p99 {} µs ({:.0} lists/s)",
            list.pct(0.5),
            list.pct(0.9),
            list.pct(0.99),
            list.rps()
        );
    });

    // Memory, on a gateway of its own: idle, then with 10,000 idle sessions.
    let (gw_mem, gw_mem_url) =
        spawn_listening(&["serve", "--listen", "127.0.0.1:0"], Some(&http_cfg));
    std::thread::sleep(Duration::from_millis(300));
    let idle_rss = rss_kb(gw_mem.0.id());
    let sessions = 10_000usize;
    rt.block_on(async {
        let clients: Vec<_> = (0..16).map(|_| reqwest::Client::new()).collect();
        let per = sessions / clients.len();
        let tasks = clients.into_iter().map(|c| {
            let url = gw_mem_url.clone();
            tokio::spawn(async move {
                for _ in 0..per {
                    mcp_session(&c, &url).await;
                }
            })
        });
        futures::future::join_all(tasks).await;
    });
    let busy_rss = rss_kb(gw_mem.0.id());
    println!(
        "\ngateway RSS: idle {:.1} MB; with {sessions} idle sessions {:.1} MB ({:.2} KB per session)\n",
        idle_rss as f64 / 1024.0,
        busy_rss as f64 / 1024.0,
        (busy_rss.saturating_sub(idle_rss)) as f64 / sessions as f64
    );
}
