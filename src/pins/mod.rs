//! Pinned tool definitions, trust on first use: the first time the gateway sees a server's tools
//! it records a digest of each definition ([`digest`]) in a state file; when the upstream later
//! presents a changed definition, or a new tool, the server's `on_tool_change` decides: `warn`
//! logs the diff and counts it, `block` holds the tool out of every list and call until someone
//! approves it (`switchboard pins approve`, or `POST /pins/approve`). The file is written
//! atomically (a temporary file renamed over it); a corrupt one is an error, never a silent
//! re-trust. In a cluster the pins are every replica's (shared through the store by the gateway:
//! [`Pins::snapshot`] out, [`Pins::replace`] in); the file is then this replica's copy.

mod digest;
mod screen;

pub use digest::{diff, digest};
pub use screen::screen;

use crate::cluster::PinChange as Change;
use crate::config::OnToolChange;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Tool definitions found changed or new, by server and action (`warn`, `block`).
pub const CHANGES: &str = "switchboard_tool_definition_changes_total";

/// The state file's name in the state directory.
pub const FILE: &str = "pins.json";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    version: u32,
    #[serde(default)]
    servers: BTreeMap<String, BTreeMap<String, Pin>>,
}

/// One tool's pin: the approved definition (none yet for a new tool held for approval), and a
/// different one the upstream presented since, if any.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pin {
    digest: Option<String>,
    definition: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending: Option<Pending>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pending {
    digest: String,
    definition: Value,
    since: String,
}

/// One row of `pins list`.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Server.
    pub server: String,
    /// The upstream's tool name.
    pub tool: String,
    /// `pinned`, `changed` (a different definition awaits approval) or `new` (never approved).
    pub state: &'static str,
    /// What changed, one line per member.
    pub diff: Vec<String>,
}

/// The pins of one state file.
pub struct Pins {
    path: PathBuf,
    state: parking_lot::Mutex<State>,
    /// Bumped whenever the pins change here (a check that recorded something, an approval, a
    /// reload, a replacement): in a cluster, what was last shared is compared with it.
    revision: AtomicU64,
    /// In a cluster, the changes made here not yet given to the store (`None`: not recorded).
    journal: parking_lot::Mutex<Option<Vec<Change>>>,
}

/// Changes kept for the store at most: beyond, the oldest are dropped and lost (only after this
/// many with the store unreachable); the replica then takes the store's pins as they are.
const JOURNAL: usize = 10_000;

impl Pins {
    /// The pins in `path` (none yet when it does not exist); a file that cannot be read or
    /// parsed is an error naming it.
    pub fn open(path: PathBuf) -> Result<Pins, String> {
        let state = read(&path)?;
        Ok(Pins {
            path,
            state: parking_lot::Mutex::new(state),
            revision: AtomicU64::new(0),
            journal: parking_lot::Mutex::new(None),
        })
    }

    /// The pins of a state directory.
    pub fn in_dir(dir: &Path) -> Result<Pins, String> {
        Self::open(dir.join(FILE))
    }

    /// The state file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read the file again (someone approved a tool); `false` when it did not change.
    pub fn reload(&self) -> Result<bool, String> {
        // Read under the lock: a write of ours (a check, an approval) between reading and
        // comparing would otherwise be undone by the older file.
        let mut s = self.state.lock();
        let fresh = read(&self.path)?;
        let changed = serde_json::to_string(&fresh).ok() != serde_json::to_string(&*s).ok();
        *s = fresh;
        if changed {
            self.revision.fetch_add(1, Ordering::Relaxed);
        }
        Ok(changed)
    }

    /// Record changes for a cluster's store from now on ([`Pins::changes`] takes them).
    pub fn record_changes(&self) {
        self.journal.lock().get_or_insert_with(Vec::new);
    }

    /// The changes made here since last taken.
    pub fn changes(&self) -> Vec<Change> {
        self.journal
            .lock()
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Put back `changes` the store did not take, before any made since.
    pub fn requeue(&self, mut changes: Vec<Change>) {
        if let Some(j) = self.journal.lock().as_mut() {
            changes.append(j);
            let over = changes.len().saturating_sub(JOURNAL);
            changes.drain(..over); // the oldest go, as in `note`
            *j = changes;
        }
    }

    fn note(&self, server: &str, tool: &str, base: String, pin: &Pin) {
        let mut journal = self.journal.lock();
        let Some(j) = journal.as_mut() else {
            return;
        };
        if j.len() >= JOURNAL {
            j.remove(0);
        }
        j.push(Change {
            server: server.to_string(),
            tool: tool.to_string(),
            base,
            pin: serde_json::to_string(pin).expect("a pin serializes"),
        });
    }

    /// How many times the pins changed in this process.
    pub fn revision(&self) -> u64 {
        self.revision.load(Ordering::Relaxed)
    }

    /// The pins as the state file holds them, and their revision (what a cluster shares).
    pub fn snapshot(&self) -> (u64, String) {
        let s = self.state.lock();
        let text = serde_json::to_string(&*s).expect("pins serialize");
        (self.revision(), text)
    }

    /// Take `text`, pins another replica shared, as these (written to the state file too):
    /// their revision here, or `None` when they are these already; an error names what is
    /// wrong with them (the pins stay as they were).
    pub fn replace(&self, text: &str) -> Result<Option<u64>, String> {
        let fresh: State = serde_json::from_str(text)
            .map_err(|e| format!("the shared pinned tool definitions are not valid: {e}"))?;
        let mut s = self.state.lock();
        if serde_json::to_string(&*s).ok() == serde_json::to_string(&fresh).ok() {
            return Ok(None);
        }
        *s = fresh;
        if let Err(e) = write(&self.path, &s) {
            tracing::error!(file = %self.path.display(), error = %e, "cannot save the pinned tool definitions");
        }
        Ok(Some(self.revision.fetch_add(1, Ordering::Relaxed) + 1))
    }

    /// Check the tools `server` presents now (name, definition). First sight of a server pins
    /// them all; afterwards a changed or new definition is recorded as pending and, per `mode`,
    /// logged (`warn`) or held (`block`). Returns the held tools with why.
    pub fn check(
        &self,
        server: &str,
        tools: &[(&str, Value)],
        mode: OnToolChange,
    ) -> HashMap<String, String> {
        let mut held = HashMap::new();
        if mode == OnToolChange::Allow {
            return held;
        }
        let mut s = self.state.lock();
        let first_sight = !s.servers.contains_key(server);
        let pins = s.servers.entry(server.to_string()).or_default();
        let mut dirty = first_sight && !tools.is_empty();
        for (name, definition) in tools {
            let d = digest(definition);
            let Some(pin) = pins.get_mut(*name) else {
                if first_sight {
                    let pin = approved(d, definition.clone());
                    self.note(server, name, "absent".into(), &pin);
                    pins.insert(name.to_string(), pin);
                    continue;
                }
                let pin = Pin {
                    digest: None,
                    definition: Value::Null,
                    pending: Some(pending(d, definition.clone())),
                };
                announce(
                    server,
                    name,
                    mode,
                    &["a new tool of a pinned server".into()],
                );
                self.note(server, name, "absent".into(), &pin);
                pins.insert(name.to_string(), pin);
                dirty = true;
                if mode == OnToolChange::Block {
                    held.insert(name.to_string(), held_reason(server, name, "it is new"));
                }
                continue;
            };
            if pin.digest.as_deref() == Some(d.as_str()) {
                // As approved. A pending change stays listed until approved or superseded: two
                // gateways sharing the file must not undo each other's records.
                continue;
            }
            if pin.pending.as_ref().is_none_or(|p| p.digest != d) {
                let lines = match &pin.digest {
                    Some(_) => diff(&pin.definition, definition),
                    None => vec!["a new tool of a pinned server".into()],
                };
                announce(server, name, mode, &lines);
                pin.pending = Some(pending(d, definition.clone()));
                self.note(server, name, base_of(pin), pin);
                dirty = true;
            }
            if mode == OnToolChange::Block {
                let why = if pin.digest.is_some() {
                    "its definition changed since it was approved"
                } else {
                    "it is new"
                };
                held.insert(name.to_string(), held_reason(server, name, why));
            }
        }
        if dirty {
            self.revision.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = write(&self.path, &s) {
                tracing::error!(file = %self.path.display(), error = %e, "cannot save the pinned tool definitions");
            }
        }
        held
    }

    /// Approve the pending definition of `server`'s `tool` (or of every tool of `server`):
    /// it becomes the pinned one. The tools approved.
    pub fn approve(&self, server: &str, tool: Option<&str>) -> Result<Vec<String>, String> {
        let mut s = self.state.lock();
        let pins = s
            .servers
            .get_mut(server)
            .ok_or_else(|| format!("no pins for server {server:?} in {}", self.path.display()))?;
        let mut done = Vec::new();
        for (name, pin) in pins.iter_mut() {
            if tool.is_some_and(|t| t != name) {
                continue;
            }
            if let Some(p) = pin.pending.take() {
                let base = base_of(pin);
                pin.digest = Some(p.digest);
                pin.definition = p.definition;
                self.note(server, name, base, pin);
                done.push(name.clone());
            }
        }
        if let Some(t) = tool.filter(|t| !pins.contains_key(*t)) {
            return Err(format!(
                "server {server:?} has no tool {t:?} in {}",
                self.path.display()
            ));
        }
        self.revision.fetch_add(1, Ordering::Relaxed);
        write(&self.path, &s).map_err(|e| format!("cannot write {}: {e}", self.path.display()))?;
        Ok(done)
    }

    /// Every pin, with what awaits approval.
    pub fn rows(&self) -> Vec<Row> {
        let s = self.state.lock();
        let mut out = Vec::new();
        for (server, pins) in &s.servers {
            for (tool, pin) in pins {
                let (state, diff) = match (&pin.digest, &pin.pending) {
                    (_, None) => ("pinned", Vec::new()),
                    (Some(_), Some(p)) => ("changed", diff(&pin.definition, &p.definition)),
                    (None, Some(p)) => ("new", vec![format!("definition: {}", p.definition)]),
                };
                out.push(Row {
                    server: server.clone(),
                    tool: tool.clone(),
                    state,
                    diff,
                });
            }
        }
        out
    }
}

/// A pin's [`Change::base`].
fn base_of(pin: &Pin) -> String {
    match &pin.digest {
        Some(d) => format!("d:{d}"),
        None => "none".into(),
    }
}

fn approved(digest: String, definition: Value) -> Pin {
    Pin {
        digest: Some(digest),
        definition,
        pending: None,
    }
}

fn pending(digest: String, definition: Value) -> Pending {
    Pending {
        digest,
        definition,
        since: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
    }
}

fn held_reason(server: &str, tool: &str, why: &str) -> String {
    format!("tool {tool:?} of server {server:?} is held: {why}; it awaits approval (switchboard pins diff {server}/{tool}, then switchboard pins approve {server}/{tool})")
}

fn announce(server: &str, tool: &str, mode: OnToolChange, lines: &[String]) {
    let action = if mode == OnToolChange::Block {
        "block"
    } else {
        "warn"
    };
    metrics::counter!(CHANGES, "server" => server.to_string(), "action" => action).increment(1);
    tracing::warn!(server, tool, action, diff = %lines.join("; "), "tool definition differs from the pinned one");
}

fn read(path: &Path) -> Result<State, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(State {
                version: 1,
                ..State::default()
            })
        }
        Err(e) => {
            return Err(format!(
                "cannot read the pinned tool definitions {}: {e}",
                path.display()
            ))
        }
    };
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "the pinned tool definitions {} are not valid ({e}): restore the file or move it away (without it every tool is trusted again on first sight)",
            path.display()
        )
    })
}

/// Write atomically: a temporary file beside it, renamed over it.
fn write(path: &Path, state: &State) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    // Unique per writer (two gateways of one process may share a state directory), so a
    // reader only ever sees a whole file.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("json.tmp-{}-{n}", std::process::id()));
    let text = serde_json::to_string_pretty(state).expect("pins serialize");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests;
