//! Replicas sharing limits through a real `redis-server` (`[cluster]`): a per-identity rate limit
//! holds across three replicas, and a store that goes away leaves every request answered, within
//! its deadline, with `/ready` saying so, until it is back and limits are shared again. Sessions
//! across replicas: `cluster_sessions.rs`.

mod common;

use common::cluster::{ready, redis};
use common::{free_port, switchboard_bin, Gateway, RawClient};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::time::Instant;

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

/// Two replicas writing their own audit files: one sequence numbers the lines of both (taken
/// from the store), so the merged trail counts 1, 2, 3 ... without a gap or a repeat, and each
/// file's numbers rise; every line names its replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_trails_of_two_replicas_share_one_sequence() {
    let port = free_port();
    let Some(_redis) = redis(port) else { return };
    let audited = |node: &str| {
        let config = format!(
            "[cluster]\nredis = \"redis://127.0.0.1:{port}/0\"\nnode_id = \"{node}\"\n\n[audit]\npath = \"audit.jsonl\"\n\n{}",
            common::fixture("fx", "", "")
        );
        Gateway::start("switchboard.toml", &config)
    };
    let replicas = [audited("a1"), audited("a2")];
    for gw in &replicas {
        wait_until_shared(gw).await;
    }
    let clients: Vec<RawClient> = replicas.iter().map(|g| RawClient::new(&g.url)).collect();
    for i in 0..40u64 {
        let a = call(&clients[(i % 2) as usize], i + 1).await;
        assert_eq!(a["result"]["content"][0]["text"], "hi", "{a}");
    }
    let lines = |gw: &Gateway| -> Vec<Value> {
        std::fs::read_to_string(gw.dir().join("audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let until = Instant::now() + Duration::from_secs(10);
    let count = |gw: &Gateway| {
        lines(gw)
            .iter()
            .filter(|l| l["method"] == "tools/call")
            .count()
    };
    while replicas.iter().map(count).sum::<usize>() < 40 {
        assert!(Instant::now() < until, "the audit lines never came");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut all = Vec::new();
    for (gw, node) in replicas.iter().zip(["a1", "a2"]) {
        let mine: Vec<u64> = lines(gw)
            .iter()
            .map(|l| {
                assert_eq!(l["node"], node, "{l}");
                l["seq"]
                    .as_u64()
                    .unwrap_or_else(|| panic!("not numbered by the store: {l}"))
            })
            .collect();
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "{node}: {mine:?}");
        all.extend(mine);
    }
    all.sort_unstable();
    let expected: Vec<u64> = (1..=all.len() as u64).collect();
    assert_eq!(all, expected, "one sequence over both trails");
}

/// Two replicas (each its own state directory) pin one upstream's definitions: a change held on
/// both is held by a third started afterwards too (its first sight does not trust it over the
/// cluster's pin), and one approval on any releases it on all, through the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_on_one_replica_releases_the_tool_on_every_replica() {
    let port = free_port();
    let Some(_redis) = redis(port) else { return };
    let dir = tempfile::tempdir().unwrap();
    let description = dir.path().join("description.txt");
    std::fs::write(&description, "Return the message unchanged.").unwrap();
    let pinned = |node: &str| {
        let config = format!(
            "[cluster]\nredis = \"redis://127.0.0.1:{port}/0\"\nnode_id = \"{node}\"\n\n{}",
            common::fixture(
                "fx",
                &format!("--description-file {}", description.display()),
                "on_tool_change = \"block\""
            )
        );
        Gateway::start("switchboard.toml", &config)
    };
    let replicas = [pinned("p1"), pinned("p2")];
    for gw in &replicas {
        wait_until_shared(gw).await;
    }
    let mut clients = Vec::new();
    for gw in &replicas {
        let mut c = RawClient::new(&gw.url);
        c.initialize().await;
        clients.push(c);
    }
    // The upstream (one fixture process per replica) changes the description and says so.
    std::fs::write(&description, "Echo, version two.").unwrap();
    for c in &clients {
        let echo = json!({"name": "fx__echo", "arguments": {"message": "list_changed"}});
        let _ = c.request(90, "tools/call", echo).await;
    }
    for c in &clients {
        listed_until(c, false).await;
    }
    let late = pinned("p3");
    wait_until_shared(&late).await;
    let mut c = RawClient::new(&late.url);
    c.initialize().await;
    listed_until(&c, false).await;
    clients.push(c);
    let r: Value = reqwest::Client::new()
        .post(format!("{}/pins/approve", replicas[0].base))
        .json(&json!({"server": "fx", "tool": "echo"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["approved"], json!(["echo"]), "{r}");
    for c in &clients {
        listed_until(c, true).await;
    }
}

/// Until `fx__echo` is listed (`shown`) or not, through `c`'s session.
async fn listed_until(c: &RawClient, shown: bool) {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let l = c.request(91, "tools/list", json!({})).await;
        if common::tool_names(&l).contains(&"fx__echo") == shown {
            return;
        }
        assert!(
            Instant::now() < until,
            "fx__echo never became listed = {shown}: {l}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
