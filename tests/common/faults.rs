//! The fixture upstream with faults, and reading what the gateway says about its upstreams.

use super::{free_port, get_json, switchboard_bin, wait_for_port, Gateway, Proc};
use serde_json::{json, Value};

/// A `[servers.NAME]` entry running `switchboard fixture FLAGS`, with `extra` lines.
pub fn fixture(name: &str, flags: &str, extra: &str) -> String {
    let args: Vec<String> = std::iter::once("fixture".to_string())
        .chain(flags.split_whitespace().map(str::to_string))
        .collect();
    format!(
        "[servers.{name}]\ncommand = \"{}\"\nargs = {}\n{extra}\n",
        switchboard_bin(),
        serde_json::to_string(&args).unwrap()
    )
}

/// One upstream's row of `/servers`.
pub async fn server_row(gw: &Gateway, name: &str) -> Value {
    let servers = get_json(&format!("{}/servers", gw.base)).await;
    servers["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["server"] == name)
        .cloned()
        .unwrap_or(Value::Null)
}

/// `/metrics`, parsed as Prometheus text (the format is checked on the way), and the text itself.
pub async fn metrics(gw: &Gateway) -> (prometheus_parse::Scrape, String) {
    let text = reqwest::get(format!("{}/metrics", gw.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .expect("Prometheus text format");
    (scrape, text)
}

/// The sum of `metric`'s samples for `server` (and `outcome`, when given).
pub fn sample(
    scrape: &prometheus_parse::Scrape,
    metric: &str,
    server: &str,
    outcome: Option<&str>,
) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric && s.labels.get("server") == Some(server))
        .filter(|s| outcome.is_none() || s.labels.get("outcome") == outcome)
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

pub fn echo(name: &str, message: &str) -> Value {
    json!({ "name": format!("{name}__echo"), "arguments": { "message": message } })
}

/// The header-recording upstream (the fixture's `echo` over streamable HTTP): every request's
/// headers, a JSON object per line, appended to `file`.
pub fn recorder(file: &std::path::Path) -> (Proc, u16) {
    let port = free_port();
    let child = std::process::Command::new(switchboard_bin())
        .args([
            "fixture",
            "--http",
            &format!("127.0.0.1:{port}"),
            "--record-headers",
        ])
        .arg(file)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port, std::time::Duration::from_secs(10));
    (Proc { child }, port)
}
