//! The audit log: one JSON line per decision and per call (who, where, what, which rule, how it
//! ended, how long it took), to a file rotated by size or to stderr. Never a token or a
//! configured secret: lines carry the identity's subject, roles and method, not its credentials,
//! and a call's arguments only for servers that opt in (`audit_arguments = true`).
//!
//! Lines are written by one thread behind a bounded queue (`audit.queue`), so a slow disk never
//! stalls a call; lines beyond the queue are dropped and counted
//! (`switchboard_audit_dropped_total`). Each line written to a file carries `seq`: this process's
//! count, or in a cluster one count shared by every replica (taken from the store a block per
//! batch of lines, by the writer thread), so that the replicas' trails merge into one order in
//! which a missing line shows; `node` names the replica. A line the store could not number carries
//! `local_seq` (this process's count) instead.

use crate::call::Identity;
use crate::config::AuditSettings;
use serde::Serialize;
use serde_json::value::RawValue;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};

/// Audit lines dropped because the writer fell behind.
pub const DROPPED: &str = "switchboard_audit_dropped_total";

/// One line.
#[derive(Serialize)]
pub struct Record<'a> {
    /// Where the request came in: `http`, `sse`, `stdio`, `admin`.
    pub face: &'a str,
    /// The session (or the stateless request's throw-away client).
    pub session: &'a str,
    /// The JSON-RPC method (or the admin endpoint).
    pub method: &'a str,
    /// The named endpoint the client came in through (absent: the aggregate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<&'a str>,
    /// The exposed name or URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    /// The server it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<&'a str>,
    /// The upstream's own name for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_name: Option<&'a str>,
    /// `allow` or `deny`.
    pub decision: &'a str,
    /// The rule that decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'a str>,
    /// Why it was denied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    /// How an allowed call ended: `ok`, `error`, or the failure's outcome.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<&'a str>,
    /// How long it took, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// The call's arguments (servers with `audit_arguments = true` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arguments: Option<&'a RawValue>,
    /// A list filtered by policy: how many items the caller saw, and how many it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listed: Option<(usize, usize)>,
}

impl<'a> Record<'a> {
    /// A line of `method` through `face` in `session` with `decision`; nothing else said yet
    /// (fill the rest with struct update syntax).
    pub fn of(face: &'a str, session: &'a str, method: &'a str, decision: &'a str) -> Self {
        Record {
            face,
            session,
            method,
            endpoint: None,
            name: None,
            server: None,
            upstream_name: None,
            decision,
            rule: None,
            reason: None,
            outcome: None,
            latency_ms: None,
            arguments: None,
            listed: None,
        }
    }
}

#[derive(Serialize)]
struct Line<'a> {
    time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<&'a str>,
    subject: &'a str,
    roles: &'a [String],
    via: &'a str,
    #[serde(flatten)]
    record: &'a Record<'a>,
}

/// Where lines go.
pub struct Audit {
    enabled: bool,
    tx: Option<SyncSender<String>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Audit {
    // Every queued line is written before the log closes.
    fn drop(&mut self) {
        self.tx.take();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

impl Audit {
    /// Open the log as configured (the file and its folder are created).
    pub fn open(s: &AuditSettings) -> std::io::Result<Audit> {
        let Some(path) = s.path.as_ref().filter(|_| s.enabled) else {
            return Ok(Audit {
                enabled: s.enabled,
                tx: None,
                writer: None,
            });
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = Rotating::open(path.clone(), s.max_bytes, s.keep)?;
        let (tx, rx) = sync_channel::<String>(s.queue);
        let mut numbers = Sequence::new();
        let writer = std::thread::Builder::new()
            .name("audit".into())
            .spawn(move || {
                let mut file = file;
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    batch.extend(rx.try_iter().take(BATCH - 1));
                    let (start, key) = numbers.take(batch.len() as u64);
                    for (n, line) in (start..).zip(&batch) {
                        if let Err(e) = file.write_line(&numbered(line, key, n)) {
                            tracing::error!(error = %e, "cannot write the audit log");
                        }
                    }
                }
            })?;
        Ok(Audit {
            enabled: true,
            tx: Some(tx),
            writer: Some(writer),
        })
    }

    /// Whether lines are recorded at all.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Record one line for `who`.
    pub fn record(&self, who: &Identity, record: &Record<'_>) {
        if !self.enabled {
            return;
        }
        let line = Line {
            time: humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
            node: crate::cluster::store().map(|s| s.settings().node_id.as_str()),
            subject: &who.subject,
            roles: &who.roles,
            via: who.via.name(),
            record,
        };
        let text = serde_json::to_string(&line).expect("an audit line serializes");
        match &self.tx {
            None => tracing::info!(target: "audit", "{text}"),
            Some(tx) => match tx.try_send(text) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                    metrics::counter!(DROPPED).increment(1);
                }
            },
        }
    }
}

/// Lines numbered with one trip to the store, at most.
const BATCH: usize = 256;

/// Where the writer's numbers come from: this process's count, or in a cluster the store's.
struct Sequence {
    local: u64,
    store: Option<&'static std::sync::Arc<crate::cluster::Store>>,
    conn: Option<redis::Connection>,
    /// After the store failed to answer, when to try it again (lines meanwhile count locally).
    retry_at: Option<tokio::time::Instant>,
}

/// How long the writer numbers lines locally after the store failed to answer.
const RETRY: std::time::Duration = std::time::Duration::from_secs(1);

impl Sequence {
    fn new() -> Sequence {
        Sequence {
            local: 0,
            store: crate::cluster::store(),
            conn: None,
            retry_at: None,
        }
    }

    /// `n` consecutive numbers: the first, and the member they go in (`seq`, or `local_seq`
    /// when the cluster's store did not answer).
    fn take(&mut self, n: u64) -> (u64, &'static str) {
        let local = self.local + 1;
        self.local += n;
        let Some(store) = self.store else {
            return (local, "seq");
        };
        if self
            .retry_at
            .is_some_and(|at| tokio::time::Instant::now() < at)
        {
            return (local, "local_seq");
        }
        let counted = match self.conn.take().or_else(|| store.blocking()) {
            Some(mut conn) => {
                let last = store.count(&mut conn, "audit:seq", n);
                if last.is_some() {
                    self.conn = Some(conn);
                }
                last
            }
            None => None,
        };
        match counted {
            Some(last) => {
                self.retry_at = None;
                (last + 1 - n, "seq")
            }
            None => {
                self.retry_at = Some(tokio::time::Instant::now() + RETRY);
                (local, "local_seq")
            }
        }
    }
}

/// `line` (a JSON object) with `"key": n` as its first member.
fn numbered(line: &str, key: &str, n: u64) -> String {
    format!("{{\"{key}\":{n},{}", &line[1..])
}

/// A file rotated by size: `path` is renamed `path.1` (and `.1` to `.2` ...) when it would grow
/// past `max_bytes`; `keep` rotated files stay. Written here because the well-kept appenders
/// (tracing-appender) rotate by time and rename the live file by date, while operators tail a
/// fixed path and need its size bounded.
struct Rotating {
    path: PathBuf,
    file: std::fs::File,
    size: u64,
    max_bytes: u64,
    keep: usize,
}

impl Rotating {
    fn open(path: PathBuf, max_bytes: u64, keep: usize) -> std::io::Result<Rotating> {
        let file = append(&path)?;
        let size = file.metadata()?.len();
        Ok(Rotating {
            path,
            file,
            size,
            max_bytes,
            keep,
        })
    }

    fn write_line(&mut self, line: &str) -> std::io::Result<()> {
        let len = line.len() as u64 + 1;
        if self.size > 0 && self.size + len > self.max_bytes {
            self.rotate()?;
        }
        self.file.write_all(line.as_bytes())?;
        self.file.write_all(b"\n")?;
        self.size += len;
        Ok(())
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let numbered = |n: usize| PathBuf::from(format!("{}.{n}", self.path.display()));
        if self.keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            let _ = std::fs::remove_file(numbered(self.keep));
            for n in (1..self.keep).rev() {
                let _ = std::fs::rename(numbered(n), numbered(n + 1));
            }
            std::fs::rename(&self.path, numbered(1))?;
        }
        self.file = append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

fn append(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::Via;

    #[test]
    fn outside_a_cluster_lines_count_from_one_in_this_process() {
        let mut numbers = Sequence::new();
        assert_eq!(numbers.take(3), (1, "seq"));
        assert_eq!(numbers.take(2), (4, "seq"));
        let line = numbered(r#"{"time":"t","subject":"s"}"#, "seq", 4);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            (v["seq"].as_u64(), v["subject"].as_str()),
            (Some(4), Some("s"))
        );
    }

    #[test]
    fn rotates_by_size_and_keeps_what_it_should() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let mut r = Rotating::open(path.clone(), 100, 2).unwrap();
        for i in 0..10 {
            r.write_line(&format!("{i:040}")).unwrap();
        }
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        assert!(size(&path) <= 100);
        assert!(size(&dir.path().join("audit.jsonl.1")) > 0);
        assert!(size(&dir.path().join("audit.jsonl.2")) > 0);
        assert!(!dir.path().join("audit.jsonl.3").exists());
    }

    #[test]
    fn a_line_names_the_caller_and_never_its_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/audit.jsonl");
        let s = AuditSettings {
            enabled: true,
            path: Some(path.clone()),
            ..Default::default()
        };
        let audit = Audit::open(&s).unwrap();
        let who = Identity::new("ci-bot", vec!["reader".into()], Via::ApiKey);
        let record = Record {
            name: Some("time__now"),
            server: Some("time"),
            upstream_name: Some("now"),
            rule: Some("policy[0]"),
            outcome: Some("ok"),
            latency_ms: Some(1.5),
            ..Record::of("http", "s1", "tools/call", "allow")
        };
        audit.record(&who, &record);
        drop(audit);
        let text = std::fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(v["subject"], "ci-bot");
        assert_eq!(v["via"], "api_key");
        assert_eq!(v["decision"], "allow");
        assert_eq!(v["rule"], "policy[0]");
        assert_eq!(v["seq"], 1);
        assert!(v.get("node").is_none(), "no cluster, no node");
        assert!(v.get("arguments").is_none());
    }
}
