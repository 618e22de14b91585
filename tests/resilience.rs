//! Faults in upstreams, with the Rust fixture: every request gets exactly one answer, the other
//! upstreams keep answering, a crashed child is restarted, and `/servers`, `/ready` and
//! `/metrics` say what happened.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // blocking harness threads on the wall clock, outside any runtime

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_child_fails_its_call_at_once_and_is_restarted() {
    // The fixture's echo is annotated read-only, so the gateway would retry it; here retries
    // are off to see the crash itself (the chaos test covers retries across restarts).
    let config = "[gateway]\nrequest_timeout = \"30s\"\n\n".to_string()
        + &fixture("flaky", "--crash-after 3", "retry = { max = 0 }")
        + &fixture("steady", "", "");
    let gw = Gateway::start("switchboard.toml", &config);
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    for i in 1..=2 {
        let r = c.request(i, "tools/call", echo("flaky", "before")).await;
        assert_eq!(r["result"]["content"][0]["text"], "before", "{r}");
    }
    // The third call kills the child mid-call: answered with an error at once, not after 30 s.
    let started = std::time::Instant::now();
    let r = c.request(3, "tools/call", echo("flaky", "crash")).await;
    assert!(
        r["error"]["message"].as_str().unwrap().contains("flaky"),
        "{r}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "answered only after {:?}",
        started.elapsed()
    );
    // The other upstream never noticed.
    let r = c
        .request(4, "tools/call", echo("steady", "still here"))
        .await;
    assert_eq!(r["result"]["content"][0]["text"], "still here");
    // Restarted with backoff; the session stays valid and the tool works again.
    let mut recovered = false;
    for i in 0..100 {
        let r = c
            .request(10 + i, "tools/call", echo("flaky", "after"))
            .await;
        if r["result"]["content"][0]["text"] == "after" {
            recovered = true;
            break;
        }
        // While it restarts, calls fail fast with an error naming the server.
        assert!(
            r["error"]["message"].as_str().unwrap().contains("flaky"),
            "{r}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        recovered,
        "the crashed upstream never came back\n{}",
        gw.log()
    );
    let http = reqwest::Client::new();
    let flaky = server_row(&gw, "flaky").await;
    assert_eq!(flaky["state"], "ready", "{flaky}");
    assert!(flaky["restarts"].as_u64().unwrap() >= 1, "{flaky}");
    assert_eq!(flaky["tools"], 1);
    assert!(flaky["latency_p50_us"].as_u64().is_some(), "{flaky}");
    let ready = http.get(format!("{}/ready", gw.base)).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    // /metrics parses as Prometheus text and counts what happened.
    let (scrape, text) = metrics(&gw).await;
    let value = |name: &str, server: &str| sample(&scrape, name, server, None);
    assert!(
        value("switchboard_upstream_restarts_total", "flaky") >= 1.0,
        "{text}"
    );
    assert_eq!(value("switchboard_upstream_up", "flaky"), 1.0, "{text}");
    assert!(
        value("switchboard_requests_total", "steady") >= 1.0,
        "{text}"
    );
    assert!(
        text.contains("switchboard_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("switchboard_sessions_active 1"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_hangs_and_slowness_each_get_one_answer() {
    let config = "[gateway]\nrequest_timeout = \"1s\"\n\n".to_string()
        + &fixture("noisy", "--garbage", "")
        + &fixture("stuck", "--hang", "")
        + &fixture("slow", "--slow-ms 200", "")
        + &fixture("steady", "", "");
    let gw = Gateway::start("switchboard.toml", &config);
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    // Garbage lines are logged and skipped; the answers still arrive.
    let r = c
        .request(1, "tools/call", echo("noisy", "through the noise"))
        .await;
    assert_eq!(
        r["result"]["content"][0]["text"], "through the noise",
        "{r}"
    );
    let log = gw.log_with("not JSON-RPC").await;
    assert!(log.contains("not JSON-RPC"), "{log}");
    // A hung upstream: a timeout error naming it, after the configured deadline.
    let (stuck, steady) = tokio::join!(
        c.request(2, "tools/call", echo("stuck", "anyone?")),
        c.request(3, "tools/call", echo("steady", "meanwhile"))
    );
    assert_eq!(stuck["error"]["code"], -32001, "{stuck}");
    assert!(
        stuck["error"]["message"]
            .as_str()
            .unwrap()
            .contains("stuck"),
        "{stuck}"
    );
    assert_eq!(steady["result"]["content"][0]["text"], "meanwhile");
    // Slow but within the deadline: answered.
    let r = c.request(4, "tools/call", echo("slow", "eventually")).await;
    assert_eq!(r["result"]["content"][0]["text"], "eventually", "{r}");
    // Every request above got exactly one answer: 20 concurrent calls, 20 answers, all well formed.
    let calls = (0..20).map(|i| {
        let name = ["noisy", "stuck", "slow", "steady"][i % 4];
        let c = &c;
        async move {
            c.request(100 + i as u64, "tools/call", echo(name, "x"))
                .await
        }
    });
    let answers = futures::future::join_all(calls).await;
    assert_eq!(answers.len(), 20);
    for (i, a) in answers.iter().enumerate() {
        assert_eq!(a["id"], 100 + i as u64, "{a}");
        assert!(
            a["result"].is_object() != a["error"].is_object(),
            "exactly one of result/error: {a}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_opens_on_repeated_faults_and_fails_fast() {
    let config = "[gateway]\nrequest_timeout = \"300ms\"\n\n".to_string()
        + &fixture(
            "stuck",
            "--hang",
            "breaker = { failures = 2, open_for = \"60s\" }",
        )
        + &fixture("steady", "", "");
    let gw = Gateway::start("switchboard.toml", &config);
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    for i in 1..=2 {
        let r = c.request(i, "tools/call", echo("stuck", "hello?")).await;
        assert_eq!(r["error"]["code"], -32001, "{r}");
    }
    // The breaker takes in outcomes on its own task: it opens a moment after the second
    // failure's answer (on a loaded machine a call sent at once could still be admitted).
    let mut opened = false;
    for _ in 0..100 {
        if server_row(&gw, "stuck").await["breaker"] == "open" {
            opened = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(opened, "the breaker did not open after two failures");
    // Open: refused without asking the upstream, naming the server and the wait.
    let r = c.request(3, "tools/call", echo("stuck", "hello?")).await;
    let message = r["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("circuit open") && message.contains("stuck"),
        "{r}"
    );
    assert!(
        r["error"]["data"]["retry_after_ms"].as_u64().unwrap() > 50_000,
        "{r}"
    );
    // Tool results that are errors, and bad requests, never open a breaker: steady keeps serving.
    let r = c.request(4, "tools/call", echo("steady", "fine")).await;
    assert_eq!(r["result"]["content"][0]["text"], "fine");
    let stuck = server_row(&gw, "stuck").await;
    assert_eq!(stuck["breaker"], "open", "{stuck}");
    let steady = server_row(&gw, "steady").await;
    assert_eq!(steady["breaker"], "closed", "{steady}");
    let (_, text) = metrics(&gw).await;
    assert!(
        text.contains("switchboard_circuit_state{server=\"stuck\"} 1"),
        "{text}"
    );
    assert!(text.contains("outcome=\"circuit_open\""), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_idle_upstream_is_found_by_ping_and_restarted() {
    // "mute" answers the server/discover probe (an error: it is of the initialize generation),
    // initialize and tools/list, then nothing at all: alive but hung.
    let config = fixture("mute", "--mute-after 4", "health_interval = \"200ms\"")
        + &fixture("steady", "", "");
    let gw = Gateway::start("switchboard.toml", &config);
    let mut restarted = false;
    for _ in 0..100 {
        let mute = server_row(&gw, "mute").await;
        if mute["restarts"].as_u64().unwrap() >= 1 {
            restarted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        restarted,
        "the hung upstream was never restarted\n{}",
        gw.log()
    );
    let log = gw.log_with("did not answer ping").await;
    assert!(log.contains("did not answer ping"), "{log}");
    // The healthy one answers pings and is left alone.
    let steady = server_row(&gw, "steady").await;
    assert_eq!(steady["restarts"], 0, "{steady}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_refuse_at_once_saying_when_to_retry() {
    let config = fixture("limited", "", "rate_limit = { per_second = 1, burst = 2 }")
        + &fixture(
            "per_client",
            "",
            "client_rate_limit = { per_second = 1, burst = 1 }",
        )
        + &fixture("narrow", "--slow-ms 500", "max_concurrent = 1")
        + &fixture("steady", "", "");
    let gw = Gateway::start("switchboard.toml", &config);
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    // The upstream's bucket: two pass, the third is refused with the time to wait.
    for i in 1..=2 {
        let r = c.request(i, "tools/call", echo("limited", "ok")).await;
        assert_eq!(r["result"]["content"][0]["text"], "ok", "{r}");
    }
    let r = c
        .request(3, "tools/call", echo("limited", "too soon"))
        .await;
    assert_eq!(r["error"]["code"], -32029, "{r}");
    assert_eq!(r["error"]["data"]["scope"], "upstream", "{r}");
    let wait = r["error"]["data"]["retry_after_ms"].as_u64().unwrap();
    assert!((1..=1000).contains(&wait), "{r}");
    assert!(
        r["error"]["message"].as_str().unwrap().contains("limited"),
        "{r}"
    );
    // Others are not affected.
    let r = c.request(4, "tools/call", echo("steady", "fine")).await;
    assert_eq!(r["result"]["content"][0]["text"], "fine", "{r}");
    // Per client: one client over its limit does not stop another.
    let r = c.request(5, "tools/call", echo("per_client", "a")).await;
    assert_eq!(r["result"]["content"][0]["text"], "a", "{r}");
    let r = c
        .request(6, "tools/call", echo("per_client", "a again"))
        .await;
    assert_eq!(r["error"]["data"]["scope"], "client", "{r}");
    let mut other = RawClient::new(&gw.url);
    other.initialize().await;
    let r = other
        .request(1, "tools/call", echo("per_client", "b"))
        .await;
    assert_eq!(r["result"]["content"][0]["text"], "b", "{r}");
    // Concurrency: one call in flight on `narrow`; a second at the same time is shed at once.
    let (a, b) = tokio::join!(c.request(7, "tools/call", echo("narrow", "first")), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        c.request(8, "tools/call", echo("narrow", "second")).await
    });
    assert_eq!(a["result"]["content"][0]["text"], "first", "{a}");
    assert_eq!(b["error"]["code"], -32029, "{b}");
    assert_eq!(b["error"]["data"]["reason"], "overloaded", "{b}");
    assert!(
        b["error"]["message"].as_str().unwrap().contains("narrow"),
        "{b}"
    );
    // Refusals are counted.
    let (scrape, text) = metrics(&gw).await;
    let counted = |metric: &str, server: &str, outcome: Option<&str>| {
        sample(&scrape, metric, server, outcome)
    };
    assert_eq!(
        counted("switchboard_rate_limited_total", "limited", None),
        1.0,
        "{text}"
    );
    assert_eq!(
        counted("switchboard_rate_limited_total", "per_client", None),
        1.0,
        "{text}"
    );
    assert_eq!(
        counted("switchboard_requests_total", "narrow", Some("overloaded")),
        1.0,
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_needs_every_upstream_or_the_configured_minimum() {
    let broken = "[servers.broken]\ncommand = \"/nonexistent/mcp-server\"\n";
    let steady = fixture("steady", "", "");
    let strict = Gateway::start("switchboard.toml", &format!("{broken}{steady}"));
    let r = reqwest::get(format!("{}/ready", strict.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["servers"][0]["server"], "broken", "{body}");
    assert_eq!(
        (body["ready"].as_u64(), body["required"].as_u64()),
        (Some(1), Some(2)),
        "{body}"
    );
    // A probe from a foreign Host (a DNS-rebinding page) learns the status, not the names.
    let r = reqwest::Client::new()
        .get(format!("{}/ready", strict.base))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["servers"], json!([]), "{body}");
    assert_eq!(body["ready"], 1, "{body}");
    let lenient = Gateway::start(
        "switchboard.toml",
        &format!("[gateway]\nready_minimum = 1\n\n{broken}{steady}"),
    );
    let r = reqwest::get(format!("{}/ready", lenient.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ready", "{body}");
    assert_eq!(body["servers"][0]["state"], "failed", "still named: {body}");
}

/// A 2026-07-28 client has no session: its per-client bucket is its address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stateless_clients_are_limited_by_address() {
    let config = fixture(
        "per_client",
        "",
        "client_rate_limit = { per_second = 1, burst = 1 }",
    );
    let gw = Gateway::start("switchboard.toml", &config);
    let client = RawClient::new(&gw.url);
    let call = |id: u64| {
        let body = json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{
            "name":"per_client__echo","arguments":{"message":"hi"},
            "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}});
        let client = &client;
        async move {
            client
                .post_raw(
                    body.to_string(),
                    &[
                        ("mcp-protocol-version", "2026-07-28"),
                        ("mcp-method", "tools/call"),
                        ("mcp-name", "per_client__echo"),
                    ],
                )
                .await
                .body
        }
    };
    let first = call(1).await;
    assert_eq!(first["result"]["content"][0]["text"], "hi", "{first}");
    let second = call(2).await;
    assert_eq!(second["error"]["code"], -32029, "{second}");
    assert_eq!(second["error"]["data"]["scope"], "client", "{second}");
}
