//! A child's stderr: read as bytes (one invalid UTF-8 byte must not stop the reader, or the
//! child's next write gets EPIPE and a default-SIGPIPE server dies), logged lossily with the
//! server's name at a bounded rate, and its last lines kept to explain a failure.

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// Lines kept for explanations.
const KEPT: usize = 20;
/// Longest line logged or kept (the rest is cut, marked with `…`).
const LINE: usize = 2048;
/// Lines logged per second, and at once, per upstream; the rest are counted and said so.
const PER_SECOND: u32 = 50;
const BURST: u32 = 200;

/// The last lines an upstream wrote to stderr, across its restarts.
#[derive(Debug, Default)]
pub struct Tail {
    lines: parking_lot::Mutex<VecDeque<String>>,
}

impl Tail {
    fn push(&self, line: String) {
        let mut lines = self.lines.lock();
        if lines.len() == KEPT {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    /// The last lines, oldest first.
    pub fn last(&self) -> Vec<String> {
        self.lines.lock().iter().cloned().collect()
    }
}

/// Forward a child's stderr to the log, tagged with the server name, until it closes.
pub async fn log(stderr: impl AsyncRead + Unpin, server: Arc<str>, tail: Arc<Tail>) {
    let limiter: DefaultDirectRateLimiter = RateLimiter::direct(
        Quota::per_second(NonZeroU32::new(PER_SECOND).expect("non-zero"))
            .allow_burst(NonZeroU32::new(BURST).expect("non-zero")),
    );
    let mut reader = BufReader::new(stderr);
    let mut raw = Vec::with_capacity(256);
    let mut suppressed = 0u64;
    loop {
        raw.clear();
        match reader.read_until(b'\n', &mut raw).await {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                tracing::debug!(server = %server, error = %e, "cannot read child's stderr");
                break;
            }
        }
        let line = shown(&raw);
        if line.is_empty() {
            continue;
        }
        if limiter.check().is_ok() {
            if suppressed > 0 {
                tracing::info!(target: "switchboard::upstream::stderr", server = %server, suppressed, "stderr lines not logged (over {PER_SECOND}/s)");
                suppressed = 0;
            }
            tracing::info!(target: "switchboard::upstream::stderr", server = %server, "{line}");
        } else {
            suppressed += 1;
        }
        tail.push(line);
    }
}

/// A line as logged: lossily decoded, without its line end, cut to [`LINE`] characters.
fn shown(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim_end_matches(['\n', '\r']);
    match text.char_indices().nth(LINE) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn invalid_utf8_does_not_stop_the_reader() {
        let input: &[u8] = b"first\n\xff\xfe broken\nthird line\n";
        let tail = Arc::new(Tail::default());
        log(input, Arc::from("s"), tail.clone()).await;
        assert_eq!(
            tail.last(),
            ["first", "\u{fffd}\u{fffd} broken", "third line"]
        );
    }

    #[test]
    fn long_lines_are_cut_and_the_tail_keeps_the_last() {
        let long = "x".repeat(LINE + 10);
        assert_eq!(shown(long.as_bytes()).chars().count(), LINE + 1);
        let tail = Tail::default();
        for i in 0..KEPT + 5 {
            tail.push(i.to_string());
        }
        let last = tail.last();
        assert_eq!(last.len(), KEPT);
        assert_eq!(last[0], "5");
    }
}
