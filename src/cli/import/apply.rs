//! The one entry each client needs once its servers are in switchboard.toml, and `--apply`:
//! the client's file rewritten to it, after a timestamped backup beside it.

use super::source::{App, Source};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The entry that replaces a client's servers: launch `switchboard stdio` on the new file, or,
/// for clients that speak HTTP and when `url` is given, reach the running gateway.
pub fn entry(app: App, exe: &Path, config: &Path, url: Option<&str>) -> Value {
    let stdio = json!({
        "command": exe.display().to_string(),
        "args": ["stdio", "--config", config.display().to_string()],
    });
    match (app, url) {
        (App::VsCode, Some(u)) => json!({ "type": "http", "url": u }),
        (App::VsCode, None) => {
            let mut e = stdio;
            e["type"] = json!("stdio");
            e
        }
        (App::Cursor, Some(u)) => json!({ "url": u }),
        _ => stdio,
    }
}

/// The client's file with its servers replaced by `entry` (everything else kept), as written.
pub fn rewritten(source: &Source, entry: &Value) -> Option<String> {
    let key = source.app.servers_key()?;
    let mut doc = source.doc.clone();
    doc.insert(key.to_string(), json!({ "switchboard": entry }));
    let text = serde_json::to_string_pretty(&doc).expect("JSON values serialize");
    Some(text + "\n")
}

/// What `--apply` did to one file.
pub enum Applied {
    /// Rewritten; the original is at this path.
    Rewritten(PathBuf),
    /// It already held exactly the switchboard entry.
    Already,
    /// Not a client's file (the seed-004 registry belongs to its launcher): left alone.
    NotAClient,
}

/// Rewrite the client's file to `entry`, after copying it to a timestamped backup beside it
/// (which keeps the file's permissions). Idempotent: a file already rewritten is left alone.
pub fn apply(source: &Source, entry: &Value) -> Result<Applied, String> {
    let Some(key) = source.app.servers_key() else {
        return Ok(Applied::NotAClient);
    };
    if source.doc.get(key) == Some(&json!({ "switchboard": entry })) {
        return Ok(Applied::Already);
    }
    let text = rewritten(source, entry).expect("a client's file");
    let path = &source.path;
    let stamp =
        humantime_serde::re::humantime::format_rfc3339_seconds(std::time::SystemTime::now())
            .to_string()
            .replace(':', "");
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let backup = path.with_file_name(format!("{name}.{stamp}.bak"));
    std::fs::copy(path, &backup).map_err(|e| {
        format!(
            "cannot back {} up to {}: {e}",
            path.display(),
            backup.display()
        )
    })?;
    // Written beside it and renamed over it: a crash leaves the old file or the new one.
    let tmp = path.with_file_name(format!(".{name}.switchboard-tmp"));
    std::fs::copy(path, &tmp)
        .and_then(|_| std::fs::write(&tmp, &text))
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| format!("cannot rewrite {}: {e}", path.display()))?;
    Ok(Applied::Rewritten(backup))
}
