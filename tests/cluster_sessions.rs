//! Sessions across replicas sharing a real `redis-server` (`[cluster]`): any replica answers a
//! session's requests (forwarding them to the replica that owns it, where its per-session
//! upstreams, calls in flight and stream live); the real SDKs run whole sessions through nginx
//! round-robin; a parked 2026-07-28 call resumes on another replica; a session whose replica is
//! killed moves to another, which says so.

mod common;

use common::cluster::{nginx, redis, wait_until_up};
use common::{free_port, Gateway, RawClient};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use tokio::time::Instant;

/// Replica `node` sharing sessions through the store at `port`: server-everything and the
/// conformance fixture shared (one stdio connection each per replica), and a per-session
/// server-memory whose graph file is this replica's own: what one session's calls see of it,
/// whichever replica they land on, is one replica's.
fn session_replica(node: &str, port: u16, graphs: &Path) -> Gateway {
    let modules = common::tools_dir().join("npm/node_modules");
    let memory = modules.join("@modelcontextprotocol/server-memory/dist/index.js");
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/conformance-upstream.mjs");
    let config = format!(
        r#"
[cluster]
redis = "redis://127.0.0.1:{port}/0"
node_id = "{node}"

[servers.everything]
command = "node"
args = ["{everything}", "stdio"]

[servers.mem]
command = "node"
args = ["{memory}"]
isolation = "per-session"
env = {{ MEMORY_FILE_PATH = "{graph}" }}

[servers.conf]
command = "node"
args = ["{fixture}"]
env = {{ SDK_NODE_MODULES = "{modules}" }}
"#,
        everything = common::everything_js().display(),
        memory = memory.display(),
        graph = graphs.join(format!("{node}.jsonl")).display(),
        fixture = fixture.display(),
        modules = modules.display(),
    );
    Gateway::start("switchboard.toml", &config)
}

/// Replicas `nodes` sharing sessions through the store at `port`, each with its store up.
async fn session_cluster(nodes: &[&str], port: u16, graphs: &Path) -> Vec<Gateway> {
    let replicas: Vec<Gateway> = nodes
        .iter()
        .map(|n| session_replica(n, port, graphs))
        .collect();
    for gw in &replicas {
        wait_until_up(gw).await;
    }
    replicas
}

/// `tools/call` params of `name` with `arguments`.
fn call(name: &str, arguments: Value) -> Value {
    json!({"name": name, "arguments": arguments})
}

/// The text of a `tools/call` answer.
fn text(answer: &Value) -> String {
    answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The messages of an answer: its one JSON body, or each `data:` of its event stream.
fn messages(a: &common::Answer) -> Vec<Value> {
    if !a.body.is_null() {
        return vec![a.body.clone()];
    }
    a.text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str(d.trim()).ok())
        .collect()
}

/// One entity created in the session's private memory server.
fn entity(name: &str) -> Value {
    call(
        "mem__create_entities",
        json!({"entities": [{"name": name, "entityType": "test", "observations": ["kept"]}]}),
    )
}

/// A session opened on one replica is answered by every replica (forwarded to its owner: the
/// per-session memory server's state is one), under the same identity and endpoint checks;
/// a made-up id is 404 everywhere; `DELETE` on any replica ends it on all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_is_served_by_every_replica_and_ends_everywhere() {
    if !common::peers("cluster sessions") {
        return;
    }
    let port = free_port();
    let Some(_redis) = redis(port) else { return };
    let graphs = tempfile::tempdir().unwrap();
    let replicas = session_cluster(&["s1", "s2", "s3"], port, graphs.path()).await;
    let mut first = RawClient::new(&replicas[0].url);
    first.initialize().await;
    let session = first.session.clone().unwrap();
    let on = |i: usize| RawClient {
        session: Some(session.clone()),
        ..RawClient::new(&replicas[i].url)
    };
    let created = on(1).request(1, "tools/call", entity("made-on-s2")).await;
    assert!(created.get("result").is_some(), "{created}");
    for (i, word) in [(2, "three"), (0, "one"), (1, "two")] {
        let id = 10 + i as u64;
        let r = on(i)
            .request(
                id,
                "tools/call",
                call("everything__echo", json!({"message": word})),
            )
            .await;
        assert!(text(&r).contains(word), "replica {i}: {r}");
        let graph = on(i)
            .request(id + 10, "tools/call", call("mem__read_graph", json!({})))
            .await;
        assert!(text(&graph).contains("made-on-s2"), "replica {i}: {graph}");
    }
    for other in &replicas[1..] {
        assert!(
            !other
                .log()
                .contains("serving a session another replica opened"),
            "a replica served the session itself instead of forwarding it to its owner"
        );
    }
    // A made-up session id: 404 on every replica, forwarded nowhere.
    for gw in &replicas {
        let stranger = RawClient {
            session: Some("0123456789abcdef0123456789abcdef".into()),
            ..RawClient::new(&gw.url)
        };
        let a = stranger
            .post_raw(
                json!({"jsonrpc":"2.0","id":9,"method":"tools/list"}).to_string(),
                &[],
            )
            .await;
        assert_eq!(a.status, 404, "{}", a.text);
    }
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

/// The TypeScript SDK (the initialize generation) runs a session through nginx round-robin over
/// three replicas: the catalog, calls to a shared upstream, and a per-session memory server
/// whose state every later call sees, wherever it lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_sdk_runs_a_session_across_replicas_behind_nginx() {
    if !common::peers("cluster behind nginx") {
        return;
    }
    let port = free_port();
    let Some(_redis) = redis(port) else { return };
    let graphs = tempfile::tempdir().unwrap();
    let replicas = session_cluster(&["n1", "n2", "n3"], port, graphs.path()).await;
    let Some((_nginx, url, _dir)) = nginx(&replicas.iter().collect::<Vec<_>>()) else {
        return;
    };
    let mut actions = vec![json!(["list"])];
    let made = entity("made-by-ts");
    actions.push(json!(["call", made["name"], made["arguments"]]));
    for i in 0..6 {
        actions.push(json!(["call", "everything__echo", {"message": format!("call {i}")}]));
        actions.push(json!(["call", "mem__read_graph", {}]));
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
    assert_eq!(out[0], out[14], "the same catalog on every replica");
    assert_eq!(out[1]["ok"], true, "{}", out[1]);
    for i in 0..6 {
        let (echo, graph) = (&out[2 + 2 * i], &out[3 + 2 * i]);
        assert!(
            echo["text"]
                .as_str()
                .unwrap()
                .contains(&format!("call {i}")),
            "{echo}"
        );
        assert!(
            graph["text"].as_str().unwrap().contains("made-by-ts"),
            "{graph}"
        );
    }
}

/// The Python SDK (the initialize generation) runs a whole session through nginx round-robin
/// over three replicas: list, a shared upstream, the per-session memory server's state, progress,
/// a sampling request it answers, a changed tool list on its stream, and DELETE on close.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_runs_a_whole_session_across_replicas_behind_nginx() {
    if !common::peers("cluster behind nginx (Python)") {
        return;
    }
    let port = free_port();
    let Some(_redis) = redis(port) else { return };
    let graphs = tempfile::tempdir().unwrap();
    let replicas = session_cluster(&["p1", "p2", "p3"], port, graphs.path()).await;
    let Some((_nginx, url, _dir)) = nginx(&replicas.iter().collect::<Vec<_>>()) else {
        return;
    };
    let v = common::run_json(
        Command::new(common::python())
            .arg(common::client_script("py_cluster.py"))
            .arg(&url),
    );
    let tools: Vec<&str> = v["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        tools.contains(&"mem__read_graph") && tools.contains(&"conf__test_change_tools"),
        "{v}"
    );
    for (i, echo) in v["echoes"].as_array().unwrap().iter().enumerate() {
        assert!(echo.as_str().unwrap().contains(&format!("echo {i}")), "{v}");
    }
    for graph in v["graphs"].as_array().unwrap() {
        assert!(
            graph.as_str().unwrap().contains("runs on three replicas"),
            "{v}"
        );
    }
    assert_eq!(v["long_running_error"], false, "{v}");
    let progress: Vec<f64> = v["progress"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    assert_eq!(progress, [1.0, 2.0, 3.0], "{v}");
    let asked = v["sampling"][0].as_str().unwrap_or_default();
    assert!(asked.contains("hello from a replica"), "{v}");
    assert!(
        v["sampled"]
            .as_str()
            .unwrap()
            .contains("sampled by the client"),
        "{v}"
    );
    assert!(
        v["list_changed"].as_u64().unwrap() >= 1,
        "no tools/list_changed reached the client: {v}"
    );
    assert!(
        v["tools_after"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t.as_str().unwrap().starts_with("conf__test_added_")),
        "{v}"
    );
    // The client sent DELETE on close: no replica holds the session any more.
    for gw in &replicas {
        let until = Instant::now() + Duration::from_secs(5);
        while common::get_json(&format!("{}/servers", gw.base)).await["sessions"] != 0 {
            assert!(
                Instant::now() < until,
                "{} still holds the session",
                gw.base
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A 2026-07-28 call parked on one replica (its upstream asked the client for a sampling) is
/// resumed by the client's retry on another: forwarded to the replica holding it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parked_call_resumes_on_another_replica() {
    if !common::peers("cluster parked calls") {
        return;
    }
    let port = free_port();
    let Some(_redis) = redis(port) else { return };
    let graphs = tempfile::tempdir().unwrap();
    let replicas = session_cluster(&["q1", "q2"], port, graphs.path()).await;
    let tool = "everything__trigger-sampling-request";
    let headers = [
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", tool),
    ];
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"sampling": {}}});
    let body = |extra: Value| {
        let mut params =
            json!({"_meta": meta, "name": tool, "arguments": {"prompt": "across", "maxTokens": 5}});
        params
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}).to_string()
    };
    let a = RawClient::new(&replicas[0].url)
        .post_raw(body(json!({})), &headers)
        .await;
    let result = &a.body["result"];
    assert_eq!(result["resultType"], "input_required", "{}", a.text);
    let state = result["requestState"].as_str().unwrap();
    let key = result["inputRequests"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let answer =
        json!({"role":"assistant","content":{"type":"text","text":"answered on q2"},"model":"t"});
    let retry = body(json!({"requestState": state, "inputResponses": {key.clone(): answer}}));
    let b = RawClient::new(&replicas[1].url)
        .post_raw(retry, &headers)
        .await;
    assert_eq!(b.status, 200, "{}", b.text);
    assert!(b.text.contains("answered on q2"), "{}", b.text);
    // A made-up requestState stays unknown (forwarded nowhere).
    let bogus = body(json!({"requestState": "00", "inputResponses": {key: answer}}));
    let c = RawClient::new(&replicas[1].url)
        .post_raw(bogus, &headers)
        .await;
    assert!(
        c.text.contains("unknown or expired requestState"),
        "{}",
        c.text
    );
}

/// The replica that owns a session is killed (SIGKILL) mid-session: the next request on another
/// replica succeeds there, which takes the session over and tells the client (a warning log
/// message first on the answer's stream) that its per-session server starts afresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_whose_replica_is_killed_moves_and_the_client_is_told() {
    if !common::peers("cluster failover") {
        return;
    }
    let port = free_port();
    let Some(_redis) = redis(port) else { return };
    let graphs = tempfile::tempdir().unwrap();
    let owner = session_replica("k1", port, graphs.path());
    let survivor = session_replica("k2", port, graphs.path());
    wait_until_up(&owner).await;
    wait_until_up(&survivor).await;
    let mut c = RawClient::new(&owner.url);
    c.initialize().await;
    let r = c.request(1, "tools/call", entity("before-the-kill")).await;
    assert!(r.get("result").is_some(), "{r}");
    // Through the survivor, forwarded to the owner: its state.
    let on_survivor = RawClient {
        session: c.session.clone(),
        ..RawClient::new(&survivor.url)
    };
    let graph = on_survivor
        .request(2, "tools/call", call("mem__read_graph", json!({})))
        .await;
    assert!(text(&graph).contains("before-the-kill"), "{graph}");
    let pid = owner.pid();
    drop(owner); // SIGKILL; its children die with it
    assert!(!common::alive(pid));
    let echo = json!({"jsonrpc":"2.0","id":3,"method":"tools/call",
        "params": call("everything__echo", json!({"message": "after"}))});
    let a = on_survivor
        .post_raw(echo.to_string(), &[("mcp-protocol-version", "2025-11-25")])
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let got = messages(&a);
    assert_eq!(got[0]["method"], "notifications/message", "{}", a.text);
    assert_eq!(got[0]["params"]["level"], "warning");
    assert!(
        got[0]["params"]["data"].as_str().unwrap().contains("k1"),
        "{}",
        a.text
    );
    assert!(text(got.last().unwrap()).contains("after"), "{}", a.text);
    assert!(survivor
        .log()
        .contains("took over a session whose replica is gone"));
    // Told once; the per-session server started afresh on the survivor.
    let graph = on_survivor
        .request(4, "tools/call", call("mem__read_graph", json!({})))
        .await;
    assert!(!text(&graph).contains("before-the-kill"), "{graph}");
    let listed = on_survivor.request(5, "tools/list", json!({})).await;
    assert!(!common::tool_names(&listed).is_empty(), "{listed}");
}
