//! Shared test harness: where the real MCP peers live, the gateway as a child process, and a
//! small raw HTTP client for exact status and error checks.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // blocking harness threads on the wall clock, outside any runtime
#![allow(dead_code)]

pub mod cluster;
mod faults;

#[allow(unused_imports)]
pub use faults::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where `.ci/install` put the real servers and clients (`$SWITCHBOARD_TOOLS`, else `./.tools`).
pub fn tools_dir() -> PathBuf {
    let dir = peers_dir();
    assert!(
        installed(&dir),
        "the real MCP peers are not installed in {}: run `bash .ci/install` (or `bash .ci/run`)",
        dir.display()
    );
    dir
}

fn peers_dir() -> PathBuf {
    std::env::var_os("SWITCHBOARD_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools"))
}

fn installed(dir: &Path) -> bool {
    [
        "venv/bin/python",
        "npm/node_modules",
        "npm/node_modules/oidc-provider",
        "node22/node_modules",
        "conformance-2026/node_modules",
        "npm/node_modules/.bin/dclint",
        "venv/bin/hadolint",
    ]
    .iter()
    .all(|p| dir.join(p).exists())
}

/// Whether the real peers `.ci/install` puts in place are there. Without them a test that needs
/// them is skipped, saying so on the terminal; with `SWITCHBOARD_REQUIRE_PEERS` set (CI sets it)
/// a missing peer is a failure, so CI can never pass by skipping.
pub fn peers(test: &str) -> bool {
    if installed(&peers_dir()) {
        return true;
    }
    let required = std::env::var_os("SWITCHBOARD_REQUIRE_PEERS").is_some_and(|v| !v.is_empty());
    assert!(
        !required,
        "{test}: the real MCP peers are not installed in {} and SWITCHBOARD_REQUIRE_PEERS is set: run `bash .ci/install`",
        peers_dir().display()
    );
    // Straight to the terminal: the test harness captures print! output of passing tests.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "skipped {test}: it needs the real MCP servers and clients; run `bash .ci/install` first"
    );
    false
}

/// Skip the calling test (saying so) unless the real peers are installed; see [`peers`].
#[macro_export]
macro_rules! needs_peers {
    () => {
        if !common::peers(concat!(file!(), ":", line!())) {
            return;
        }
    };
}

/// The venv's Python (with PyPI `mcp` 2.x and `mcp-server-time`).
pub fn python() -> PathBuf {
    tools_dir().join("venv/bin/python")
}

/// PyPI `mcp-server-time`.
pub fn time_server() -> PathBuf {
    tools_dir().join("venv/bin/mcp-server-time")
}

/// npm `@modelcontextprotocol/server-everything`'s entry point (run with `node`).
pub fn everything_js() -> PathBuf {
    tools_dir().join("npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js")
}

/// This crate's binary.
pub fn switchboard_bin() -> &'static str {
    env!("CARGO_BIN_EXE_switchboard")
}

/// A script in `tests/clients/`.
pub fn client_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(name)
}

/// A free loopback port (bound and released; good enough for a test peer).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Wait until something accepts TCP connections on `port`.
pub fn wait_for_port(port: u16, within: Duration) {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on 127.0.0.1:{port} after {within:?}");
}

/// A child process killed (with its group) when dropped.
pub struct Proc {
    pub child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// server-everything in `streamableHttp` or `sse` mode on a free port; returns it and its port.
pub fn everything_http(mode: &str) -> (Proc, u16) {
    let port = free_port();
    let child = Command::new("node")
        .arg(everything_js())
        .arg(mode)
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("node runs server-everything");
    wait_for_port(port, Duration::from_secs(30));
    (Proc { child }, port)
}

/// The gateway running as a child process.
pub struct Gateway {
    pub proc: Proc,
    pub url: String,
    pub base: String,
    pub log: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl Gateway {
    /// Write `config` to a file named `file_name` and serve it on a free port.
    pub fn start(file_name: &str, config: &str) -> Gateway {
        Self::start_env(file_name, config, &[])
    }

    /// The same, with extra environment variables for the gateway process.
    pub fn start_env(file_name: &str, config: &str, env: &[(&str, &str)]) -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(file_name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, config).unwrap();
        let mut cmd = Command::new(switchboard_bin());
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&path)
            .env("SWITCHBOARD_LOG", "info")
            // Pinned tool definitions go beside the test's config, not in the user's state.
            .env("XDG_STATE_HOME", dir.path().join("state"))
            .envs(env.iter().copied());
        Self::launch(cmd, dir)
    }

    /// Run `cmd` (a `serve` of some kind) and wait for its "listening on" line; `dir` lives as
    /// long as the gateway.
    pub fn launch(mut cmd: Command, dir: tempfile::TempDir) -> Gateway {
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(i) = line.find("listening on http://") {
                    let rest = &line[i + "listening on ".len()..];
                    let url = rest.split_whitespace().next().unwrap_or("").to_string();
                    let _ = tx.send(url);
                }
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let proc = Proc { child };
        let url = match rx.recv_timeout(Duration::from_secs(90)) {
            Ok(u) => u,
            Err(_) => panic!("gateway did not start; log:\n{}", log.lock().unwrap()),
        };
        let base = url.trim_end_matches("/mcp").to_string();
        Gateway {
            proc,
            url,
            base,
            log,
            _dir: dir,
        }
    }

    /// The directory its configuration file is in.
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// The gateway's pid.
    pub fn pid(&self) -> u32 {
        self.proc.child.id()
    }

    /// Everything it logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Its log once it holds `needle` (lines arrive on a reader thread, a moment after the
    /// gateway wrote them), or as it is after 10 s.
    pub async fn log_with(&self, needle: &str) -> String {
        for _ in 0..200 {
            let log = self.log();
            if log.contains(needle) {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.log()
    }
}

impl Drop for Gateway {
    /// A failing test shows what the gateway said, so that a flake explains itself.
    fn drop(&mut self) {
        if std::thread::panicking() {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "---- the gateway's log ({}) ----\n{}---- end of the gateway's log ----",
                self.url,
                self.log()
            );
        }
    }
}

/// A raw MCP-over-HTTP client: exact statuses, headers and bodies.
pub struct RawClient {
    pub url: String,
    pub http: reqwest::Client,
    pub session: Option<String>,
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl RawClient {
    pub fn new(url: &str) -> Self {
        RawClient {
            url: url.to_string(),
            http: reqwest::Client::new(),
            session: None,
        }
    }

    /// POST raw bytes with the usual headers plus `extra` (which override).
    pub async fn post_raw(&self, body: impl Into<reqwest::Body>, extra: &[(&str, &str)]) -> Answer {
        use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert(
            "accept",
            HeaderValue::from_static("application/json, text/event-stream"),
        );
        if let Some(s) = &self.session {
            headers.insert("mcp-session-id", HeaderValue::from_str(s).unwrap());
        }
        for (k, v) in extra {
            // Replace, not append: a test that sets Accept means that Accept only.
            headers.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        let resp = self
            .http
            .post(&self.url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }

    /// Initialize a session (and send `notifications/initialized`).
    pub async fn initialize(&mut self) -> Value {
        let a = self
            .post_raw(
                json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
                    "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"test","version":"0"}}})
                .to_string(),
                &[],
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        self.session = Some(a.headers["mcp-session-id"].to_str().unwrap().to_string());
        let n = self
            .post_raw(
                json!({"jsonrpc":"2.0","method":"notifications/initialized"}).to_string(),
                &[],
            )
            .await;
        assert_eq!(n.status, 202);
        a.body
    }

    /// A request; returns the whole JSON-RPC response.
    pub async fn request(&self, id: u64, method: &str, params: Value) -> Value {
        let a = self
            .post_raw(
                json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}).to_string(),
                &[("mcp-protocol-version", "2025-11-25")],
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        a.body
    }
}

/// GET a URL and read its JSON body.
pub async fn get_json(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// POST a JSON body and read the JSON answer.
pub async fn post_json(url: &str, body: &Value) -> Value {
    reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Process ids whose parent is `pid` (from /proc).
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        // Fields after the command (which may hold spaces) start after the last ')'.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let ppid: u32 = after.split(' ').nth(1).unwrap().parse().unwrap();
        if ppid == pid {
            out.push(p);
        }
    }
    out
}

/// Whether `pid` is alive (present and not a zombie).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let after = &stat[stat.rfind(')').unwrap() + 2..];
            !after.starts_with('Z') && !after.starts_with('X')
        }
        Err(_) => false,
    }
}

/// Run a client script that prints one JSON object as its last line; fail with its stderr.
pub fn run_json(cmd: &mut Command) -> Value {
    let out = cmd.output().expect("the client runs");
    assert!(
        out.status.success(),
        "client failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// Which protocol each upstream speaks, from `/servers` (`{server: version}`), from sync tests.
pub fn protocols(gw: &Gateway) -> Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let servers = rt.block_on(get_json(&format!("{}/servers", gw.base)));
    servers["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["server"].as_str().unwrap().to_string(),
                s["protocol"].clone(),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The tool names of a `tools/list` answer.
pub fn tool_names(answer: &Value) -> Vec<&str> {
    answer["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("not a tools/list answer: {answer}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect()
}

/// Run `cmd`, which must fail; what it said on stderr.
pub fn failure_of(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(!out.status.success(), "{cmd:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// server-everything's tool that asks the client for a sampling: a 2026-07-28 call of it parks
/// on an `input_required` round.
pub const SAMPLING_TOOL: &str = "everything__trigger-sampling-request";

/// The headers a 2026-07-28 call of [`SAMPLING_TOOL`] mirrors.
pub const SAMPLING_HEADERS: [(&str, &str); 3] = [
    ("mcp-protocol-version", "2026-07-28"),
    ("mcp-method", "tools/call"),
    ("mcp-name", SAMPLING_TOOL),
];

/// A 2026-07-28 call of [`SAMPLING_TOOL`] from a client that can sample, with `extra` merged
/// into its params (`requestState`, `inputResponses`).
pub fn sampling_call(extra: Value) -> String {
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"sampling": {}}});
    let mut params = json!({"_meta": meta, "name": SAMPLING_TOOL, "arguments": {"prompt": "hi", "maxTokens": 5}});
    params
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}).to_string()
}
