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
    let e = err("this is = = not toml");
    assert!(e.starts_with("test.conf: .:"), "{e}");
    let e = err(r#"{"server_keywords": {}}"#);
    assert!(e.contains("router configuration"), "{e}");
    let e = err(r#"{"mcpServers": {"a": {"command": ["x"]}}}"#);
    assert!(e.contains("mcpServers.a.command"), "{e}");
    let e = err(r#"{"a": {"command": "x"}}"#);
    assert!(e.contains("a") && e.contains("port"), "{e}");
}

#[test]
fn embedded_default_loads() {
    let c = Config::embedded_default().unwrap();
    assert_eq!(c.servers.len(), 2);
    assert!(c.gateway.listen.ip().is_loopback());
}
