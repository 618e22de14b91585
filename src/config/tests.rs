//! Loading every format, and errors that name file, field and problem.

use super::expand::Context;
use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    let ctx = Context::default().with_var("DOCS_TOKEN", "tok".into());
    Config::parse(text, "test.conf", &ctx)
}

fn err(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn toml_example_from_the_docs() {
    let c = parse(
        r#"
[gateway]
listen = "127.0.0.1:8931"
separator = "__"
max_name_len = 64

[servers.time]
command = "mcp-server-time"
args = []
env = { TZ = "UTC" }

[servers.docs]
url = "http://127.0.0.1:9000/mcp"
headers = { Authorization = "Bearer ${DOCS_TOKEN}" }

[servers.legacy]
url = "http://127.0.0.1:9100/sse"
transport = "sse"
"#,
    )
    .unwrap();
    let names: Vec<&str> = c.servers.iter().map(|s| &*s.name).collect();
    assert_eq!(names, ["time", "docs", "legacy"]);
    match &c.servers[0].transport {
        Transport::Stdio(l) => {
            assert_eq!(l.program, "mcp-server-time");
            assert_eq!(l.env, [("TZ".to_string(), "UTC".to_string())]);
        }
        t => panic!("{t:?}"),
    }
    match &c.servers[1].transport {
        Transport::StreamableHttp(h) => {
            assert_eq!(h.headers[0].1, "Bearer tok");
            assert!(h.headers[0].1.is_sensitive());
            // Debug output never shows the secret.
            assert!(!format!("{:?}", c.servers[1]).contains("tok"));
        }
        t => panic!("{t:?}"),
    }
    assert!(matches!(c.servers[2].transport, Transport::Sse(_)));
}

#[test]
fn claude_desktop_format() {
    let c = parse(
        r#"{"mcpServers": {
            "everything": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything"], "autoApprove": []},
            "off": {"command": "x", "disabled": true},
            "remote": {"url": "http://127.0.0.1:3001/sse"}
        }}"#,
    )
    .unwrap();
    assert_eq!(c.servers.len(), 2);
    assert!(matches!(c.servers[0].transport, Transport::Stdio(_)));
    assert!(matches!(c.servers[1].transport, Transport::Sse(_)));
}

#[test]
fn vscode_format() {
    let c = parse(
        r#"{"inputs": [], "servers": {
            "a": {"type": "stdio", "command": "mcp-server-time", "args": []},
            "b": {"type": "http", "url": "http://127.0.0.1:3001/mcp", "headers": {"X-Key": "${env:DOCS_TOKEN}"}},
            "c": {"type": "sse", "url": "http://127.0.0.1:3002/sse"}
        }}"#,
    )
    .unwrap();
    let kinds: Vec<&str> = c.servers.iter().map(|s| s.transport.kind()).collect();
    assert_eq!(kinds, ["stdio", "http", "sse"]);
}

#[test]
fn seed_registry_format() {
    let c = parse(
        r#"{"mem0": {"name": "Memory", "path": "/srv/mem0", "command": "uv run python src/main.py",
                     "port": 8050, "env": {"A": "1"}, "dependencies": {}, "health_check": "curl"}}"#,
    )
    .unwrap();
    let s = &c.servers[0];
    match &s.transport {
        Transport::Sse(h) => assert_eq!(h.url.as_str(), "http://127.0.0.1:8050/sse"),
        t => panic!("{t:?}"),
    }
    let l = s.launch.as_ref().unwrap();
    assert_eq!(l.args, ["-c", "uv run python src/main.py"]);
    assert_eq!(l.cwd.as_deref(), Some(std::path::Path::new("/srv/mem0")));
}

#[test]
fn errors_name_file_field_and_problem() {
    let e = err("[servers.a]\ncommand = 1\n");
    assert!(e.starts_with("test.conf: servers.a.command:"), "{e}");
    let e = err("[servers.a]\ncommand = \"x\"\ncomand = \"y\"\n");
    assert!(e.contains("servers.a") && e.contains("comand"), "{e}");
    assert!(
        e.contains("unknown field `comand`") && e.contains("expected one of"),
        "the problem in words, not the snippet: {e}"
    );
    let e = err("[servers.a]\nurl = \"ftp://x\"\n");
    assert!(
        e.contains("servers.a.url") && e.contains("http or https"),
        "{e}"
    );
    let e = err("[servers.a]\nurl = \"http://x/\"\nheaders = { A = \"${SB_UNSET_VAR}\" }\n");
    assert!(
        e.contains("servers.a.headers.A") && e.contains("SB_UNSET_VAR"),
        "{e}"
    );
    let e = err("[servers.a]\nargs = []\n");
    assert!(e.contains("servers.a") && e.contains("needs"), "{e}");
    let e = err("[gateway]\nlisten = \"nowhere\"\n");
    assert!(e.contains("gateway.listen"), "{e}");
    let e = err("[servers.a]\ncommand = \"x\"\ntransport = \"carrier-pigeon\"\n");
    assert!(
        e.contains("servers.a.transport") && e.contains("carrier-pigeon"),
        "{e}"
    );
    assert!(e.contains("expected one of `stdio`, `http`"), "{e}");
    let e = err("[servers.a]\ncommand = \"x\"\nprotocol = \"2099\"\n");
    assert!(
        e.contains("servers.a.protocol") && e.contains("2026-07-28"),
        "{e}"
    );
    let e = err("this is = = not toml");
    assert!(e.starts_with("test.conf: .:"), "{e}");
    let e = err(r#"{"server_keywords": {}}"#);
    assert!(e.contains("router configuration"), "{e}");
    let e = err(r#"{"mcpServers": {"a": {"command": ["x"]}}}"#);
    assert!(e.contains("mcpServers.a.command"), "{e}");
    let e = err(r#"{"a": {"command": "x"}}"#);
    assert!(e.contains("a") && e.contains("port"), "{e}");
    let e = err("[router]\nfallback = \"search\"\n[servers.a]\ncommand = \"x\"\n");
    assert!(
        e.contains("router.fallback") && e.contains("\"search\" is not a configured server"),
        "{e}"
    );
    let c = parse("[router]\nfallback = \"a\"\n[servers.a]\ncommand = \"x\"\n").unwrap();
    assert_eq!(c.router.fallback.as_deref(), Some("a"));
}

#[test]
fn embedded_default_loads() {
    let c = Config::embedded_default().unwrap();
    assert_eq!(c.servers.len(), 2);
    assert!(c.gateway.listen.ip().is_loopback());
}

#[test]
fn resilience_settings_parse_into_layer_settings() {
    let c = parse(
        r#"
[gateway]
request_timeout = "45s"
max_retries = 1

[servers.busy]
command = "x"
timeouts = { "tools/list" = "3s", "prompts/get" = "5s" }
tool_timeouts = { long_job = "10m" }
max_timeout = "20m"
rate_limit = { per_second = 5, burst = 10 }
client_rate_limit = { per_second = 0.5 }
max_concurrent = 8
retry = { max = 4, min_backoff = "50ms", max_backoff = "1s" }
breaker = { failures = 3, open_for = "10s", error_rate = 0.25, window = 40 }

[servers.plain]
command = "y"
"#,
    )
    .unwrap();
    let busy = c.resilience(&c.servers[0]);
    let t = &busy.timeouts;
    assert_eq!(t.for_call("tools/call", None), Duration::from_secs(45));
    assert_eq!(
        t.for_call("tools/call", Some("long_job")),
        Duration::from_secs(600)
    );
    assert_eq!(t.for_call("tools/list", None), Duration::from_secs(3));
    assert_eq!(t.for_call("prompts/list", None), Duration::from_secs(15));
    assert_eq!(t.for_call("prompts/get", None), Duration::from_secs(5));
    assert_eq!(t.max, Duration::from_secs(1200));
    let up = busy.rate.upstream.unwrap();
    assert_eq!((up.per_second, up.burst), (5.0, 10));
    assert_eq!(busy.rate.client.unwrap().burst, 1, "at least one");
    assert_eq!(busy.max_concurrent, 8);
    assert_eq!(
        busy.retry.max, 4,
        "the server's own retries win over the gateway's"
    );
    assert_eq!(busy.retry.min_backoff, Duration::from_millis(50));
    assert_eq!(busy.breaker.error_rate, 0.25);
    assert_eq!(busy.breaker.window, 40);
    let plain = c.resilience(&c.servers[1]);
    assert_eq!(plain.retry.max, 1, "the gateway's max_retries");
    assert_eq!(
        plain.rate,
        super::resilience::RateLimits::default(),
        "no limits by default"
    );
    assert_eq!(
        plain.timeouts.for_call("tools/list", None),
        Duration::from_secs(15)
    );
}

#[test]
fn seed_default_limits_set_timeouts_and_retries() {
    let mut c = parse(r#"{"fs": {"command": "node", "args": ["fs.js"], "port": 7001}}"#).unwrap();
    let rules = super::rules::parse_file(
        r#"{"server_keywords": {}, "default_limits": {"response_timeout": 8, "max_retries": 0, "startup_wait": 2}}"#,
        "router.json",
    )
    .unwrap();
    c.apply_rules(rules, "router.json");
    let s = c.resilience(&c.servers[0]);
    assert_eq!(
        s.timeouts.for_call("tools/call", None),
        Duration::from_secs(8)
    );
    assert_eq!(
        s.timeouts.for_call("tools/list", None),
        Duration::from_secs(8),
        "lists never longer"
    );
    assert_eq!(s.retry.max, 0);
    assert_eq!(c.gateway.startup_timeout, Duration::from_secs(2));
}

#[test]
fn bad_resilience_settings_name_the_field() {
    let e = err("[servers.a]\ncommand = \"x\"\nrate_limit = { per_second = 0 }\n");
    assert!(
        e.contains("servers.a.rate_limit.per_second") && e.contains("positive"),
        "{e}"
    );
    let e = err("[servers.a]\ncommand = \"x\"\ntimeouts = { \"tools/call\" = \"soon\" }\n");
    assert!(e.contains("servers.a.timeouts"), "{e}");
    let e = err("[servers.a]\ncommand = \"x\"\nmax_concurrent = 0\n");
    assert!(e.contains("servers.a.max_concurrent"), "{e}");
    let e = err("[servers.a]\ncommand = \"x\"\nbreaker = { error_rate = 2 }\n");
    assert!(e.contains("servers.a.breaker.error_rate"), "{e}");
    let e = err(
        "[servers.a]\ncommand = \"x\"\nretry = { min_backoff = \"2s\", max_backoff = \"1s\" }\n",
    );
    assert!(e.contains("servers.a.retry"), "{e}");
}

#[test]
fn a_copy_of_the_embedded_default_loads_as_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.toml");
    std::fs::write(&path, default::DEFAULT_TOML).unwrap();
    let c = Config::load(&path).unwrap();
    let exe = std::env::current_exe().unwrap();
    assert_eq!(c.servers.len(), 2);
    for s in &c.servers {
        let Transport::Stdio(launch) = &s.transport else {
            panic!("{s:?}")
        };
        assert_eq!(
            launch.program,
            exe.display().to_string(),
            "${{SWITCHBOARD_SELF}} is this executable"
        );
    }
}

#[test]
fn identity_headers_are_templates_and_auth_settings_parse() {
    let c = parse(
        "[servers.d]\nurl = \"http://127.0.0.1:9/mcp\"\nheaders = { X-Caller = \"${auth.sub}@${SB_TEST_TENANT_UNSET:-acme}\", X-Fixed = \"v\" }\n",
    )
    .unwrap();
    let Transport::StreamableHttp(t) = &c.servers[0].transport else {
        panic!()
    };
    assert_eq!(t.headers.len(), 1, "the fixed header stays fixed");
    let (name, template) = &t.caller_headers[0];
    assert_eq!(name.as_str(), "x-caller");
    let claim = |c: &str| (c == "sub").then(|| "alice".to_string());
    assert_eq!(template.render(claim).as_deref(), Some("alice@acme"));
    assert_eq!(
        template.render(|_| None),
        None,
        "a missing claim leaves the header out"
    );
    assert!(!c.auth.explicit, "no [auth]: open on loopback only");

    let e = err("[auth]\nmode = \"required\"\n");
    assert!(e.contains("needs [[auth.api_keys]] or [auth.jwt]"), "{e}");
    let e = err("auth = \"open\"\n");
    assert!(e.contains("write auth = \"off\""), "{e}");
    let e = err("[auth.jwt]\nissuer = \"i\"\njwks = \"k.json\"\n");
    assert!(e.contains("auth.jwt.audience"), "{e}");
    assert!(parse("auth = \"off\"\n").unwrap().auth.explicit);
}
