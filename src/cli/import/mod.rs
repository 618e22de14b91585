//! `import`: the MCP servers of Claude Desktop, VS Code, Cursor and seed-004 registry files,
//! merged into one switchboard.toml (names kept, inline secrets turned into `${VAR}`
//! references), and the one entry each client needs instead (written with `--apply`).
//!
//! Idempotent: an entry already in the file is not added again, an entry that launches or
//! reaches this gateway is never imported, and a client file already rewritten is left alone,
//! so importing twice changes nothing.

mod apply;
mod secrets;
mod source;

use serde_json::{Map, Value};
use source::{Entry, Source};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use toml_edit::{DocumentMut, Item, Table};

/// Run the import of `files` into `out`.
pub fn run(files: &[PathBuf], out: &Path, apply: bool, url: Option<&str>) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let out_abs = std::path::absolute(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let existing = std::fs::read_to_string(out).ok();
    let mut doc: DocumentMut = match &existing {
        Some(text) => text.parse().map_err(|e| {
            format!(
                "{}: not TOML, so nothing can be added to it: {e}",
                out.display()
            )
        })?,
        None => header(files).parse().expect("the header is TOML"),
    };
    let listen = doc["gateway"]["listen"]
        .as_str()
        .unwrap_or("127.0.0.1:8931")
        .to_string();
    let is_us = |obj: &Map<String, Value>| is_this_gateway(obj, &exe, &listen, url);
    let (mut secrets, mut warnings) = (secrets::Secrets::default(), Vec::new());
    let sources = files
        .iter()
        .map(|f| source::read(f, &mut secrets, &mut warnings, &is_us))
        .collect::<Result<Vec<Source>, String>>()?;
    let merged = merge(&mut doc, &sources, &mut warnings);
    let mut text = doc.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    if existing.as_deref() != Some(text.as_str()) {
        std::fs::write(out, &text).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    }
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    report(&merged, out);
    if !secrets.introduced.is_empty() {
        let vars: Vec<&str> = secrets.introduced.iter().map(|(v, _)| v.as_str()).collect();
        println!(
            "set in the gateway's environment before it starts: {}",
            vars.join(" ")
        );
    }
    for s in &sources {
        let entry = apply::entry(s.app, &exe, &out_abs, url);
        client_step(s, &entry, apply)?;
    }
    Ok(())
}

/// A new file's beginning.
fn header(files: &[PathBuf]) -> String {
    let from: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    format!(
        "# switchboard.toml, written by `switchboard import` from {}.\n# `switchboard check` starts every server and says how each fared; README.md lists every setting.\n\n[gateway]\nlisten = \"127.0.0.1:8931\"\n",
        from.join(", ")
    )
}

/// Whether a client's entry is this gateway: it launches a switchboard executable's `stdio` or
/// `serve`, or it is the URL of the gateway this file configures (or the one `--url` names).
fn is_this_gateway(obj: &Map<String, Value>, exe: &Path, listen: &str, url: Option<&str>) -> bool {
    if let Some(c) = obj.get("command").and_then(Value::as_str) {
        let name = Path::new(c)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("");
        let gateway = obj
            .get("args")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            .is_some_and(|a| a == "stdio" || a == "serve");
        // `switchboard demo-server` and `switchboard fixture` are servers, not the gateway.
        return (Path::new(c) == exe || name == "switchboard") && gateway;
    }
    let Some(u) = obj.get("url").and_then(Value::as_str) else {
        return false;
    };
    let u = u.trim_end_matches('/');
    url.is_some_and(|ours| ours.trim_end_matches('/') == u)
        || u == format!("http://{listen}/mcp")
        || u == format!("http://{listen}/sse")
}

/// What the merge did.
#[derive(Default)]
struct Merged {
    added: Vec<String>,
    present: Vec<String>,
    ours: usize,
}

/// Add every entry of `sources` to `[servers]`, in order. A name is kept; a second, different
/// entry of the same name in this run gets `-2`, `-3`...; an entry equal to one in the file is
/// not added again; a name the file already has for a different entry keeps the file's.
fn merge(doc: &mut DocumentMut, sources: &[Source], warnings: &mut Vec<String>) -> Merged {
    if doc.get("servers").is_none() {
        let mut t = Table::new();
        t.set_implicit(true);
        doc["servers"] = Item::Table(t);
    }
    let servers = doc["servers"].as_table_mut().expect("[servers] is a table");
    let mut claimed: HashMap<String, toml::Table> = HashMap::new();
    let mut merged = Merged::default();
    for s in sources {
        merged.ours += s.ours.len();
        for Entry { name: base, table } in &s.entries {
            let wanted = normal(table);
            for n in 1.. {
                let name = if n == 1 {
                    base.clone()
                } else {
                    format!("{base}-{n}")
                };
                if let Some(t) = claimed.get(&name) {
                    if *t == wanted {
                        break;
                    }
                    continue;
                }
                let existing = servers.get(&name).and_then(Item::as_table).map(normal);
                match existing {
                    None => {
                        servers.insert(&name, Item::Table(table.clone()));
                        merged.added.push(name.clone());
                    }
                    Some(e) if e == wanted => merged.present.push(name.clone()),
                    Some(_) if n == 1 => {
                        warnings.push(format!("{}: {name}: switchboard.toml already has a different [servers.{name}]; kept that one", s.path.display()));
                        merged.present.push(name.clone());
                    }
                    Some(_) => continue,
                }
                claimed.insert(name, wanted);
                break;
            }
        }
    }
    merged
}

/// A table's meaning, without its formatting.
fn normal(t: &Table) -> toml::Table {
    let mut doc = DocumentMut::new();
    doc["x"] = Item::Table(t.clone());
    let parsed: toml::Table = doc.to_string().parse().unwrap_or_default();
    parsed
        .get("x")
        .and_then(|v| v.as_table())
        .cloned()
        .unwrap_or_default()
}

fn report(m: &Merged, out: &Path) {
    match m.added.is_empty() {
        true => println!("{}: nothing new to add", out.display()),
        false => println!(
            "{}: added {} server{}: {}",
            out.display(),
            m.added.len(),
            if m.added.len() == 1 { "" } else { "s" },
            m.added.join(", ")
        ),
    }
    if !m.present.is_empty() {
        println!("already there: {}", m.present.join(", "));
    }
    if m.ours > 0 {
        let (n, what) = match m.ours {
            1 => (1, "entry that already points"),
            n => (n, "entries that already point"),
        };
        println!("left out {n} {what} at switchboard");
    }
}

/// Tell (or, with `--apply`, do) what the client's file needs now.
fn client_step(s: &Source, entry: &Value, apply: bool) -> Result<(), String> {
    let path = s.path.display();
    if !apply {
        match s.app.servers_key() {
            Some(key) => println!(
                "\n{} ({path}): replace its servers with this one entry (`switchboard import --apply` does it, keeping a backup):\n{}",
                s.app.label(),
                serde_json::to_string_pretty(&serde_json::json!({ key: { "switchboard": entry } }))
                    .unwrap_or_default()
            ),
            None => println!(
                "\n{path}: {}'s registry; `switchboard serve` on the new file replaces the launcher",
                s.app.label()
            ),
        }
        return Ok(());
    }
    match apply::apply(s, entry)? {
        apply::Applied::Rewritten(backup) => println!(
            "{path}: now holds the one switchboard entry (the original is in {})",
            backup.display()
        ),
        apply::Applied::Already => println!("{path}: already holds the switchboard entry"),
        apply::Applied::NotAClient => println!(
            "{path}: left as it is ({}'s registry, not a client's configuration)",
            s.app.label()
        ),
    }
    Ok(())
}
