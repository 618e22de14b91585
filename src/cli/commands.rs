//! What each command does. Errors come back as text; `run` reports them.

use super::load_config;
use crate::config::Config;
use crate::gateway::Gateway;
use crate::router::{eval as evaluation, Router};
use crate::server::Server;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Load the configuration (see [`load_config`]) and extra rule files.
pub(super) fn load(path: Option<&Path>, rules: &[PathBuf]) -> Result<Config, String> {
    let mut config = load_config(path).map_err(|e| e.to_string())?;
    for r in rules {
        config.load_rules(r).map_err(|e| e.to_string())?;
    }
    Ok(config)
}

async fn start(path: Option<&Path>) -> Result<Arc<Gateway>, String> {
    let config = load(path, &[])?;
    traces(&config)?;
    cluster(&config)?;
    Gateway::start(config).await.map_err(|e| e.to_string())
}

/// Join the cluster `[cluster]` names (before any upstream's layers are built: they read it).
fn cluster(config: &Config) -> Result<(), String> {
    let Some(c) = &config.cluster else {
        return Ok(());
    };
    crate::cluster::start(c)?;
    tracing::info!(node = %c.node_id, "cluster: state shared through the store at cluster.redis");
    Ok(())
}

/// Export traces when `[telemetry] otlp_endpoint` says where.
fn traces(config: &Config) -> Result<(), String> {
    match &config.telemetry.otlp_endpoint {
        Some(url) => crate::observe::trace::export(url, &config.telemetry.service_name),
        None => Ok(()),
    }
}

/// `serve`: the HTTP faces until SIGTERM or Ctrl-C, then every upstream stopped. The address is
/// bound before any upstream starts, so a busy port fails at once and leaves nothing behind.
pub async fn serve(path: Option<&Path>, listen: Option<SocketAddr>) -> Result<(), String> {
    let mut config = load(path, &[])?;
    if let Some(addr) = listen {
        config.gateway.listen = addr;
    }
    let addr = config.gateway.listen;
    if let Some(why) = crate::auth::exposure(&config, addr) {
        return Err(why);
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e} (no server was started)"))?;
    traces(&config)?;
    cluster(&config)?;
    if let (Some(store), Ok(bound)) = (crate::cluster::store(), listener.local_addr()) {
        store.listening_on(bound);
    }
    let server = Server::new(Gateway::start(config).await.map_err(|e| e.to_string())?)?;
    if listen.is_some() {
        server.reloader.keep_listening_on(addr);
    }
    reloads(&server);
    let gw = server.gateway().clone();
    let signals = shutdown_signal();
    let bound = listener.local_addr().unwrap_or(addr);
    if !bound.ip().is_loopback() && gw.config().gateway.allowed_hosts.is_empty() {
        tracing::warn!(
            "listening beyond loopback without gateway.allowed_hosts: Host headers are not checked"
        );
    }
    tracing::info!(
        tools = gw.catalog().tools.items().len(),
        servers = gw.pool().all().len(),
        "switchboard listening on http://{bound}/mcp"
    );
    let served = server.serve(listener, signals).await;
    tracing::info!("shutting down: stopping upstream servers");
    server.shutdown().await;
    crate::observe::trace::flush();
    served.map_err(|e| e.to_string())
}

/// `stdio`: one session on stdin/stdout until stdin closes (or a signal).
pub async fn stdio(path: Option<&Path>, endpoint: Option<&str>) -> Result<(), String> {
    let server = Server::new(start(path).await?)?;
    reloads(&server);
    let at = match server.gateway().endpoint(endpoint) {
        Ok(at) => at,
        Err(f) => {
            server.shutdown().await;
            return Err(f.message().to_string());
        }
    };
    let faces = server.faces.clone();
    let served = tokio::select! {
        r = crate::downstream::stdio::serve(faces, server.auth.load().local(), at) => r,
        _ = shutdown_signal() => Ok(()),
    };
    server.shutdown().await;
    served.map_err(|e| e.to_string())
}

/// The configuration reloads on SIGHUP and (`gateway.watch`) when its files change.
fn reloads(server: &Server) {
    crate::server::reload::on_hangup(&server.reloader);
    crate::server::reload::watch(&server.reloader);
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this is called, not when the
/// future is first polled, so a signal sent right after start is caught.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
}

/// `tools`: the merged catalog as a table or JSON, the gateway's own tools first (marked
/// `(gateway)`); fails when a server is unavailable.
pub async fn tools(path: Option<&Path>, json: bool) -> Result<(), String> {
    let config = load(path, &[])?;
    let gw = {
        let mut line = super::progress::Line::new();
        Gateway::start_watched(config, |pool| line.show(pool))
            .await
            .map_err(|e| e.to_string())?
    };
    let catalog = gw.catalog();
    let lean = gw.config().router.expose == crate::config::Expose::Search;
    let own: Vec<Row> = crate::gateway::tools::definitions(lean)
        .iter()
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d.get()).ok())
        .map(|d| Row {
            name: d["name"].as_str().unwrap_or("").to_string(),
            server: GATEWAY.to_string(),
            tool: d["name"].as_str().unwrap_or("").to_string(),
            description: d["description"].as_str().map(str::to_string),
        })
        .collect();
    let upstream = catalog.tools.items().iter().map(|t| Row {
        name: t.exposed.to_string(),
        server: t.server_name.to_string(),
        tool: t.original.to_string(),
        description: t.description.clone(),
    });
    // In lean mode (`expose = "search"`) clients see only the gateway's tools; the rest is
    // shown all the same, being what those tools find and call.
    let items: Vec<Row> = own.into_iter().chain(upstream).collect();
    if json {
        let rows: Vec<_> = items
            .iter()
            .map(|t| serde_json::json!({"name": t.name, "server": t.server, "tool": t.tool, "description": t.description}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
    } else {
        let width = items.iter().map(|t| t.name.len()).max().unwrap_or(0).max(4);
        let swidth = items
            .iter()
            .map(|t| t.server.len())
            .max()
            .unwrap_or(0)
            .max(6);
        println!("{:width$}  {:swidth$}  DESCRIPTION", "NAME", "SERVER");
        for t in items {
            let desc: String = t
                .description
                .as_deref()
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(80)
                .collect();
            println!("{:width$}  {:swidth$}  {desc}", t.name, t.server);
        }
    }
    let down: Vec<String> = gw
        .pool()
        .all()
        .iter()
        .filter_map(|u| {
            u.last_error()
                .map(|e| format!("server {:?} is unavailable: {e}", u.spec.name))
        })
        .collect();
    gw.shutdown().await;
    if down.is_empty() {
        Ok(())
    } else {
        Err(down.join("; "))
    }
}

/// What `tools` shows as the server of the gateway's own tools.
const GATEWAY: &str = "(gateway)";

/// One line of `tools`.
struct Row {
    name: String,
    server: String,
    tool: String,
    description: Option<String>,
}

/// `analyze`: why a prompt routes where it does.
pub async fn analyze(
    path: Option<&Path>,
    rules: &[PathBuf],
    json: bool,
    top: usize,
    source: Scorer,
    prompt: Option<&str>,
) -> Result<(), String> {
    let (offline_router, gw) = match source {
        Scorer::Fleet => (Some(fleet_router(rules)?), None),
        Scorer::Rules => (
            Some(Arc::new(Router::build(&load(path, rules)?, None))),
            None,
        ),
        Scorer::Gateway => {
            let config = load(path, rules)?;
            let gw = Gateway::start(config).await.map_err(|e| e.to_string())?;
            (None, Some(gw))
        }
    };
    let router = || match (&offline_router, &gw) {
        (Some(r), _) => r.clone(),
        (None, Some(gw)) => gw.router(),
        (None, None) => unreachable!("one of the two is built"),
    };
    match prompt {
        Some(p) => {
            let analysis = router().analyze(p, top);
            emit(json, &analysis, analysis.table());
        }
        // `--interactive`: a prompt per line until stdin ends.
        None => {
            use tokio::io::AsyncBufReadExt;
            let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
            eprint!("prompt> ");
            while let Ok(Some(line)) = lines.next_line().await {
                if !line.trim().is_empty() {
                    let analysis = router().analyze(line.trim(), top);
                    emit(json, &analysis, analysis.table());
                }
                eprint!("prompt> ");
            }
            eprintln!();
        }
    }
    if let Some(gw) = gw {
        gw.shutdown().await;
    }
    Ok(())
}

/// `route`: what `POST /route` answers, for the local user, printed as JSON; an error when
/// nothing fits or the call fails.
pub async fn route(
    path: Option<&Path>,
    prompt: String,
    tool: Option<String>,
    args: Option<&str>,
    endpoint: Option<String>,
) -> Result<(), String> {
    let arguments = match args {
        Some(a) => Some(
            serde_json::from_str::<serde_json::Value>(a)
                .ok()
                .filter(|v| v.is_object())
                .ok_or_else(|| format!("--args must be a JSON object, not {a:?}"))?,
        ),
        None => None,
    };
    let server = Server::new(start(path).await?)?;
    let caller = server.auth.load().local();
    let input = crate::admin::RouteInput {
        prompt,
        tool,
        arguments,
        endpoint,
    };
    let answer = crate::admin::routed(server.gateway(), &caller, input).await;
    let status = answer.status();
    let body = axum::body::to_bytes(answer.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    println!(
        "{}",
        serde_json::to_string_pretty(&body).unwrap_or_default()
    );
    server.shutdown().await;
    if status.is_success() {
        return Ok(());
    }
    let why = body["error"]["message"]
        .as_str()
        .or_else(|| body["error"].as_str())
        .unwrap_or("the call failed");
    Err(format!("route answered {status}: {why}"))
}

/// Print `value` as pretty JSON, or `table`.
pub(super) fn emit<T: serde::Serialize>(json: bool, value: &T, table: String) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    } else {
        print!("{table}");
    }
}

/// What `analyze` scores against.
#[derive(Debug, Clone, Copy)]
pub enum Scorer {
    /// The configured gateway, started (its servers' live catalogs count).
    Gateway,
    /// The configuration's rules only.
    Rules,
    /// The offline fleet ([`evaluation::offline_fleet`]).
    Fleet,
}

/// The offline fleet, with extra rule files.
pub(super) fn fleet(rules: &[PathBuf]) -> Result<(Config, crate::catalog::Catalog), String> {
    let (mut config, catalog) = evaluation::offline_fleet();
    for r in rules {
        config.load_rules(r).map_err(|e| e.to_string())?;
    }
    Ok((config, catalog))
}

/// The router of the offline fleet, with extra rule files.
fn fleet_router(rules: &[PathBuf]) -> Result<Arc<Router>, String> {
    let (config, catalog) = fleet(rules)?;
    Ok(Arc::new(Router::build(&config, Some(&catalog))))
}

/// `fixture`: the minimal server, on stdio or HTTP.
pub async fn fixture(
    http: Option<SocketAddr>,
    tools: usize,
    faults: crate::fixture::Faults,
    record_headers: Option<std::path::PathBuf>,
) -> Result<(), String> {
    let fixture = crate::fixture::Fixture::with_faults(tools, faults);
    let served = match http {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("fixture: cannot listen on {addr}: {e}"))?;
            crate::fixture::serve_http(fixture, listener, record_headers).await
        }
        None => crate::fixture::serve_stdio(fixture).await,
    };
    served.map_err(|e| format!("fixture: {e}"))
}
