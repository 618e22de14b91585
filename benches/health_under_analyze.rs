//! `/health` latency while two clients keep `POST /analyze` busy with maximum-size prompts (the
//! issue-12 freeze: scoring used to be quadratic in keyword matches and ran on the async
//! workers). Run with: `cargo bench --bench health_under_analyze` (`HEALTH_SECONDS`, default 10).
//!
//! For the default `router.max_prompt_bytes` (64 KiB) and for a raised one (2 MiB, the size that
//! froze every endpoint for ~30 s), it starts a gateway over the two demo servers, runs two
//! analyze loops with prompts dense in keywords, and GETs `/health` every 20 ms; it prints the
//! analyze throughput and the `/health` p50/p99/max. Load generator and gateway share the cores.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // the harness measures wall time outside the gateway

mod common;

use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn config(max_prompt: usize) -> String {
    let demo = |name: &str| {
        format!(
            "[servers.{name}]\ncommand = \"{}\"\nargs = [\"demo-server\", \"--kit\", \"{name}\"]\n\n",
            common::bin()
        )
    };
    format!(
        "[gateway]\nmax_body_bytes = {}\n\n[router]\nmax_prompt_bytes = {max_prompt}\n\n{}{}",
        max_prompt * 2,
        demo("text"),
        demo("math")
    )
}

/// A prompt of `len` bytes made of words that fire keywords and catalog words of both servers.
fn prompt(len: usize) -> String {
    let words = "add multiply the sum of numbers reverse this text and count words echo stats ";
    words.repeat(len / words.len() + 1)[..len].to_string()
}

async fn measure(max_prompt: usize, seconds: u64) {
    let (_gw, url) = common::spawn_listening(
        &["serve", "--listen", "127.0.0.1:0"],
        Some(&config(max_prompt)),
        "warn,switchboard::cli=info",
    );
    let base = url.trim_end_matches("/mcp").to_string();
    let http = reqwest::Client::new();
    let until = Instant::now() + Duration::from_secs(seconds);
    let body = Arc::new(json!({ "prompt": prompt(max_prompt), "top": 3 }).to_string());
    let (done, busy_us) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut loops = Vec::new();
    for _ in 0..2 {
        let (http, base, body) = (http.clone(), base.clone(), body.clone());
        let (done, busy_us) = (done.clone(), busy_us.clone());
        loops.push(tokio::spawn(async move {
            while Instant::now() < until {
                let t = Instant::now();
                let r = http
                    .post(format!("{base}/analyze"))
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await
                    .expect("the gateway answers");
                assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
                let _ = r.bytes().await;
                done.fetch_add(1, Ordering::Relaxed);
                busy_us.fetch_add(t.elapsed().as_micros() as u64, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await; // both loops are in flight
    let mut health = Vec::new();
    while Instant::now() < until {
        let t = Instant::now();
        let r = http.get(format!("{base}/health")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        health.push(t.elapsed().as_micros() as u64);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for l in loops {
        l.await.unwrap();
    }
    health.sort_unstable();
    let n = done.load(Ordering::Relaxed);
    println!(
        "max_prompt_bytes {:>8}: {n} analyses ({:.1} ms each); /health x{}: p50 {} µs, p99 {} µs, max {} µs",
        max_prompt,
        busy_us.load(Ordering::Relaxed) as f64 / n.max(1) as f64 / 1000.0,
        health.len(),
        common::quantile(&health, 0.5),
        common::quantile(&health, 0.99),
        health.last().unwrap(),
    );
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let seconds = std::env::var("HEALTH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for max in [64 * 1024, 2 * 1024 * 1024] {
        rt.block_on(measure(max, seconds));
    }
}
