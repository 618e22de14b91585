//! `[audit]`: where the audit log goes (a file rotated by size, or stderr), and its queue.

use super::expand::Context;
use super::ConfigError;
use serde::Deserialize;
use std::path::PathBuf;

/// The audit log: a file (rotated by size) or stderr.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    /// Whether there is an audit log (an `[audit]` table).
    pub enabled: bool,
    /// The file; absent: JSON lines on stderr, tracing target `audit`.
    pub path: Option<PathBuf>,
    /// A file is rotated when it reaches this size.
    pub max_bytes: u64,
    /// Rotated files kept (`audit.jsonl.1` ... `.N`).
    pub keep: usize,
    /// Lines waiting to be written, at most (beyond it lines are dropped and counted).
    pub queue: usize,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings {
            enabled: false,
            path: None,
            max_bytes: 64 << 20,
            keep: 5,
            queue: 65_536,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AuditSpec {
    path: Option<String>,
    max_bytes: Option<u64>,
    keep: Option<usize>,
    queue: Option<usize>,
}

impl AuditSpec {
    pub(super) fn build(self, file: &str, ctx: &Context) -> Result<AuditSettings, ConfigError> {
        let path = match &self.path {
            Some(p) => Some(ctx.relative(&super::tilde(&ctx.expand(p, file, "audit.path")?))),
            None => None,
        };
        let d = AuditSettings::default();
        let queue = self.queue.unwrap_or(d.queue);
        if queue == 0 {
            return Err(ConfigError::invalid(
                file,
                "audit.queue",
                "must be at least 1",
            ));
        }
        Ok(AuditSettings {
            enabled: true,
            path,
            max_bytes: self.max_bytes.unwrap_or(d.max_bytes).max(4096),
            keep: self.keep.unwrap_or(d.keep),
            queue,
        })
    }
}
