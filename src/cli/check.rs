//! `check` (start every server of a configuration and say how each fared) and `status` (a
//! running gateway's `/servers`, as a table).

use super::load_config;
use super::progress;
use crate::gateway::Gateway;
use crate::upstream::State;
use serde_json::{json, Value};
use std::path::Path;

/// `check`: start everything (lazy servers too), report per server, fail if a required one
/// (not lazy) did not come up.
pub async fn check(path: Option<&Path>, json: bool) -> Result<(), String> {
    let config = load_config(path).map_err(|e| e.to_string())?;
    let source = config.source.clone();
    let gw = {
        let mut line = progress::Line::new();
        let gw = Gateway::start_watched(config, |pool| line.show(pool))
            .await
            .map_err(|e| e.to_string())?;
        let pool = gw.pool();
        let woken = pool
            .all()
            .iter()
            .filter(|u| u.dormant())
            .map(|u| gw.wake(u));
        futures::future::join_all(woken).await;
        gw
    };
    let catalog = gw.catalog();
    let rows: Vec<Value> = gw
        .pool()
        .all()
        .iter()
        .map(|u| {
            let mut row = crate::admin::describe(u, &catalog, gw.held_count(&u.spec.name));
            row["required"] = json!(!u.spec.lazy);
            row["ok"] = json!(u.state() == State::Ready);
            row
        })
        .collect();
    let endpoints = gw.endpoints();
    gw.shutdown().await;
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| r["required"] == true && r["ok"] == false)
        .filter_map(|r| r["server"].as_str())
        .collect();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({ "config": source, "servers": rows, "endpoints": endpoints })
            )
            .unwrap_or_default()
        );
    } else {
        print!("{}", check_table(&rows));
        print!("{}", endpoint_lines(&endpoints));
    }
    match failed.is_empty() {
        true => Ok(()),
        false => Err(format!(
            "{source}: {} of {} required servers failed: {}",
            failed.len(),
            rows.iter().filter(|r| r["required"] == true).count(),
            failed.join(", ")
        )),
    }
}

/// The width of the SERVER column.
fn name_width(rows: &[Value]) -> usize {
    let longest = rows
        .iter()
        .filter_map(|r| r["server"].as_str())
        .map(str::len)
        .max();
    longest.unwrap_or(0).max(6)
}

/// One line per server, and under a failed one its error and last stderr lines.
fn check_table(rows: &[Value]) -> String {
    let width = name_width(rows);
    let mut out = format!(
        "{:width$}  {:13}  {:9}  {:10}  {:>5}  {:>8}\n",
        "SERVER", "STATE", "TRANSPORT", "PROTOCOL", "TOOLS", "READY IN"
    );
    for r in rows {
        let state = match (r["ok"].as_bool(), r["required"].as_bool()) {
            (Some(true), _) => "ok".to_string(),
            (_, Some(false)) => format!("{} (lazy)", r["state"].as_str().unwrap_or("?")),
            _ => r["state"].as_str().unwrap_or("?").to_string(),
        };
        let ready = r["ready_in_ms"]
            .as_u64()
            .map_or("-".to_string(), |ms| format!("{ms} ms"));
        out += &format!(
            "{:width$}  {:13}  {:9}  {:10}  {:>5}  {:>8}\n",
            r["server"].as_str().unwrap_or(""),
            state,
            r["transport"].as_str().unwrap_or(""),
            r["protocol"].as_str().unwrap_or("-"),
            r["tools"].to_string(),
            ready
        );
        if let Some(e) = r["last_error"].as_str() {
            out += &format!("  error: {e}\n");
        }
        for line in r["stderr"].as_array().into_iter().flatten() {
            out += &format!("  stderr: {}\n", line.as_str().unwrap_or(""));
        }
    }
    out
}

/// One line per endpoint, and a warning per override that names no tool.
fn endpoint_lines(endpoints: &[Value]) -> String {
    let mut out = String::new();
    for e in endpoints {
        let name = e["endpoint"].as_str().unwrap_or("");
        out += &format!(
            "endpoint {} ({}): {} tools, {} prompts, {} resources\n",
            name,
            e["path"].as_str().unwrap_or(""),
            e["tools"],
            e["prompts"],
            e["resources"]
        );
        for o in e["unmatched_overrides"].as_array().into_iter().flatten() {
            let o = o.as_str().unwrap_or("");
            out += &format!("  warning: endpoints.{name}.overrides.{o:?} names no tool of the aggregate; it has no effect\n");
        }
    }
    out
}

/// `status`: ask a running gateway for `/servers` and show it.
pub async fn status(url: Option<&str>, config: Option<&Path>, json: bool) -> Result<(), String> {
    let base = base(url, config)?;
    let answer = reqwest::get(format!("{base}/servers"))
        .await
        .map_err(|e| format!("no gateway answers at {base}: {e}"))?;
    let code = answer.status();
    let body: Value = answer
        .json()
        .await
        .map_err(|e| format!("{base}/servers did not answer JSON: {e}"))?;
    if !code.is_success() {
        return Err(format!("{base}/servers answered {code}: {body}"));
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&body).unwrap_or_default()
        );
        return Ok(());
    }
    print!("{}", status_table(&body));
    Ok(())
}

/// `health`: whether the gateway at `url` answers 200 on `/health` (or `/ready`), within 5 s.
pub async fn health(url: Option<&str>, config: Option<&Path>, ready: bool) -> Result<(), String> {
    let base = base(url, config)?;
    let path = if ready { "ready" } else { "health" };
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?;
    let answer = http
        .get(format!("{base}/{path}"))
        .send()
        .await
        .map_err(|e| format!("no gateway answers at {base}: {e}"))?;
    let code = answer.status();
    let body = answer.text().await.unwrap_or_default();
    if !code.is_success() {
        return Err(format!("{base}/{path} answered {code}: {body}"));
    }
    println!("{body}");
    Ok(())
}

/// The running gateway's base URL: `url` as given (with or without `http://` and `/mcp`), else
/// the configuration's `listen`.
fn base(url: Option<&str>, config: Option<&Path>) -> Result<String, String> {
    let base = match url {
        Some(u) => u.trim_end_matches('/').trim_end_matches("/mcp").to_string(),
        None => {
            let listen = load_config(config)
                .map(|c| c.gateway.listen)
                .map_err(|e| e.to_string())?;
            format!("http://{listen}")
        }
    };
    Ok(match base.contains("://") {
        true => base,
        false => format!("http://{base}"),
    })
}

fn status_table(body: &Value) -> String {
    let rows = body["servers"].as_array().cloned().unwrap_or_default();
    let width = name_width(&rows);
    let mut out = format!(
        "{:width$}  {:10}  {:8}  {:10}  {:>5}  {:>8}  {:>8}  {:>8}  LAST ERROR\n",
        "SERVER", "STATE", "BREAKER", "PROTOCOL", "TOOLS", "RESTARTS", "P50", "P99"
    );
    let us = |v: &Value| v.as_u64().map_or("-".to_string(), |n| format!("{n} µs"));
    for r in &rows {
        out += &format!(
            "{:width$}  {:10}  {:8}  {:10}  {:>5}  {:>8}  {:>8}  {:>8}  {}\n",
            r["server"].as_str().unwrap_or(""),
            r["state"].as_str().unwrap_or(""),
            r["breaker"].as_str().unwrap_or(""),
            r["protocol"].as_str().unwrap_or("-"),
            r["tools"].to_string(),
            r["restarts"].to_string(),
            us(&r["latency_p50_us"]),
            us(&r["latency_p99_us"]),
            r["last_error"].as_str().unwrap_or("")
        );
    }
    out + &format!("sessions: {}\n", body["sessions"])
}
