//! The `switchboard` binary. Run with: `cargo run --release -- serve` (see `--help`).

use clap::Parser;
use std::process::ExitCode;
use switchboard::cli::{self, Cli, Command, LogFormat};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo server and `tools` print to stdout: keep their logs quiet unless asked.
    let default_level = match cli.command {
        Command::Serve { .. } | Command::Stdio { .. } => "info",
        Command::Tools { .. }
        | Command::DemoServer { .. }
        | Command::Analyze { .. }
        | Command::Eval { .. }
        | Command::Fixture { .. } => "warn",
    };
    let filter = EnvFilter::try_from_env("SWITCHBOARD_LOG")
        .unwrap_or_else(|_| EnvFilter::new(default_level));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Human => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
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
