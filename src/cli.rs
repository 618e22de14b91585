//! The command line: `serve`, `tools`, `demo-server`.

use crate::config::Config;
use crate::gateway::Gateway;
use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// One MCP endpoint over many MCP servers.
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log output format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Human,
    /// One JSON object per line.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway: one MCP endpoint at http://LISTEN/mcp over every configured server.
    Serve {
        /// Configuration file (TOML, Claude Desktop JSON, VS Code mcp.json, or a seed-004 registry).
        /// Default: ./switchboard.toml if present, else the embedded demo configuration.
        #[arg(long, short, env = "SWITCHBOARD_CONFIG")]
        config: Option<PathBuf>,
        /// Address to listen on, overriding the configuration (e.g. 127.0.0.1:8931).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Serve the aggregate on stdin/stdout (for desktop apps that launch MCP servers as commands).
    Stdio {
        /// Configuration file (as for `serve`).
        #[arg(long, short, env = "SWITCHBOARD_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Start every configured server and print the merged tool catalog.
    Tools {
        /// Configuration file (as for `serve`).
        #[arg(long, short, env = "SWITCHBOARD_CONFIG")]
        config: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Explain which servers and tools a prompt routes to, and why.
    Analyze {
        /// Configuration file (as for `serve`).
        #[arg(long, short, env = "SWITCHBOARD_CONFIG")]
        config: Option<PathBuf>,
        /// Extra rule files (TOML or seed-004 router JSON).
        #[arg(long)]
        rules: Vec<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// How many servers to show.
        #[arg(long, default_value_t = 5)]
        top: usize,
        /// Use the rules only: do not start the servers for their catalogs.
        #[arg(long)]
        offline: bool,
        /// What the user asked.
        prompt: String,
    },
    /// Measure routing on a labelled prompt set (JSONL: {"prompt", "expected": [servers]}).
    Eval {
        /// Configuration file; without one, the built-in rules run on one server per rule set,
        /// with the catalogs in router-config/catalogs.json.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Extra rule files.
        #[arg(long)]
        rules: Vec<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// The labelled prompts.
        file: PathBuf,
    },
    /// Run the minimal benchmark/test MCP server (an `echo` tool) on stdio, or on HTTP with --http.
    Fixture {
        /// Serve streamable HTTP on this address (port 0: any) instead of stdio.
        #[arg(long)]
        http: Option<SocketAddr>,
        /// Extra filler tools to list (catalog-size benchmarks).
        #[arg(long, default_value_t = 0)]
        tools: usize,
    },
    /// Run a built-in demo MCP server on stdin/stdout (the embedded default launches two).
    DemoServer {
        /// Which tools to offer.
        #[arg(long, value_enum, default_value_t = crate::demo::Kit::Text)]
        kit: crate::demo::Kit,
    },
}

/// Load `--config`, else `./switchboard.toml`, else the embedded default.
pub fn load_config(path: Option<&Path>) -> Result<Config, crate::config::ConfigError> {
    match path {
        Some(p) => Config::load(p),
        None if Path::new("switchboard.toml").exists() => {
            Config::load(Path::new("switchboard.toml"))
        }
        None => {
            tracing::info!("no --config and no ./switchboard.toml: running the embedded default (demo servers \"text\" and \"math\")");
            Config::embedded_default()
        }
    }
}

/// Run a parsed command line.
pub async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve { config, listen } => serve(config.as_deref(), listen).await,
        Command::Tools { config, json } => tools(config.as_deref(), json).await,
        Command::Stdio { config } => stdio(config.as_deref()).await,
        Command::Analyze {
            config,
            rules,
            json,
            top,
            offline,
            prompt,
        } => analyze(config.as_deref(), &rules, json, top, offline, &prompt).await,
        Command::Eval {
            config,
            rules,
            json,
            file,
        } => eval(config.as_deref(), &rules, json, &file).await,
        Command::Fixture { http, tools } => {
            let fixture = crate::fixture::Fixture::new(tools);
            let served = match http {
                Some(addr) => match tokio::net::TcpListener::bind(addr).await {
                    Ok(l) => crate::fixture::serve_http(fixture, l).await,
                    Err(e) => Err(e),
                },
                None => crate::fixture::serve_stdio(fixture).await,
            };
            match served {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("fixture: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::DemoServer { kit } => match crate::demo::run(kit).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("demo-server: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

async fn start(
    path: Option<&Path>,
    listen: Option<SocketAddr>,
) -> Result<std::sync::Arc<Gateway>, String> {
    let mut config = load_config(path).map_err(|e| e.to_string())?;
    if let Some(addr) = listen {
        config.gateway.listen = addr;
    }
    Gateway::start(config).await.map_err(|e| e.to_string())
}

async fn serve(path: Option<&Path>, listen: Option<SocketAddr>) -> ExitCode {
    let gw = match start(path, listen).await {
        Ok(gw) => gw,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("switchboard: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addr = gw.config.gateway.listen;
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("switchboard: cannot listen on {addr}: {e}");
            gw.shutdown().await;
            return ExitCode::FAILURE;
        }
    };
    let bound = listener.local_addr().unwrap_or(addr);
    if !bound.ip().is_loopback() && gw.config.gateway.allowed_hosts.is_empty() {
        tracing::warn!(
            "listening beyond loopback without gateway.allowed_hosts: Host headers are not checked"
        );
    }
    tracing::info!(
        tools = gw.catalog().tools.items().len(),
        servers = gw.pool.all().len(),
        "switchboard listening on http://{bound}/mcp"
    );
    let served = crate::downstream::serve(gw.clone(), listener, shutdown_signal()).await;
    tracing::info!("shutting down: stopping upstream servers");
    gw.shutdown().await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchboard: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Load the configuration and extra rule files.
fn load_with_rules(path: Option<&Path>, rules: &[PathBuf]) -> Result<Config, String> {
    let mut config = load_config(path).map_err(|e| e.to_string())?;
    for r in rules {
        config.load_rules(r).map_err(|e| e.to_string())?;
    }
    Ok(config)
}

async fn analyze(
    path: Option<&Path>,
    rules: &[PathBuf],
    json: bool,
    top: usize,
    offline: bool,
    prompt: &str,
) -> ExitCode {
    let config = match load_with_rules(path, rules) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("switchboard: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (analysis, gw) = if offline {
        (
            crate::router::Router::build(&config, None).analyze(prompt, top),
            None,
        )
    } else {
        match Gateway::start(config).await {
            Ok(gw) => (gw.router().analyze(prompt, top), Some(gw)),
            Err(e) => {
                eprintln!("switchboard: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&analysis).unwrap_or_default()
        );
    } else {
        print!("{}", analysis.table());
    }
    if let Some(gw) = gw {
        gw.shutdown().await;
    }
    ExitCode::SUCCESS
}

async fn eval(path: Option<&Path>, rules: &[PathBuf], json: bool, file: &Path) -> ExitCode {
    let cases = match crate::router::eval::load(file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("switchboard: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (router, gw) = match path {
        None => {
            let (mut config, catalog) = crate::router::eval::offline_fleet();
            for r in rules {
                if let Err(e) = config.load_rules(r) {
                    eprintln!("switchboard: {e}");
                    return ExitCode::FAILURE;
                }
            }
            (
                std::sync::Arc::new(crate::router::Router::build(&config, Some(&catalog))),
                None,
            )
        }
        Some(p) => {
            let config = match load_with_rules(Some(p), rules) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("switchboard: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match Gateway::start(config).await {
                Ok(gw) => (gw.router(), Some(gw)),
                Err(e) => {
                    eprintln!("switchboard: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    };
    let report = crate::router::eval::run(&router, &cases);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        print!("{}", report.table());
    }
    if let Some(gw) = gw {
        gw.shutdown().await;
    }
    ExitCode::SUCCESS
}

async fn stdio(path: Option<&Path>) -> ExitCode {
    let gw = match start(path, None).await {
        Ok(gw) => gw,
        Err(e) => {
            eprintln!("switchboard: {e}");
            return ExitCode::FAILURE;
        }
    };
    let served = tokio::select! {
        r = crate::downstream::stdio::serve(gw.clone()) => r,
        _ = shutdown_signal() => Ok(()),
    };
    gw.shutdown().await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchboard: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

async fn tools(path: Option<&Path>, json: bool) -> ExitCode {
    let gw = match start(path, None).await {
        Ok(gw) => gw,
        Err(e) => {
            eprintln!("switchboard: {e}");
            return ExitCode::FAILURE;
        }
    };
    let catalog = gw.catalog();
    if json {
        let rows: Vec<_> = catalog
            .tools
            .items()
            .iter()
            .map(|t| serde_json::json!({"name": &*t.exposed, "server": &*t.server_name, "tool": &*t.original, "description": t.description}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
    } else {
        let width = catalog
            .tools
            .items()
            .iter()
            .map(|t| t.exposed.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let swidth = catalog
            .tools
            .items()
            .iter()
            .map(|t| t.server_name.len())
            .max()
            .unwrap_or(6)
            .max(6);
        println!("{:width$}  {:swidth$}  DESCRIPTION", "NAME", "SERVER");
        for t in catalog.tools.items() {
            let desc = t
                .description
                .as_deref()
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("");
            let desc: String = desc.chars().take(80).collect();
            println!("{:width$}  {:swidth$}  {desc}", t.exposed, t.server_name);
        }
    }
    let mut failed = false;
    for up in gw.pool.all() {
        if let Some(e) = up.last_error() {
            eprintln!("server {:?} is unavailable: {e}", up.spec.name);
            failed = true;
        }
    }
    gw.shutdown().await;
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
