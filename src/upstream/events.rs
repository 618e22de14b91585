//! What upstreams say that no single call owns, on its way to the gateway, bounded: a list
//! change waits at most once per server and kind (a server repeating it while the gateway is
//! still re-fetching adds nothing), and resource updates and log lines queue up to [`QUEUED`],
//! past which they are dropped and counted (`switchboard_notifications_dropped_total`).

use super::lists::ListKind;
use bytes::Bytes;
use dashmap::DashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Resource updates and log lines that may wait for the gateway, across all upstreams.
pub const QUEUED: usize = 4096;

/// Something an upstream said that no single in-flight call owns; the gateway acts on it.
#[derive(Clone, Debug)]
pub enum Event {
    /// `notifications/{tools,prompts,resources}/list_changed`.
    ListChanged(Arc<str>, &'static [ListKind]),
    /// `notifications/resources/updated`, with its raw params.
    ResourceUpdated(Arc<str>, Bytes),
    /// A shared server's `notifications/message` that no call claims, with its raw params.
    Log(Arc<str>, Bytes),
}

#[derive(Default)]
struct Waiting {
    /// List changes sent and not yet received.
    changes: DashSet<(Arc<str>, &'static [ListKind])>,
    /// Other events sent and not yet received.
    queued: AtomicUsize,
}

/// The sending side, one clone per connection.
#[derive(Clone)]
pub struct Events {
    tx: mpsc::UnboundedSender<Event>,
    waiting: Arc<Waiting>,
}

/// The gateway's receiving side.
pub struct Receiver {
    rx: mpsc::UnboundedReceiver<Event>,
    waiting: Arc<Waiting>,
}

/// A new channel of events.
pub fn channel() -> (Events, Receiver) {
    // Unbounded only in type: what waits is bounded by the rules in `send`.
    let (tx, rx) = mpsc::unbounded_channel();
    let waiting = Arc::new(Waiting::default());
    (
        Events {
            tx,
            waiting: waiting.clone(),
        },
        Receiver { rx, waiting },
    )
}

impl Events {
    /// Send `event` unless the same list change already waits, or too many others do.
    pub fn send(&self, event: Event) {
        match &event {
            Event::ListChanged(server, kinds) => {
                if !self.waiting.changes.insert((server.clone(), kinds)) {
                    return;
                }
            }
            _ => {
                if self.waiting.queued.fetch_add(1, Ordering::AcqRel) >= QUEUED {
                    self.waiting.queued.fetch_sub(1, Ordering::AcqRel);
                    metrics::counter!(crate::observe::DROPPED).increment(1);
                    return;
                }
            }
        }
        let _ = self.tx.send(event);
    }
}

impl Receiver {
    /// The next event; `None` when every sender is gone.
    pub async fn recv(&mut self) -> Option<Event> {
        let event = self.rx.recv().await?;
        match &event {
            // Removed before the gateway acts, so a change during the re-fetch is sent again.
            Event::ListChanged(server, kinds) => {
                self.waiting.changes.remove(&(server.clone(), *kinds));
            }
            _ => {
                self.waiting.queued.fetch_sub(1, Ordering::AcqRel);
            }
        }
        Some(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_flood_waits_bounded_and_list_changes_coalesce() {
        let (tx, mut rx) = channel();
        let name: Arc<str> = "up".into();
        for _ in 0..1000 {
            tx.send(Event::ListChanged(name.clone(), &[ListKind::Tools]));
        }
        tx.send(Event::ListChanged(name.clone(), &ListKind::ALL));
        for _ in 0..QUEUED + 100 {
            tx.send(Event::Log(name.clone(), Bytes::from_static(b"{}")));
        }
        drop(tx);
        let mut got = Vec::new();
        while let Some(e) = rx.recv().await {
            got.push(e);
        }
        let changes = got
            .iter()
            .filter(|e| matches!(e, Event::ListChanged(..)))
            .count();
        assert_eq!(changes, 2, "one per kind set while it waits");
        assert_eq!(got.len() - changes, QUEUED, "the rest dropped");
    }

    #[tokio::test]
    async fn a_change_after_it_was_received_is_sent_again() {
        let (tx, mut rx) = channel();
        let name: Arc<str> = "up".into();
        tx.send(Event::ListChanged(name.clone(), &[ListKind::Tools]));
        assert!(rx.recv().await.is_some());
        tx.send(Event::ListChanged(name.clone(), &[ListKind::Tools]));
        assert!(matches!(rx.recv().await, Some(Event::ListChanged(..))));
    }
}
