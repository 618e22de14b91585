//! The last requests the gateway answered, kept in memory for the admin page: method, name,
//! server, outcome and latency, never arguments or results. A ring of [`KEPT`]; the oldest falls
//! out.

use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Arc;

/// How many requests are kept.
pub const KEPT: usize = 200;

/// One answered request.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    /// When it was answered (seconds since the epoch).
    pub at: f64,
    /// The JSON-RPC method.
    pub method: std::borrow::Cow<'static, str>,
    /// The tool, prompt or resource it named, if any.
    pub name: Option<Arc<str>>,
    /// The upstream it went to, if it got that far.
    pub server: Option<Arc<str>>,
    /// `ok`, or the failure's reason (`upstream_timeout`, `policy_denied`...).
    pub outcome: &'static str,
    /// How long it took, in milliseconds.
    pub latency_ms: f64,
    /// What the failure said.
    pub error: Option<String>,
}

/// The ring.
#[derive(Default)]
pub struct Recent(parking_lot::Mutex<VecDeque<Entry>>);

impl Recent {
    /// Keep `e`, dropping the oldest past [`KEPT`].
    pub fn push(&self, mut e: Entry) {
        e.at = crate::observe::unix_seconds();
        let mut ring = self.0.lock();
        if ring.len() == KEPT {
            ring.pop_front();
        }
        ring.push_back(e);
    }

    /// Newest first.
    pub fn list(&self) -> Vec<Entry> {
        self.0.lock().iter().rev().cloned().collect()
    }
}
