//! The command line: definitions here, what each command does in [`commands`] (run the
//! gateway, look at it), [`check`] (check a configuration, a running gateway's status),
//! [`import`] (from desktop apps' and editors' files) and [`init`] (a starter file).

mod check;
mod commands;
mod eval;
mod import;
mod init;
mod pins;
mod progress;

use crate::config::Config;
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
        #[arg(long, env = "SWITCHBOARD_LISTEN")]
        listen: Option<SocketAddr>,
    },
    /// Serve the aggregate on stdin/stdout (for desktop apps that launch MCP servers as commands).
    Stdio {
        /// Configuration file (as for `serve`).
        #[arg(long, short, env = "SWITCHBOARD_CONFIG")]
        config: Option<PathBuf>,
        /// Serve the named `[endpoints.NAME]` instead of the whole aggregate.
        #[arg(long, value_name = "NAME")]
        endpoint: Option<String>,
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
    /// Pinned tool definitions: list them, show what changed, approve changes.
    Pins {
        /// list | diff | approve
        #[arg(value_enum)]
        action: pins::Action,
        /// SERVER or SERVER/TOOL (approve needs one).
        target: Option<String>,
        /// Configuration file (its `gateway.state_dir` holds the pins).
        #[arg(long, short, env = "SWITCHBOARD_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Start every configured server and report each: reachable, protocol, tools, time to
    /// ready, and why it failed (with its last stderr lines). Exits 1 if a required server fails.
    Check {
        /// Configuration file (as for `serve`).
        #[arg(long, short, env = "SWITCHBOARD_CONFIG")]
        config: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Ask a running gateway whether it is alive (`/health`; `--ready`: whether its servers are,
    /// `/ready`). Exits 0 when it says so, 1 otherwise: for container health checks and probes.
    Health {
        /// The gateway's address (default: the configuration's `listen`, else 127.0.0.1:8931).
        #[arg(long)]
        url: Option<String>,
        /// Configuration file, to find the gateway's address.
        #[arg(long, short, env = "SWITCHBOARD_CONFIG")]
        config: Option<PathBuf>,
        /// Ask `/ready` instead of `/health`.
        #[arg(long)]
        ready: bool,
    },
    /// Show a running gateway's servers (its `/servers`) as a table.
    Status {
        /// The gateway's address (default: the configuration's `listen`, else 127.0.0.1:8931).
        #[arg(long)]
        url: Option<String>,
        /// Configuration file, to find the gateway's address.
        #[arg(long, short, env = "SWITCHBOARD_CONFIG")]
        config: Option<PathBuf>,
        /// Print the JSON as it came.
        #[arg(long)]
        json: bool,
    },
    /// Merge the MCP servers of Claude Desktop, VS Code, Cursor or seed-004 registry files into
    /// one switchboard.toml, and say which one entry each client needs instead.
    Import {
        /// The files to import (claude_desktop_config.json, .vscode/mcp.json, ~/.cursor/mcp.json,
        /// ~/.mcp-servers.json).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Where to write (servers are added to it when it exists; nothing else changes).
        #[arg(long, default_value = "switchboard.toml")]
        out: PathBuf,
        /// Also rewrite each client file to the one switchboard entry (a timestamped backup is
        /// written beside it first).
        #[arg(long)]
        apply: bool,
        /// Point clients that speak HTTP (VS Code, Cursor) at this running gateway's URL instead
        /// of launching `switchboard stdio` (Claude Desktop always launches it).
        #[arg(long)]
        url: Option<String>,
    },
    /// Write a commented starter configuration that runs as it is (the demo servers).
    Init {
        /// Where to write it.
        #[arg(long, default_value = "switchboard.toml")]
        out: PathBuf,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Explain which servers and tools a prompt routes to, and why.
    Analyze(AnalyzeArgs),
    /// Route a prompt and call the tool it picks (what `POST /route` does): prints the server,
    /// the tool, the result and the routing as JSON; exits 1 when nothing fits or the call fails.
    Route {
        /// Configuration file (as for `serve`).
        #[arg(long, short, env = "SWITCHBOARD_CONFIG")]
        config: Option<PathBuf>,
        /// The un-prefixed tool to call (default: the best server's best tool).
        #[arg(long)]
        tool: Option<String>,
        /// The tool's arguments, a JSON object.
        #[arg(long)]
        args: Option<String>,
        /// Route within this `[endpoints.NAME]`.
        #[arg(long)]
        endpoint: Option<String>,
        /// What the user asked.
        prompt: String,
    },
    /// Measure routing on a labelled prompt set (JSONL: {"prompt", "expected": [servers]}).
    Eval(EvalArgs),
    /// Run the minimal benchmark/test MCP server (an `echo` tool) on stdio, or on HTTP with --http.
    Fixture(FixtureArgs),
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

/// Whether the command serves a configuration that exports traces (`[telemetry]
/// otlp_endpoint`): read before logging starts, to decide how spans are kept. A configuration
/// that does not load says nothing here; the command reports it.
pub fn exports_traces(cli: &Cli) -> bool {
    let config = match &cli.command {
        Command::Serve { config, .. } | Command::Stdio { config, .. } => config,
        _ => return false,
    };
    load_config(config.as_deref()).is_ok_and(|c| c.telemetry.otlp_endpoint.is_some())
}

/// `fixture`: the minimal benchmark/test MCP server, with its faults.
async fn run_fixture(a: FixtureArgs) -> Result<(), String> {
    if let Some(f) = a.description_file {
        let _ = crate::fixture::DESCRIPTION_FILE.set(f);
    }
    let faults = crate::fixture::Faults {
        crash_after: a.crash_after,
        hang: a.hang,
        garbage: a.garbage,
        slow_ms: a.slow_ms,
        mute_after: a.mute_after,
        stderr_garbage: a.stderr_garbage,
        huge_answer: a.huge_answer,
    };
    commands::fixture(a.http, a.tools, faults, a.record_headers).await
}

/// `eval`'s flags.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Configuration file; without one, the built-in rules run on one server per rule set,
    /// with the catalogs in router-config/catalogs.json.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Extra rule files.
    #[arg(long)]
    pub rules: Vec<PathBuf>,
    /// As `[router] fallback`: the server a prompt goes to when no server reaches the
    /// threshold (a configured server's name).
    #[arg(long)]
    pub fallback: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// A sentence-transformers model directory: also score with meaning (semantic alone,
    /// and fused with the words), as `[router.semantic]` would.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The semantic weight (`[router.semantic] weight`) with --model.
    #[arg(long, default_value_t = 1.0)]
    pub weight: f64,
    /// The labelled prompts (a tool-selection set when its first line carries `tools`).
    pub file: PathBuf,
}

/// `analyze`'s flags.
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// Configuration file (as for `serve`).
    #[arg(long, short, env = "SWITCHBOARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Extra rule files (TOML or seed-004 router JSON).
    #[arg(long)]
    pub rules: Vec<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// How many servers to show.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// Use the rules only: do not start the servers for their catalogs.
    #[arg(long)]
    pub offline: bool,
    /// Score against one server per built-in rule set with the shipped catalog snapshots
    /// (what `eval` runs against without a configuration); starts nothing.
    #[arg(long, conflicts_with_all = ["config", "offline"])]
    pub fleet: bool,
    /// Read prompts from stdin, one per line, and print each one's table.
    #[arg(long, conflicts_with = "prompt")]
    pub interactive: bool,
    /// What the user asked.
    #[arg(required_unless_present = "interactive")]
    pub prompt: Option<String>,
}

/// `fixture`'s flags.
#[derive(Debug, clap::Args)]
pub struct FixtureArgs {
    /// Serve streamable HTTP on this address (port 0: any) instead of stdio.
    #[arg(long)]
    pub http: Option<SocketAddr>,
    /// Extra filler tools to list (catalog-size benchmarks).
    #[arg(long, default_value_t = 0)]
    pub tools: usize,
    /// Fault: exit, without answering, on the Nth tools/call (stdio).
    #[arg(long)]
    pub crash_after: Option<u64>,
    /// Fault: never answer tools/call (stdio).
    #[arg(long)]
    pub hang: bool,
    /// Fault: write a garbage line before every answer (stdio).
    #[arg(long)]
    pub garbage: bool,
    /// Fault: wait this many milliseconds before answering tools/call (stdio).
    #[arg(long, default_value_t = 0)]
    pub slow_ms: u64,
    /// Fault: answer the first N messages, then nothing at all (stdio).
    #[arg(long)]
    pub mute_after: Option<u64>,
    /// Fault: write bytes that are not UTF-8 to stderr before every answer, and exit when
    /// stderr is gone (stdio).
    #[arg(long)]
    pub stderr_garbage: bool,
    /// Fault: answer tools/call with a text of this many bytes (stdio).
    #[arg(long)]
    pub huge_answer: Option<usize>,
    /// Append the headers of every request to this file, one JSON object per line (HTTP).
    #[arg(long)]
    pub record_headers: Option<std::path::PathBuf>,
    /// Read `echo`'s description from this file at every tools/list; `echo` called with
    /// the message `list_changed` first announces a list change (stdio).
    #[arg(long)]
    pub description_file: Option<std::path::PathBuf>,
}

/// `switchboard analyze`: which scorer the flags ask for, then the table or the loop.
async fn run_analyze(args: AnalyzeArgs) -> Result<(), String> {
    let AnalyzeArgs {
        config,
        rules,
        json,
        top,
        offline,
        fleet,
        interactive,
        prompt,
    } = args;
    let prompt = if interactive { None } else { prompt };
    let source = match (fleet, offline) {
        (true, _) => commands::Scorer::Fleet,
        (false, true) => commands::Scorer::Rules,
        (false, false) => commands::Scorer::Gateway,
    };
    commands::analyze(
        config.as_deref(),
        &rules,
        json,
        top,
        source,
        prompt.as_deref(),
    )
    .await
}

/// Run a parsed command line; a failing command says why on stderr, once.
pub async fn run(cli: Cli) -> ExitCode {
    let done = match cli.command {
        Command::Serve { config, listen } => commands::serve(config.as_deref(), listen).await,
        Command::Stdio { config, endpoint } => {
            commands::stdio(config.as_deref(), endpoint.as_deref()).await
        }
        Command::Tools { config, json } => commands::tools(config.as_deref(), json).await,
        Command::Analyze(args) => run_analyze(args).await,
        Command::Route {
            config,
            tool,
            args,
            endpoint,
            prompt,
        } => commands::route(config.as_deref(), prompt, tool, args.as_deref(), endpoint).await,
        Command::Eval(args) => eval::run(&args).await,
        Command::Check { config, json } => check::check(config.as_deref(), json).await,
        Command::Pins {
            action,
            target,
            config,
        } => pins::run(config.as_deref(), action, target.as_deref()),
        Command::Health { url, config, ready } => {
            check::health(url.as_deref(), config.as_deref(), ready).await
        }
        Command::Status { url, config, json } => {
            check::status(url.as_deref(), config.as_deref(), json).await
        }
        Command::Import {
            files,
            out,
            apply,
            url,
        } => import::run(&files, &out, apply, url.as_deref()),
        Command::Init { out, force } => init::run(&out, force),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "switchboard", &mut std::io::stdout());
            Ok(())
        }
        Command::Fixture(args) => run_fixture(args).await,
        Command::DemoServer { kit } => crate::demo::run(kit)
            .await
            .map_err(|e| format!("demo-server: {e}")),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchboard: {e}");
            ExitCode::FAILURE
        }
    }
}
