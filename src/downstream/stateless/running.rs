//! A 2026-07-28 call in progress: where its answer comes from (in place, or its own task once
//! it may outlive the request), and what it does next.

use crate::downstream::Faces;
use crate::gateway::Client;
use crate::jsonrpc::{self, Kind as Message};
use bytes::Bytes;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// A call in progress; this end sees what it sends.
pub struct Running {
    pub(super) faces: Arc<Faces>,
    pub(super) client: Arc<Client>,
    /// The id the call was started with (its cancellation key).
    pub(super) first_id: String,
    pub(super) method: String,
    pub(super) related: mpsc::Receiver<Bytes>,
    pub(super) done: Done,
    /// Ids of the server-to-client requests the client still has to answer.
    pub(super) asked: Vec<String>,
    pub(super) parked_at: Instant,
    /// Its throw-away client already ended (the answer came in place).
    pub(super) ended: bool,
}

/// Where a call's answer comes from.
pub(super) enum Done {
    /// The call itself, awaited in place by the request that started it: no task, no channel,
    /// as long as the answer comes before anything else (the common case). Measured (issue
    /// "as fast as a bare proxy hop"): the task per stateless call made them about a fifth
    /// dearer than session calls.
    /// (In a mutex only to be `Sync`, as what `Faces` holds must be; it is reached through
    /// `&mut`, never locked.)
    Here(parking_lot::Mutex<futures::future::BoxFuture<'static, Bytes>>),
    /// The call runs in its own task (it sent something first, so it may outlive this request:
    /// a stream, a parked round).
    Task(oneshot::Receiver<Bytes>),
    /// The answer was taken.
    Taken,
}

impl Running {
    /// The call must go on by itself from now on: into its own task.
    pub(super) fn detach(&mut self) {
        if !matches!(self.done, Done::Here(_)) {
            return;
        }
        if let Done::Here(call) = std::mem::replace(&mut self.done, Done::Taken) {
            let call = call.into_inner();
            let (tx, rx) = oneshot::channel();
            tokio::spawn(async move {
                let _ = tx.send(call.await);
            });
            self.done = Done::Task(rx);
        }
    }
}

impl Drop for Running {
    /// A call dropped before its answer (the client went away, or never came back) is cancelled
    /// upstream (one still in place goes on in a task just long enough to say so); one that
    /// finished has nothing left to cancel. Either way its throw-away client ends (stopping any
    /// private upstream connection it opened).
    fn drop(&mut self) {
        self.client.cancel(&self.first_id);
        self.detach();
        if self.ended {
            return;
        }
        let (faces, id) = (self.faces.clone(), self.client.id.clone());
        tokio::spawn(async move {
            faces.sessions.end(&id).await;
        });
    }
}

/// What the call does next: answer, ask the client, or notify. Anything but the answer sends
/// a call still in place into its own task (what follows may outlive this request).
pub(super) async fn next_step(running: &mut Running) -> Step {
    let step = match &mut running.done {
        Done::Here(call) => tokio::select! {
            biased;
            answer = call.get_mut() => Step::Done(Some(answer)),
            Some(msg) = running.related.recv() => classify(msg),
        },
        Done::Task(rx) => tokio::select! {
            biased;
            answer = rx => Step::Done(answer.ok()),
            Some(msg) = running.related.recv() => classify(msg),
        },
        Done::Taken => Step::Done(None),
    };
    match step {
        Step::Done(_) => running.done = Done::Taken,
        _ => running.detach(),
    }
    step
}

/// Notifications already queued when the answer came (they were sent before it).
pub(super) fn queued_notes(running: &mut Running, log: bool) -> Vec<Bytes> {
    let mut notes = Vec::new();
    while let Ok(m) = running.related.try_recv() {
        if let Step::Tell(n, is_log) = classify(m) {
            if log || !is_log {
                notes.push(n);
            }
        }
    }
    notes
}

pub(super) enum Step {
    Done(Option<Bytes>),
    /// A server-to-client request (the whole message).
    Ask(Bytes),
    /// A notification; `true` for a log message.
    Tell(Bytes, bool),
}

pub(super) fn classify(msg: Bytes) -> Step {
    let kind = jsonrpc::parse(&msg).ok().map(|m| match m.kind() {
        Ok(Message::Request { .. }) => 1,
        Ok(Message::Notification {
            method: "notifications/message",
            ..
        }) => 2,
        _ => 0,
    });
    match kind {
        Some(1) => Step::Ask(msg),
        Some(2) => Step::Tell(msg, true),
        _ => Step::Tell(msg, false),
    }
}

/// The call ended with its answer: nothing to cancel.
pub(super) fn forget(running: Running) {
    running.client.end(&running.first_id);
    drop(running);
}
