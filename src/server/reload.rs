//! Reloading the running configuration from where it was read: on a change of its files
//! (watched, debounced, and only when their content changed), on `SIGHUP`, and on
//! `POST /admin/reload`. One reload at a time. The new configuration is read and checked whole
//! (the file, its rule files, the keys `[auth]` names, the exposure check `serve` makes) before
//! anything changes; a refusal leaves everything as it was and is shown in `/servers`.

use crate::auth::{self, Auth};
use crate::config::Config;
use crate::gateway::reload::Applied;
use crate::gateway::Gateway;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How long the files must stay quiet after a change before they are read (editors write a
/// file in several steps; a Kubernetes ConfigMap update swaps a symlink).
const SETTLE: Duration = Duration::from_millis(300);

/// What reloads one server's configuration.
pub struct Reloader {
    gateway: Arc<Gateway>,
    auth: auth::Current,
    /// The address `serve --listen` chose over the file's (kept across reloads).
    listen: parking_lot::Mutex<Option<SocketAddr>>,
    /// The digest of the files' content when last read.
    digest: parking_lot::Mutex<Vec<u8>>,
    one_at_a_time: tokio::sync::Mutex<()>,
}

impl Reloader {
    /// Reloads for `gateway`, whose authentication is `auth`.
    pub fn new(gateway: Arc<Gateway>, auth: auth::Current) -> Reloader {
        let digest = digest(&gateway.config().watched_files());
        Reloader {
            gateway,
            auth,
            listen: parking_lot::Mutex::new(None),
            digest: parking_lot::Mutex::new(digest),
            one_at_a_time: tokio::sync::Mutex::new(()),
        }
    }

    /// Keep `addr` as the listening address whatever the file says (`serve --listen`).
    pub fn keep_listening_on(&self, addr: SocketAddr) {
        *self.listen.lock() = Some(addr);
    }

    /// Read the configuration again and apply it; `trigger` says why (for the log).
    pub async fn reload(&self, trigger: &'static str) -> Result<Applied, String> {
        let _one = self.one_at_a_time.lock().await;
        tracing::info!(trigger, "reloading the configuration");
        let outcome = self.apply().await;
        match &outcome {
            Ok(_) => self.gateway.loaded.applied(),
            Err(why) => self.gateway.loaded.rejected(why),
        }
        outcome
    }

    async fn apply(&self) -> Result<Applied, String> {
        let running = self.gateway.config();
        // What is read now is what was seen, whether it applies or not: a broken edit is
        // reported once, not on every later event in its directory.
        *self.digest.lock() = digest(&running.watched_files());
        let mut config = read(&running)?;
        if let Some(addr) = *self.listen.lock() {
            config.gateway.listen = addr;
        }
        if let Some(why) = auth::exposure(&config, running.gateway.listen) {
            return Err(why);
        }
        let auth = Auth::new(&config.auth, self.gateway.audit.clone())?;
        let read_digest = digest(&config.watched_files());
        let applied = self.gateway.reload(config).await?;
        self.auth.store(Arc::new(auth));
        *self.digest.lock() = read_digest;
        Ok(applied)
    }

    /// Whether the watched files' content differs from what was last read.
    fn changed_on_disk(&self) -> bool {
        digest(&self.gateway.config().watched_files()) != *self.digest.lock()
    }
}

/// The running configuration's source, read again.
fn read(running: &Config) -> Result<Config, String> {
    match running.files.first() {
        Some(path) => Config::load(path).map_err(|e| e.to_string()),
        None if running.is_embedded_default() => {
            Config::embedded_default().map_err(|e| e.to_string())
        }
        None => Err(format!(
            "{} was not read from a file: there is nothing to read again",
            running.source
        )),
    }
}

/// One digest of the files' content (a missing file reads as empty).
fn digest(files: &[PathBuf]) -> Vec<u8> {
    let mut h = Sha256::new();
    for f in files {
        h.update(f.as_os_str().as_encoded_bytes());
        h.update(std::fs::read(f).unwrap_or_default());
    }
    h.finalize().to_vec()
}

/// Reload on `SIGHUP`, for as long as the reloader lives.
pub fn on_hangup(reloader: &Arc<Reloader>) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hup = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot install a SIGHUP handler: reload with POST /admin/reload");
            return;
        }
    };
    let weak = Arc::downgrade(reloader);
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            let Some(r) = weak.upgrade() else { break };
            let _ = r.reload("SIGHUP").await; // the outcome is logged and shown in /servers
        }
    });
}

/// Reload when the configuration's files change (`gateway.watch`). Their directories are
/// watched, not the files, so a file replaced by rename (editors, ConfigMap symlink swaps) is
/// still seen; any event there leads to reading the files once they settle, and a reload only
/// if their content changed.
pub fn watch(reloader: &Arc<Reloader>) {
    use notify::Watcher;
    let config = reloader.gateway.config();
    if !config.gateway.watch || config.files.is_empty() {
        return;
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
    let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if res.is_ok() {
            let _ = tx.try_send(()); // one pending look stands for any number of events
        }
    });
    let mut watcher = match watcher {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch the configuration; reload with SIGHUP or POST /admin/reload");
            return;
        }
    };
    let mut watched = std::collections::HashSet::new();
    let mut watch_dirs = move |w: &mut notify::RecommendedWatcher, files: &[PathBuf]| {
        for dir in files.iter().filter_map(|f| f.parent()) {
            let dir = if dir.as_os_str().is_empty() {
                std::path::Path::new(".")
            } else {
                dir
            };
            if watched.insert(dir.to_path_buf()) {
                if let Err(e) = w.watch(dir, notify::RecursiveMode::NonRecursive) {
                    tracing::warn!(dir = %dir.display(), error = %e, "cannot watch a configuration directory");
                }
            }
        }
    };
    watch_dirs(&mut watcher, &config.watched_files());
    let weak = Arc::downgrade(reloader);
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Let the writes settle: every event meanwhile joins this one.
            loop {
                match tokio::time::timeout(SETTLE, rx.recv()).await {
                    Ok(Some(())) => continue,
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            let Some(r) = weak.upgrade() else { break };
            if r.changed_on_disk() {
                let _ = r.reload("file change").await;
                watch_dirs(&mut watcher, &r.gateway.config().watched_files());
            }
        }
    });
}
