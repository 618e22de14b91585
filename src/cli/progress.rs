//! A one-line progress display while upstreams start, on a terminal only (`check`, `tools`):
//! redrawn in place, erased when done.

use crate::gateway::Pool;
use crate::upstream::State;
use std::io::{IsTerminal, Write};

/// The progress line, or nothing when stderr is not a terminal.
pub struct Line {
    shown: bool,
    on: bool,
}

impl Line {
    /// A progress line on stderr if it is a terminal.
    pub fn new() -> Self {
        Line {
            shown: false,
            on: std::io::stderr().is_terminal(),
        }
    }

    /// Redraw: how many servers are ready, failed, and still starting (named).
    pub fn show(&mut self, pool: &Pool) {
        if !self.on {
            return;
        }
        let (mut ready, mut failed, mut waiting) = (0, 0, Vec::new());
        for u in pool.all() {
            match u.state() {
                State::Ready => ready += 1,
                State::Failed => failed += 1,
                State::Starting | State::Restarting => waiting.push(u.spec.name.to_string()),
                State::Dormant | State::Stopped => {}
            }
        }
        let mut line = format!("starting servers: {ready} ready, {failed} failed");
        if !waiting.is_empty() {
            line.push_str(&format!(", waiting for {}", waiting.join(", ")));
        }
        let line: String = line.chars().take(100).collect();
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
        self.shown = true;
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if self.shown {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}
