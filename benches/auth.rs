//! What identity and policy add to a call. In one run, on one machine:
//! - in isolation: authenticating a bearer JWT (cached after its first verification, and
//!   uncached: signature and claims every time), an API key, and a policy decision with and
//!   without a CEL condition;
//! - end to end, in process: the same `tools/call` through the whole HTTP application to the
//!   fixture upstream, without authentication and with a JWT plus three policy rules, in
//!   interleaved rounds (medians of the per-round means, so drift hits both alike).
//!
//! Run with: `cargo bench --bench auth`. Target: under 10 µs added per call with a cached key.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // the harness measures wall time

use axum::body::Body;
use axum::http::Request;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::json;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard::auth::Auth;
use switchboard::call::{Identity, Via};
use switchboard::config::Config;
use switchboard::gateway::Gateway;
use switchboard::policy::{Policy, Target};
use switchboard::server::Server;
use tower::ServiceExt;

const AUDIENCE: &str = "http://127.0.0.1:8931/mcp";
const ISSUER: &str = "https://idp.bench";

/// An ES256 key: its JWKS document and a token signed with it for `sub` with `roles`.
fn key_and_token(dir: &std::path::Path) -> (std::path::PathBuf, String) {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref(); // 0x04 || x || y
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jwks = json!({"keys": [{"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65]), "kid": "bench", "alg": "ES256", "use": "sig"}]});
    let path = dir.join("jwks.json");
    std::fs::write(&path, jwks.to_string()).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some("bench".into());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "bench-agent", "exp": now + 3600, "iat": now, "roles": ["ops"], "scope": "mcp"});
    let token = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref()),
    )
    .unwrap();
    (path, token)
}

/// The one upstream every gateway of the run calls: the fixture over HTTP, one process, so the
/// gateways differ in nothing but their configuration.
static UPSTREAM: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn config(dir: &std::path::Path, auth: bool, jwks: &std::path::Path, cached: bool) -> Config {
    let url = UPSTREAM.get().expect("the upstream runs");
    let mut text = format!("[servers.fx]\nurl = \"{url}\"\n");
    if auth {
        text.push_str(&format!(
            r#"
[auth]
mode = "required"
[[auth.api_keys]]
id = "bot"
sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
roles = ["ops"]
[auth.jwt]
issuer = "{ISSUER}"
audience = "{AUDIENCE}"
jwks = "{}"
max_cached_tokens = {}
[[policy]]
roles = ["reader"]
allow = ["time__*"]
[[policy]]
roles = ["ops"]
allow = ["fx__*"]
deny = ["fx__tool_9*"]
[[policy]]
roles = ["files"]
allow = ["fs__read_text_file"]
when = 'args.path.startsWith("/srv/public/")'
"#,
            jwks.display(),
            if cached { 10_000 } else { 0 }
        ));
    }
    let path = dir.join(if auth { "auth.toml" } else { "open.toml" });
    std::fs::write(&path, text).unwrap();
    Config::load(&path).unwrap()
}

fn per_op(n: u32, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed() / n
}

fn isolation(
    rt: &tokio::runtime::Runtime,
    dir: &std::path::Path,
    jwks: &std::path::Path,
    token: &str,
) {
    for cached in [true, false] {
        let cfg = config(dir, true, jwks, cached);
        let audit = Arc::new(switchboard::policy::audit::Audit::open(&cfg.audit).unwrap());
        let auth = Auth::new(&cfg.auth, audit).unwrap();
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
        let n = if cached { 200_000 } else { 5_000 };
        let t = per_op(n, || {
            black_box(rt.block_on(auth.authenticate(black_box(&headers))).unwrap());
        });
        let what = if cached {
            "cached"
        } else {
            "uncached: ES256 signature + claims"
        };
        println!(
            "authenticate a bearer JWT ({what}): {:.2} µs",
            t.as_secs_f64() * 1e6
        );
        if cached {
            let mut key = axum::http::HeaderMap::new();
            key.insert("x-api-key", "test".parse().unwrap());
            let t = per_op(200_000, || {
                black_box(rt.block_on(auth.authenticate(black_box(&key))).unwrap());
            });
            println!("authenticate an API key: {:.2} µs", t.as_secs_f64() * 1e6);
        }
    }
    let cfg = config(dir, true, jwks, true);
    let policy = Policy::new(cfg.policy.clone());
    let ops = Identity::new("bench-agent", vec!["ops".into()], Via::Jwt);
    let files = Identity::new("bench-agent", vec!["files".into()], Via::Jwt);
    let call = |name| Target {
        name,
        server: "fx",
        method: "tools/call",
        arguments: Some(r#"{"path":"/srv/public/a.txt","message":"hello"}"#),
    };
    let t = per_op(500_000, || {
        black_box(policy.decide(black_box(&ops), &call("fx__echo")));
    });
    println!(
        "policy decision, globs only: {:.2} µs",
        t.as_secs_f64() * 1e6
    );
    let t = per_op(100_000, || {
        black_box(policy.decide(black_box(&files), &call("fs__read_text_file")));
    });
    println!(
        "policy decision with a CEL condition over the arguments: {:.2} µs",
        t.as_secs_f64() * 1e6
    );
}

async fn session(app: &axum::Router, auth: Option<&str>) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}});
    let r = app
        .clone()
        .oneshot(request(&init.to_string(), auth, None))
        .await
        .unwrap();
    r.headers()["mcp-session-id"].to_str().unwrap().to_string()
}

fn request(body: &str, auth: Option<&str>, session: Option<&str>) -> Request<Body> {
    let mut b = Request::post("/mcp")
        .header("host", "127.0.0.1:8931")
        .header("content-type", "application/json")
        .header("accept", "application/json");
    if let Some(t) = auth {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    if let Some(s) = session {
        b = b.header("mcp-session-id", s);
    }
    b.body(Body::from(body.to_string())).unwrap()
}

async fn round(app: &axum::Router, auth: Option<&str>, sid: &str, n: u32) -> Duration {
    let call = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"fx__echo","arguments":{"message":"hello"}}}"#;
    let start = Instant::now();
    for _ in 0..n {
        let r = app
            .clone()
            .oneshot(request(call, auth, Some(sid)))
            .await
            .unwrap();
        let body = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        assert!(
            body.windows(6).any(|w| w == b"result"),
            "{}",
            String::from_utf8_lossy(&body)
        );
    }
    start.elapsed() / n
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test --all-targets` builds it; only `cargo bench` runs it
    }
    let dir = tempfile::tempdir().unwrap();
    let (jwks, token) = key_and_token(dir.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut upstream = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["fixture", "--http", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(20));
    }
    UPSTREAM
        .set(format!("http://127.0.0.1:{port}/mcp"))
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    isolation(&rt, dir.path(), &jwks, &token);
    rt.block_on(async {
        let start = |auth| {
            let jwks = jwks.clone();
            let dir = dir.path().to_path_buf();
            async move {
                let gw = Gateway::start(config(&dir, auth, &jwks, true)).await.unwrap();
                Server::new(gw).unwrap()
            }
        };
        // Two open gateways: their difference is the noise floor of the comparison.
        let (open, control, authed) = (start(false).await, start(false).await, start(true).await);
        let apps = [(open.app(), None), (control.app(), None), (authed.app(), Some(token.as_str()))];
        let mut sessions = Vec::new();
        for (app, auth) in &apps {
            sessions.push(session(app, *auth).await);
        }
        let mut times = vec![Vec::new(); apps.len()];
        for r in 0..16 {
            for (i, (app, auth)) in apps.iter().enumerate() {
                let t = round(app, *auth, &sessions[i], 1_000).await;
                if r > 0 {
                    times[i].push(t); // the first round warms up
                }
            }
        }
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let m: Vec<f64> = times.into_iter().map(|t| us(median(t))).collect();
        println!("tools/call end to end, no authentication: {:.1} µs (a second open gateway: {:.1} µs)", m[0], m[1]);
        println!("tools/call end to end, JWT + 3 policy rules: {:.1} µs", m[2]);
        println!(
            "added per call: {:.1} µs; between the two open gateways: {:.1} µs (medians of 15 interleaved rounds of 1,000 calls)",
            m[2] - m[0],
            m[1] - m[0]
        );
        for s in [open, control, authed] {
            s.shutdown().await;
        }
    });
    let _ = upstream.kill();
    let _ = upstream.wait();
}
