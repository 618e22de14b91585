//! Pinned tool definitions in the core: every catalog rebuild checks each server's tools
//! against the pins ([`crate::pins`]), held tools stay out of the catalog (so out of every list,
//! search and route), and a call to one says why. The state file is watched, so an approval
//! made with `switchboard pins approve` takes effect at once, without a restart. In a cluster,
//! the pins are the store's: each change made here goes to it as a compare-and-set on the one
//! pin (so the first replica to pin a tool wins, and a fresh replica never trusts a definition
//! the others hold), and every replica takes the store's pins whenever any changes them; an
//! approval on one releases the tool on every replica.

use super::{Gateway, Notice, Pool};
use crate::catalog::naming;
use crate::config::{OnSuspicious, ServerSpec};
use crate::upstream::{Item, ListKind, Lists};
use serde_json::Value;
use std::sync::Arc;

/// Tool descriptions screening flagged, by server and action (`warn`, `block`).
pub const SUSPICIOUS: &str = "switchboard_suspicious_tools_total";

/// A tool held for approval.
pub struct Held {
    /// Its upstream.
    pub server: Arc<str>,
    /// The upstream's name for it.
    pub tool: Arc<str>,
    /// Why, as a client is told.
    pub reason: String,
}

impl Gateway {
    /// Every upstream's lists, with held tools left out, and the tools held.
    pub(super) fn admitted_lists(&self, pool: &Pool) -> (Vec<Arc<Lists>>, Vec<Held>) {
        let mut held = Vec::new();
        let lists = pool
            .all()
            .iter()
            .map(|u| {
                let lists = u.lists();
                let tools = lists.get(ListKind::Tools);
                if tools.is_empty() {
                    return lists;
                }
                let defs: Vec<(&str, Value)> = tools
                    .iter()
                    .map(|t| {
                        (
                            &*t.key,
                            serde_json::from_str(t.raw.get()).unwrap_or(Value::Null),
                        )
                    })
                    .collect();
                let mut out = self.pins.check(&u.spec.name, &defs, u.spec.on_tool_change);
                self.share_pins();
                for (name, definition) in &defs {
                    if let Some(why) = self.screened(&u.spec, name, definition) {
                        out.entry(name.to_string()).or_insert(why);
                    }
                }
                if out.is_empty() {
                    return lists;
                }
                let kept: Vec<Item> = tools
                    .iter()
                    .filter(|t| !out.contains_key(&*t.key))
                    .cloned()
                    .collect();
                held.extend(out.into_iter().map(|(tool, reason)| Held {
                    server: u.spec.name.clone(),
                    tool: Arc::from(tool),
                    reason,
                }));
                let mut l = (*lists).clone();
                l.items.insert(ListKind::Tools, Arc::new(kept));
                Arc::new(l)
            })
            .collect();
        (lists, held)
    }

    /// Screen one definition: findings are logged (once) and counted; on a server with
    /// `on_suspicious = "block"` the tool is held, and this says why.
    fn screened(&self, spec: &ServerSpec, name: &str, definition: &Value) -> Option<String> {
        let found = crate::pins::screen(definition);
        if found.is_empty() {
            return None;
        }
        let server = &*spec.name;
        let block = spec.on_suspicious == OnSuspicious::Block;
        if self
            .flagged
            .lock()
            .insert(format!("{server}/{name}/{found:?}"))
        {
            let action = if block { "block" } else { "warn" };
            metrics::counter!(SUSPICIOUS, "server" => server.to_string(), "action" => action)
                .increment(1);
            tracing::warn!(server, tool = name, action, findings = %found.join("; "), "tool description looks aimed at the model rather than the user");
        }
        block.then(|| {
            format!(
                "tool {name:?} of server {server:?} is held: its description looks aimed at the model rather than the user ({}); set on_suspicious = \"warn\" for {server} to let it through",
                found.join("; ")
            )
        })
    }

    /// Why the tool a client calls `name` is held, if it is.
    pub(super) fn held_reason(&self, name: &str) -> Option<String> {
        let views = self.views.load();
        let sep = &views.config.gateway.separator;
        views
            .held
            .iter()
            .find(|h| {
                *h.tool == *name
                    || format!("{}{sep}{}", naming::prefix_of(&h.server), h.tool) == name
            })
            .map(|h| h.reason.clone())
    }

    /// How many tools of upstream `server` are held.
    pub fn held_count(&self, server: &str) -> usize {
        let views = self.views.load();
        views.held.iter().filter(|h| *h.server == *server).count()
    }

    /// Approve `server`'s pending definitions (one `tool`, or all), then rebuild and tell
    /// clients. The tools approved.
    pub fn approve(&self, server: &str, tool: Option<&str>) -> Result<Vec<String>, String> {
        let done = self.pins.approve(server, tool)?;
        self.share_pins();
        self.apply_pins();
        Ok(done)
    }

    /// Rebuild with the pins as they are now; clients are told when what is held changed.
    fn apply_pins(&self) {
        let before = self.held_set();
        self.rebuild_catalog();
        if self.held_set() != before {
            self.tell(Notice::ListChanged(ListKind::Tools));
        }
    }

    /// In a cluster, have the pins' changes made here given to the store (by [`share`]'s task,
    /// off the caller's path).
    fn share_pins(&self) {
        if crate::cluster::store().is_some() {
            self.pins_sync.notify_one();
        }
    }

    /// Give the store the changes made here (each applied only where its base still holds),
    /// then take the store's pins as these: `false` when the store did not answer (the changes
    /// wait for the next try).
    async fn sync_pins(&self, store: &crate::cluster::Store) -> bool {
        let changes = self.pins.changes();
        if !changes.is_empty() && store.change_pins(&changes).await.is_none() {
            self.pins.requeue(changes);
            return false;
        }
        let Some(text) = store.pins().await else {
            return false;
        };
        match self.pins.replace(&text) {
            Ok(None) => {}
            Ok(Some(_)) => {
                tracing::info!("took the cluster's pinned tool definitions");
                self.apply_pins();
            }
            Err(e) => tracing::error!(error = %e, "keeping this replica's pinned tool definitions"),
        }
        true
    }

    fn held_set(&self) -> Vec<(Arc<str>, Arc<str>)> {
        let mut v: Vec<_> = self
            .views
            .load()
            .held
            .iter()
            .map(|h| (h.server.clone(), h.tool.clone()))
            .collect();
        v.sort();
        v
    }
}

/// In a cluster, keep the pins in step with the store's, for as long as the gateway runs: at
/// start (trying every 100 ms until the store, which connects in the background, answers),
/// whenever a change is made here, and whenever any replica announces one; a store that does not
/// answer is tried again a second later.
pub fn share(gw: &Arc<Gateway>) {
    let Some(store) = crate::cluster::store() else {
        return;
    };
    let store: &'static crate::cluster::Store = store;
    let wake = gw.pins_sync.clone();
    let told = wake.clone();
    store.on_pins_changed(move || told.notify_one());
    let weak = Arc::downgrade(gw);
    tokio::spawn(async move {
        let mut pause = std::time::Duration::from_millis(100);
        loop {
            let Some(gw) = weak.upgrade() else { return };
            let synced = gw.sync_pins(store).await;
            drop(gw);
            if synced {
                pause = std::time::Duration::from_secs(1);
                wake.notified().await;
            } else {
                tokio::time::sleep(pause).await;
            }
        }
    });
}

/// Watch the state file; when someone else changes it (an approval), read it again and apply it.
pub fn watch(gw: &Arc<Gateway>) {
    use notify::Watcher;
    let file = gw.pins.path().to_path_buf();
    let Some(dir) = file.parent().map(|d| d.to_path_buf()) else {
        return;
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        tracing::warn!(dir = %dir.display(), error = %e, "cannot create the state directory; approvals need a restart");
        return;
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
    let watched = file.clone();
    let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if res.is_ok_and(|ev| ev.paths.contains(&watched)) {
            let _ = tx.try_send(()); // one pending reload stands for any number of events
        }
    });
    let mut watcher = match watcher {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch the pinned tool definitions; approvals need a restart");
            return;
        }
    };
    if let Err(e) = watcher.watch(&dir, notify::RecursiveMode::NonRecursive) {
        tracing::warn!(dir = %dir.display(), error = %e, "cannot watch the state directory; approvals need a restart");
        return;
    }
    let weak = Arc::downgrade(gw);
    tokio::spawn(async move {
        let _watcher = watcher; // watches as long as this task runs
        while rx.recv().await.is_some() {
            let Some(gw) = weak.upgrade() else { break };
            match gw.pins.reload() {
                Ok(true) => {
                    tracing::info!(file = %gw.pins.path().display(), "pinned tool definitions changed on disk; applied");
                    gw.share_pins();
                    gw.apply_pins();
                }
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "keeping the pins read before"),
            }
        }
    });
}
