//! One client file read for import: its format, and each server entry as a `[servers.NAME]`
//! table of switchboard.toml, with inline secrets turned into `${VAR}` references.

use super::secrets::Secrets;
use crate::config::{detect_json, JsonFormat};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use toml_edit::{value, Array, InlineTable, Table};

/// Which application a file belongs to (Cursor writes Claude Desktop's format).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App {
    /// `claude_desktop_config.json`.
    Claude,
    /// `~/.cursor/mcp.json` or a project's `.cursor/mcp.json`.
    Cursor,
    /// `.vscode/mcp.json`.
    VsCode,
    /// The seed-004 launcher's `~/.mcp-servers.json`.
    Registry,
}

impl App {
    /// The key holding the servers in the app's file (`None`: the whole document).
    pub fn servers_key(self) -> Option<&'static str> {
        match self {
            App::Claude | App::Cursor => Some("mcpServers"),
            App::VsCode => Some("servers"),
            App::Registry => None,
        }
    }

    /// How the app is named in messages.
    pub fn label(self) -> &'static str {
        match self {
            App::Claude => "Claude Desktop",
            App::Cursor => "Cursor",
            App::VsCode => "VS Code",
            App::Registry => "the seed-004 launcher",
        }
    }
}

/// One server entry to import.
pub struct Entry {
    /// Its name in the source (kept).
    pub name: String,
    /// Its `[servers.NAME]` table.
    pub table: Table,
}

/// A file read for import.
pub struct Source {
    /// Where it is (as given).
    pub path: PathBuf,
    /// Its app.
    pub app: App,
    /// The whole document (kept for `--apply`).
    pub doc: Map<String, Value>,
    /// The entries, in file order, with what `entry_is_us` says is the gateway itself left out.
    pub entries: Vec<Entry>,
    /// Entries left out because they are this gateway.
    pub ours: Vec<String>,
}

/// Read `path` and convert its entries; `is_us` tells an entry that launches or reaches this
/// gateway (left out, so that importing a file already pointed at switchboard adds nothing).
pub fn read(
    path: &Path,
    secrets: &mut Secrets,
    warnings: &mut Vec<String>,
    is_us: &dyn Fn(&Map<String, Value>) -> bool,
) -> Result<Source, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc: Map<String, Value> = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a JSON object: {e}", path.display()))?;
    let app = match detect_json(&doc).map_err(|e| format!("{}: {e}", path.display()))? {
        JsonFormat::VsCode => App::VsCode,
        JsonFormat::Registry => App::Registry,
        JsonFormat::ClaudeDesktop if is_cursor(path) => App::Cursor,
        JsonFormat::ClaudeDesktop => App::Claude,
    };
    let members = match app.servers_key() {
        Some(k) => doc[k].as_object().cloned().unwrap_or_default(),
        None => doc.clone(),
    };
    let workspace = workspace_of(path);
    let file = path.display().to_string();
    let mut source = Source {
        path: path.to_path_buf(),
        app,
        doc,
        entries: Vec::new(),
        ours: Vec::new(),
    };
    for (name, v) in members {
        let Some(obj) = v.as_object() else {
            warnings.push(format!("{file}: {name}: not an object, skipped"));
            continue;
        };
        if is_us(obj) {
            source.ours.push(name);
            continue;
        }
        let mut ctx = Convert {
            name: &name,
            file: &file,
            workspace: &workspace,
            secrets,
            warnings,
        };
        let table = match app {
            App::Registry => ctx.registry(obj),
            _ => ctx.client(obj),
        };
        source.entries.push(Entry { name, table });
    }
    Ok(source)
}

fn is_cursor(path: &Path) -> bool {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    abs.components().any(|c| c.as_os_str() == ".cursor")
}

/// VS Code's `${workspaceFolder}`: the folder holding `.vscode/`, else the file's folder.
fn workspace_of(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = abs.parent().map(Path::to_path_buf).unwrap_or_default();
    match dir.file_name() {
        Some(n) if n == ".vscode" => dir.parent().map(Path::to_path_buf).unwrap_or(dir),
        _ => dir,
    }
}

/// The conversion of one entry.
struct Convert<'a> {
    name: &'a str,
    file: &'a str,
    workspace: &'a Path,
    secrets: &'a mut Secrets,
    warnings: &'a mut Vec<String>,
}

/// Fields of a client entry that have no switchboard meaning (the clients' own UI settings).
const IGNORED: &[&str] = &[
    "autoApprove",
    "alwaysAllow",
    "disabledTools",
    "gallery",
    "version",
];

impl Convert<'_> {
    /// A Claude Desktop, Cursor or VS Code entry.
    fn client(&mut self, obj: &Map<String, Value>) -> Table {
        let mut t = Table::new();
        if let Some(c) = obj.get("command").and_then(Value::as_str) {
            t["command"] = value(self.text(c));
        }
        if let Some(args) = obj.get("args").and_then(Value::as_array) {
            let args: Vec<String> = args
                .iter()
                .filter_map(Value::as_str)
                .map(|a| self.text(a))
                .collect();
            let args = self.secrets.args(self.name, args, self.file, self.warnings);
            t["args"] = value(Array::from_iter(args));
        }
        if let Some(env) = obj.get("env").and_then(Value::as_object) {
            let mut inline = InlineTable::new();
            for (k, v) in env {
                let v = self.text(v.as_str().unwrap_or_default());
                let v = self.secrets.env(self.name, k, v, self.file, self.warnings);
                inline.insert(k, v.into());
            }
            t["env"] = value(inline);
        }
        for (from, to) in [
            ("envFile", "env_file"),
            ("env_file", "env_file"),
            ("cwd", "cwd"),
        ] {
            if let Some(v) = obj.get(from).and_then(Value::as_str) {
                t[to] = value(self.text(v));
            }
        }
        if let Some(u) = obj.get("url").and_then(Value::as_str) {
            let u = self.text(u);
            t["url"] = value(self.secrets.url(self.name, &u, self.file, self.warnings));
        }
        // "http" and "stdio" follow from `url` and `command`; legacy SSE must be said unless
        // the URL ends in /sse.
        if obj.get("type").and_then(Value::as_str) == Some("sse") {
            t["transport"] = value("sse");
        }
        if let Some(h) = obj.get("headers").and_then(Value::as_object) {
            let mut inline = InlineTable::new();
            for (k, v) in h {
                let v = self.text(v.as_str().unwrap_or_default());
                let v = self
                    .secrets
                    .header(self.name, k, v, self.file, self.warnings);
                inline.insert(k, v.into());
            }
            t["headers"] = value(inline);
        }
        if obj.get("disabled").and_then(Value::as_bool) == Some(true) {
            t["disabled"] = value(true);
        }
        let dropped: Vec<&str> = obj
            .keys()
            .map(String::as_str)
            .filter(|k| !IMPORTED.contains(k))
            .collect();
        if !dropped.is_empty() {
            let quiet = dropped.iter().all(|k| IGNORED.contains(k));
            if !quiet {
                self.warnings.push(format!(
                    "{}: {}: not imported (no switchboard meaning): {}",
                    self.file,
                    self.name,
                    dropped.join(", ")
                ));
            }
        }
        t
    }

    /// A seed-004 registry entry: a shell command in a folder, serving legacy SSE on a port.
    fn registry(&mut self, obj: &Map<String, Value>) -> Table {
        let mut t = Table::new();
        let command = obj.get("command").and_then(Value::as_str).unwrap_or("");
        t["command"] = value("sh");
        t["args"] = value(Array::from_iter(["-c".to_string(), command.to_string()]));
        if let Some(dir) = obj.get("path").and_then(Value::as_str) {
            t["cwd"] = value(dir);
            if let Some(f) = obj.get("env_file").and_then(Value::as_str) {
                // The launcher sources it only when present; so does this import.
                let p = crate::config::tilde(dir).join(crate::config::tilde(f));
                if p.exists() {
                    t["env_file"] = value(p.display().to_string());
                }
            }
        }
        if let Some(env) = obj.get("env").and_then(Value::as_object) {
            let mut inline = InlineTable::new();
            for (k, v) in env {
                let v = v.as_str().unwrap_or_default().to_string();
                let v = self.secrets.env(self.name, k, v, self.file, self.warnings);
                inline.insert(k, v.into());
            }
            t["env"] = value(inline);
        }
        if let Some(port) = obj.get("port").and_then(Value::as_u64) {
            t["url"] = value(format!("http://127.0.0.1:{port}/sse"));
        }
        t
    }

    /// A value as the gateway will read it: VS Code's `${workspaceFolder}` made absolute (the
    /// new file lives elsewhere) and its prompted `${input:ID}` turned into `${ID}`.
    fn text(&mut self, s: &str) -> String {
        let mut out = s.replace("${workspaceFolder}", &self.workspace.display().to_string());
        while let Some(i) = out.find("${input:") {
            let Some(end) = out[i..].find('}') else { break };
            let id = &out[i + 8..i + end];
            let var = super::secrets::var_name(id);
            self.warnings.push(format!(
                "{}: {}: VS Code asks for ${{input:{id}}} when it starts the server; switchboard reads ${{{var}}} from its environment instead: set it",
                self.file, self.name
            ));
            out = format!("{}${{{var}}}{}", &out[..i], &out[i + end + 1..]);
        }
        out
    }
}

/// Fields the import carries over.
const IMPORTED: &[&str] = &[
    "command", "args", "env", "envFile", "env_file", "cwd", "url", "type", "headers", "disabled",
];
