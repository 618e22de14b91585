//! `switchboard pins list|diff|approve [SERVER[/TOOL]]`: the pinned tool definitions of a
//! configuration's state directory. An approval is written to the state file, which a running
//! gateway watches: it takes effect there at once.

use crate::pins::Pins;
use std::path::Path;

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Action {
    /// Every pin and its state (`pinned`, `changed`, `new`).
    List,
    /// What changed, for what awaits approval.
    Diff,
    /// Approve what awaits approval (of a server, or one tool).
    Approve,
}

/// Run `action` on the pins of `config`'s state directory.
pub fn run(config: Option<&Path>, action: Action, target: Option<&str>) -> Result<(), String> {
    let config = super::load_config(config).map_err(|e| e.to_string())?;
    let pins = Pins::in_dir(&config.state_dir())?;
    let (server, tool) = match target {
        Some(t) => match t.split_once('/') {
            Some((s, tool)) => (Some(s), Some(tool)),
            None => (Some(t), None),
        },
        None => (None, None),
    };
    let wanted = |s: &str, t: &str| server.is_none_or(|x| x == s) && tool.is_none_or(|x| x == t);
    match action {
        Action::List => {
            println!("{}", pins.path().display());
            for r in pins.rows().iter().filter(|r| wanted(&r.server, &r.tool)) {
                println!("{:<8} {}/{}", r.state, r.server, r.tool);
            }
        }
        Action::Diff => {
            let rows: Vec<_> = pins
                .rows()
                .into_iter()
                .filter(|r| r.state != "pinned" && wanted(&r.server, &r.tool))
                .collect();
            if rows.is_empty() {
                println!("nothing awaits approval");
            }
            for r in rows {
                println!("{}/{} ({}):", r.server, r.tool, r.state);
                for line in r.diff {
                    println!("  {line}");
                }
            }
        }
        Action::Approve => {
            let server = server.ok_or("pins approve needs SERVER or SERVER/TOOL")?;
            let done = pins.approve(server, tool)?;
            if done.is_empty() {
                println!("nothing of {server} awaited approval");
            }
            for t in done {
                println!("approved {server}/{t}");
            }
        }
    }
    Ok(())
}
