//! Replicas sharing state through a real `redis-server` (`[cluster]`): a per-identity rate limit
//! holds across three replicas, and a store that goes away leaves every request answered, within
//! its deadline, with `/ready` saying so, until it is back and limits are shared again.

mod common;

use common::{free_port, switchboard_bin, wait_for_port, Gateway, Proc, RawClient};
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio::time::Instant;

/// Debian's `package` binary at `path`; `None` (the test skipped, saying so) when it is not
/// installed, unless CI requires every peer.
fn installed(path: &'static str, package: &str) -> Option<&'static std::path::Path> {
    let bin = std::path::Path::new(path);
    if bin.exists() {
        return Some(bin);
    }
    let required = std::env::var_os("SWITCHBOARD_REQUIRE_PEERS").is_some_and(|v| !v.is_empty());
    assert!(
        !required,
        "{package} is not installed: run `bash .ci/install`"
    );
    eprintln!("skipped: {package} is not installed (apt-get install {package})");
    None
}

/// A `redis-server` on `port`, keeping nothing on disk; `None` (the test skipped, saying so)
/// when Debian's package is not installed, unless CI requires every peer.
fn redis(port: u16) -> Option<Proc> {
    let bin = installed("/usr/bin/redis-server", "redis-server")?;
    let child = Command::new(bin)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port, Duration::from_secs(10));
    Some(Proc { child })
}

const KEY: &str = "team-key-0123456789abcdef";

/// Replica `node` of a cluster on the store at `port`: one fixture upstream whose calls each
/// identity may make at `rate` per second after a burst of `burst`.
fn replica(node: &str, port: u16, rate: f64, burst: u32, fail_open: bool) -> Gateway {
    let config = format!(
        r#"
[cluster]
redis = "redis://127.0.0.1:{port}/0"
node_id = "{node}"
timeout = "150ms"
fail_open = {fail_open}
[auth]
mode = "required"
[[auth.api_keys]]
id = "team"
env = "TEAM_KEY"
[servers.fx]
command = "{bin}"
args = ["fixture"]
client_rate_limit = {{ per_second = {rate}, burst = {burst} }}
"#,
        bin = switchboard_bin(),
    );
    Gateway::start_env("switchboard.toml", &config, &[("TEAM_KEY", KEY)])
}

/// One stateless (2026-07-28) `tools/call` of `fx__echo` as the team's identity.
async fn call(c: &RawClient, id: u64) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
        "name": "fx__echo", "arguments": {"message": "hi"},
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                  "io.modelcontextprotocol/clientCapabilities": {}}}});
    let bearer = format!("Bearer {KEY}");
    let a = c
        .post_raw(
            body.to_string(),
            &[
                ("authorization", &bearer),
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "tools/call"),
                ("mcp-name", "fx__echo"),
            ],
        )
        .await;
    assert_eq!(
        a.body["id"], id,
        "one answer per request, under its id: {}",
        a.text
    );
    a.body
}

/// Whether an answer is the client's rate limit refusing.
fn limited(answer: &Value) -> bool {
    answer["error"]["code"] == -32029 && answer["error"]["data"]["scope"] == "client"
}

async fn ready(gw: &Gateway) -> (u16, Value) {
    let r = reqwest::get(format!("{}/ready", gw.base)).await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// `rate` per second after a burst of `burst`, per identity, on each of three replicas: sending
/// round-robin as fast as answers come for `for_`, the identity gets what one gateway would
/// give it (within 5%), not three times that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_identity_limit_holds_across_three_replicas() {
    let port = free_port();
    let Some(_redis) = redis(port) else { return };
    let (rate, burst) = (4.0, 10);
    let replicas: Vec<Gateway> = ["r1", "r2", "r3"]
        .iter()
        .map(|n| replica(n, port, rate, burst, true))
        .collect();
    for gw in &replicas {
        wait_until_shared(gw).await;
    }
    let clients: Vec<RawClient> = replicas.iter().map(|g| RawClient::new(&g.url)).collect();
    let started = Instant::now();
    let (mut sent, mut admitted, mut refused) = (0u64, 0u64, 0u64);
    while started.elapsed() < Duration::from_secs(5) {
        let a = call(&clients[(sent % 3) as usize], sent + 1).await;
        sent += 1;
        if a["result"]["content"][0]["text"] == "hi" {
            admitted += 1;
        } else {
            assert!(limited(&a), "{a}");
            refused += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let allowed = burst as f64 + rate * elapsed;
    assert_eq!(sent, admitted + refused);
    assert!(refused > 0, "nothing was refused in {sent} calls");
    assert!(
        (admitted as f64) <= allowed * 1.05 + 1.0,
        "{admitted} admitted of {sent} in {elapsed:.2} s across three replicas; one limit allows {allowed:.1}"
    );
    assert!(
        (admitted as f64) >= allowed * 0.8,
        "only {admitted} admitted of {sent} in {elapsed:.2} s; the limit allows {allowed:.1}"
    );
}

/// Until the replica says its store is up (it connects in the background).
async fn wait_until_shared(gw: &Gateway) {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, body) = ready(gw).await;
        if body["cluster"]["state"] == "up" {
            return;
        }
        // The first call is what shows the store up, once connected.
        let _ = call(&RawClient::new(&gw.url), 999_999).await;
        assert!(
            Instant::now() < until,
            "the store never came up: {body}\n{}",
            gw.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `redis-server` stopped: calls go on under the replica's own limit, each answered within its
/// deadline; `/ready` stays 200 and says the store is down; after a restart on the same port the
/// limit is shared again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_store_degrades_and_recovers() {
    let port = free_port();
    let Some(redis_proc) = redis(port) else {
        return;
    };
    let gw = replica("solo", port, 1000.0, 1000, true);
    wait_until_shared(&gw).await;
    drop(redis_proc); // SIGKILL
    let c = RawClient::new(&gw.url);
    let mut worst = Duration::ZERO;
    for id in 1..=40 {
        let t = Instant::now();
        let a = call(&c, id).await;
        worst = worst.max(t.elapsed());
        assert_eq!(a["result"]["content"][0]["text"], "hi", "fail_open: {a}");
    }
    assert!(
        worst < Duration::from_secs(5),
        "a call took {worst:?} with the store down"
    );
    let (status, body) = ready(&gw).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["cluster"]["state"], "down", "{body}");
    assert_eq!(
        body["cluster"]["rate_limits"], "local (the store is down)",
        "{body}"
    );
    assert!(
        gw.log().contains("cluster store unreachable"),
        "{}",
        gw.log()
    );
    let _back = redis(port).unwrap();
    wait_until_shared(&gw).await;
    assert!(gw.log().contains("cluster store reachable"), "{}", gw.log());
}

/// With `fail_open = false` a call under a shared limit is refused while the store is down,
/// saying why and when to retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_closed_refuses_while_the_store_is_down() {
    let port = free_port();
    let Some(redis_proc) = redis(port) else {
        return;
    };
    let gw = replica("closed", port, 1000.0, 1000, false);
    wait_until_shared(&gw).await;
    drop(redis_proc);
    let a = call(&RawClient::new(&gw.url), 1).await;
    assert_eq!(a["error"]["code"], -32029, "{a}");
    assert_eq!(a["error"]["data"]["reason"], "store_unavailable", "{a}");
    let message = a["error"]["message"].as_str().unwrap();
    assert!(message.contains("cluster.fail_open = false"), "{message}");
}

/// Replica `node` sharing sessions through the store at `port`, over the real server-everything
/// (stdio, one shared connection per replica).
fn session_replica(node: &str, port: u16) -> Gateway {
    let config = format!(
        "[cluster]\nredis = \"redis://127.0.0.1:{port}/0\"\nnode_id = \"{node}\"\n\n[servers.ev]\ncommand = \"node\"\nargs = [\"{}\", \"stdio\"]\n",
        common::everything_js().display()
    );
    Gateway::start("switchboard.toml", &config)
}

/// A session opened on one replica is served by the others (its identity and endpoint checked
/// as on its own); `DELETE` on any of them ends it on all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_is_served_by_every_replica_and_ends_everywhere() {
    if !common::peers("cluster sessions") {
        return;
    }
    let port = free_port();
    let Some(_redis) = redis(port) else { return };
    let replicas = session_cluster(&["s1", "s2", "s3"], port).await;
    let mut first = RawClient::new(&replicas[0].url);
    first.initialize().await;
    let session = first.session.clone().unwrap();
    let on = |i: usize| RawClient {
        session: Some(session.clone()),
        ..RawClient::new(&replicas[i].url)
    };
    for (i, word) in [(1, "two"), (2, "three"), (0, "one")] {
        let r = on(i)
            .request(
                i as u64 + 1,
                "tools/call",
                json!({"name": "ev__echo", "arguments": {"message": word}}),
            )
            .await;
        let text = r["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_default();
        assert!(text.contains(word), "replica {i}: {r}");
    }
    assert!(replicas[1]
        .log()
        .contains("serving a session another replica opened"));
    // Another replica's id guessed with a made-up session: still 404.
    let stranger = RawClient {
        session: Some("0123456789abcdef0123456789abcdef".into()),
        ..RawClient::new(&replicas[2].url)
    };
    let a = stranger
        .post_raw(
            json!({"jsonrpc":"2.0","id":9,"method":"tools/list"}).to_string(),
            &[],
        )
        .await;
    assert_eq!(a.status, 404, "{}", a.text);
    // DELETE on the second replica: gone on all three.
    let gone = on(1)
        .http
        .delete(&replicas[1].url)
        .header("mcp-session-id", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 200);
    for i in 0..3 {
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            let a = on(i)
                .post_raw(
                    json!({"jsonrpc":"2.0","id":10,"method":"tools/list"}).to_string(),
                    &[],
                )
                .await;
            if a.status == 404 {
                break;
            }
            assert!(
                Instant::now() < until,
                "replica {i} still serves the ended session: {}",
                a.text
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Replicas `nodes` sharing sessions through the store at `port`, each with its store up.
async fn session_cluster(nodes: &[&str], port: u16) -> Vec<Gateway> {
    let replicas: Vec<Gateway> = nodes.iter().map(|n| session_replica(n, port)).collect();
    for gw in &replicas {
        wait_until_up(gw).await;
    }
    replicas
}

/// Until the replica's store is up.
async fn wait_until_up(gw: &Gateway) {
    let until = Instant::now() + Duration::from_secs(20);
    while ready(gw).await.1["cluster"]["state"] != "up" {
        assert!(
            Instant::now() < until,
            "the store never came up:\n{}",
            gw.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Debian's nginx round-robin over `backends` (no stickiness), answering on the returned URL.
fn nginx(backends: &[&Gateway]) -> Option<(Proc, String, tempfile::TempDir)> {
    let bin = installed("/usr/sbin/nginx", "nginx")?;
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let servers: String = backends
        .iter()
        .map(|g| format!("server {};", g.base.trim_start_matches("http://")))
        .collect();
    let conf = format!(
        "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 256; }}\nhttp {{\n access_log off;\n client_body_temp_path {d}/body;\n\
         proxy_temp_path {d}/proxy;\n fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n\
         scgi_temp_path {d}/scgi;\n upstream replicas {{ {servers} }}\n server {{\n  listen 127.0.0.1:{port};\n\
         location / {{ proxy_pass http://replicas; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header Host $http_host;\n\
         proxy_buffering off; proxy_read_timeout 60s; }}\n }}\n}}\n"
    );
    let path = dir.path().join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let child = Command::new(bin)
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(&path)
        .arg("-e")
        .arg(dir.path().join("error.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port, Duration::from_secs(10));
    Some((Proc { child }, format!("http://127.0.0.1:{port}/mcp"), dir))
}

/// The TypeScript SDK (the initialize generation) runs a whole session through nginx
/// round-robin over three replicas: every request may land on any of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_sdk_runs_a_session_across_replicas_behind_nginx() {
    if !common::peers("cluster behind nginx") {
        return;
    }
    let port = free_port();
    let Some(_redis) = redis(port) else { return };
    let replicas = session_cluster(&["n1", "n2", "n3"], port).await;
    let Some((_nginx, url, _dir)) = nginx(&replicas.iter().collect::<Vec<_>>()) else {
        return;
    };
    let mut actions = vec![json!(["list"])];
    for i in 0..9 {
        actions.push(json!(["call", "ev__echo", {"message": format!("call {i}")}]));
    }
    actions.push(json!(["list"]));
    let out = common::run_json(
        Command::new("node")
            .arg(common::client_script("ts_actions.mjs"))
            .args([url.as_str(), &Value::from(actions).to_string()])
            .env(
                "SDK_NODE_MODULES",
                common::tools_dir().join("npm/node_modules"),
            ),
    );
    let out = out.as_array().unwrap();
    assert_eq!(out[0], out[10], "the same catalog on every replica");
    for i in 0..9 {
        assert_eq!(out[i + 1]["ok"], true, "{}", out[i + 1]);
        assert!(out[i + 1]["text"]
            .as_str()
            .unwrap()
            .contains(&format!("call {i}")));
    }
    let adopted = replicas
        .iter()
        .filter(|g| g.log().contains("serving a session another replica opened"))
        .count();
    assert!(
        adopted >= 1,
        "no replica served the session it did not open"
    );
}

/// The replica that opened a session is killed (SIGKILL) mid-session: the next requests succeed
/// on another replica, which serves the session from its record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_outlives_the_replica_that_opened_it() {
    if !common::peers("cluster failover") {
        return;
    }
    let port = free_port();
    let Some(_redis) = redis(port) else { return };
    let opener = session_replica("k1", port);
    let survivor = session_replica("k2", port);
    wait_until_up(&opener).await;
    wait_until_up(&survivor).await;
    let mut c = RawClient::new(&opener.url);
    c.initialize().await;
    let echo = |word: &str| json!({"name": "ev__echo", "arguments": {"message": word}});
    let r = c.request(1, "tools/call", echo("before")).await;
    assert!(
        r["result"]["content"][0]["text"]
            .to_string()
            .contains("before"),
        "{r}"
    );
    let pid = opener.pid();
    drop(opener); // SIGKILL, and its server-everything child dies with it
    assert!(!common::alive(pid));
    c.url = survivor.url.clone();
    let r = c.request(2, "tools/call", echo("after")).await;
    assert!(
        r["result"]["content"][0]["text"]
            .to_string()
            .contains("after"),
        "{r}"
    );
    let listed = c.request(3, "tools/list", json!({})).await;
    assert!(!common::tool_names(&listed).is_empty(), "{listed}");
}

/// Under concurrent load, the store killed and restarted mid-run: every request is answered
/// exactly once (counted: sent against answered under their own ids), none past its deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_is_answered_once_through_a_store_outage() {
    let port = free_port();
    let Some(redis_proc) = redis(port) else {
        return;
    };
    let gw = replica("load", port, 10_000.0, 10_000, true);
    wait_until_shared(&gw).await;
    let started = Instant::now();
    let workers: Vec<_> = (0..8u64)
        .map(|w| {
            let url = gw.url.clone();
            tokio::spawn(async move {
                let c = RawClient::new(&url);
                let (mut sent, mut answered, mut slowest) = (0u64, 0u64, Duration::ZERO);
                while started.elapsed() < Duration::from_secs(3) {
                    let id = w * 1_000_000 + sent + 1;
                    sent += 1;
                    let t = Instant::now();
                    let a = call(&c, id).await; // asserts the answer carries this id
                    slowest = slowest.max(t.elapsed());
                    if a["result"]["content"][0]["text"] == "hi" {
                        answered += 1;
                    }
                }
                (sent, answered, slowest)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    drop(redis_proc);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _back = redis(port).unwrap();
    let (mut sent, mut answered, mut slowest) = (0, 0, Duration::ZERO);
    for w in workers {
        let (s, a, t) = w.await.unwrap();
        (sent, answered, slowest) = (sent + s, answered + a, slowest.max(t));
    }
    assert!(sent > 100, "only {sent} requests in 3 s");
    assert_eq!(sent, answered, "every request answered (fail_open), once");
    assert!(
        slowest < Duration::from_secs(5),
        "a request took {slowest:?}"
    );
}
