//! The loop guard: a configuration whose server entry launches `switchboard` on that same
//! configuration would start itself without end. Refused at load when the entry says so plainly;
//! caught in any case by the ancestry every gateway passes to its children
//! (`SWITCHBOARD_ANCESTRY`: the configuration files of the gateways above), so a gateway started
//! on a configuration one of its ancestors serves refuses to start and says why.

use super::{ConfigError, ServerSpec, Transport};
use std::path::{Path, PathBuf};

/// The variable every child of a gateway gets.
pub const VAR: &str = "SWITCHBOARD_ANCESTRY";

/// How many gateways may be stacked, configuration by configuration.
const MAX_DEPTH: usize = 8;

/// A configuration file as the guard compares it (absolute, links resolved when it exists).
pub fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| std::path::absolute(path).unwrap_or(path.into()))
}

/// The ancestry this gateway's children get; an error when `file` is already an ancestor's.
pub fn extend(file: &Path, shown: &str) -> Result<String, ConfigError> {
    let me = canonical(file).display().to_string();
    let inherited = std::env::var(VAR).unwrap_or_default();
    let above: Vec<&str> = inherited.split('\n').filter(|s| !s.is_empty()).collect();
    if above.contains(&me.as_str()) {
        return Err(ConfigError::invalid(
            shown,
            ".",
            "a gateway serving this configuration launched this one (a server entry runs switchboard on its own configuration): remove that entry",
        ));
    }
    if above.len() >= MAX_DEPTH {
        return Err(ConfigError::invalid(
            shown,
            ".",
            format!("{} gateways are already stacked above this one (each launched by the one before); refusing to start another", above.len()),
        ));
    }
    Ok(above
        .iter()
        .copied()
        .chain([me.as_str()])
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Refuse an entry that plainly launches `switchboard serve|stdio` on `file` itself.
pub fn check_entries(servers: &[ServerSpec], file: &Path, shown: &str) -> Result<(), ConfigError> {
    let me = canonical(file);
    for s in servers {
        let launch = match (&s.transport, &s.launch) {
            (Transport::Stdio(l), _) | (_, Some(l)) => l,
            _ => continue,
        };
        let is_switchboard = Path::new(&launch.program)
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("switchboard"));
        let named = launch
            .args
            .windows(2)
            .filter(|w| w[0] == "--config" || w[0] == "-c")
            .map(|w| {
                let p = PathBuf::from(&w[1]);
                match (&launch.cwd, p.is_relative()) {
                    (Some(dir), true) => dir.join(p),
                    _ => p,
                }
            })
            .any(|p| canonical(&p) == me);
        if is_switchboard && named {
            return Err(ConfigError::invalid(
                shown,
                &format!("servers.{}", s.name),
                "launches switchboard on this same configuration, which would start itself without end",
            ));
        }
    }
    Ok(())
}
