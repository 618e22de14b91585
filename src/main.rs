//! The `switchboard` binary. Run with: `cargo run --release -- serve` (see `--help`).

use clap::Parser;
use std::process::ExitCode;
use switchboard::cli::{self, Cli, Command, LogFormat};
use tracing_subscriber::EnvFilter;

/// jemalloc, chosen by measurement (see Cargo.toml and README, Performance).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo server and `tools` print to stdout: keep their logs quiet unless asked.
    let default_level = match cli.command {
        Command::Serve { .. } | Command::Stdio { .. } => "info",
        // Its report says what failed and why; the log would say it twice.
        Command::Check { .. } => "error",
        Command::Tools { .. }
        | Command::Status { .. }
        | Command::Health { .. }
        | Command::Pins { .. }
        | Command::Import { .. }
        | Command::Init { .. }
        | Command::Completions { .. }
        | Command::DemoServer { .. }
        | Command::Analyze { .. }
        | Command::Route { .. }
        | Command::Eval { .. }
        | Command::Fixture { .. } => "warn",
    };
    let filter = EnvFilter::try_from_env("SWITCHBOARD_LOG")
        .unwrap_or_else(|_| EnvFilter::new(default_level));
    // Colour only for a person at a terminal: a file or a desktop app's log gets plain text.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    // The filter is the log's: traces see their spans whatever the log level.
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let logs = tracing_subscriber::fmt::layer()
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    let logs = match cli.log_format {
        LogFormat::Human => logs.with_filter(filter).boxed(),
        LogFormat::Json => logs.json().with_filter(filter).boxed(),
    };
    // The OpenTelemetry bridge only when the configuration exports traces (it costs throughput).
    let bridge = cli::exports_traces(&cli).then(switchboard::observe::trace::layer);
    tracing_subscriber::registry()
        .with(logs)
        .with(bridge)
        .init();
    // SWITCHBOARD_WORKER_THREADS=1 runs everything on one thread (no cross-thread wake-ups);
    // unset, tokio uses one worker per core.
    let threads = std::env::var("SWITCHBOARD_WORKER_THREADS")
        .ok()
        .and_then(|t| t.parse::<usize>().ok());
    let runtime = match threads {
        Some(1) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        Some(n) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n.max(1))
            .enable_all()
            .build(),
        None => tokio::runtime::Runtime::new(),
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("switchboard: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(cli::run(cli))
}
