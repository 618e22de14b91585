//! stdio upstream: one task owns the child process and its stdin; messages come in over a channel.

use super::framing::{self, Line};
use super::{process, stderr, Children, Peer};
use crate::call::Failure;
use crate::config::Launch;
use bytes::Bytes;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// The sending side of a stdio upstream.
pub struct StdioLink {
    tx: mpsc::Sender<Bytes>,
    stop: parking_lot::Mutex<Option<oneshot::Sender<()>>>,
    owner: tokio::sync::Mutex<Option<JoinHandle<()>>>,
    /// The child's process id.
    pid: Option<u32>,
}

impl StdioLink {
    /// Start the child and its tasks.
    pub fn spawn(
        server: Arc<str>,
        launch: &Launch,
        peer: Arc<Peer>,
        children: &Children,
    ) -> Result<Self, Failure> {
        let mut child = process::spawn(launch, true, &children.env)
            .map_err(|e| Failure::unavailable(format!("cannot start {:?}: {e}", launch.program)))?;
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let errors = child.stderr.take().expect("stderr is piped");
        let pid = child.id();
        let max = children.max_message;
        tokio::spawn(read_stdout(stdout, peer.clone(), server.clone(), max));
        tokio::spawn(stderr::log(errors, server.clone(), children.stderr.clone()));
        let (tx, rx) = mpsc::channel(256);
        let (stop_tx, stop_rx) = oneshot::channel();
        let owner = tokio::spawn(own_child(child, stdin, rx, stop_rx, peer, server));
        Ok(StdioLink {
            tx,
            stop: parking_lot::Mutex::new(Some(stop_tx)),
            owner: tokio::sync::Mutex::new(Some(owner)),
            pid,
        })
    }

    /// The child's process id.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Queue one message for the child's stdin.
    pub async fn send(&self, msg: Bytes) -> Result<(), Failure> {
        self.tx.send(msg).await.map_err(|_| Failure::closed())
    }

    /// Close stdin, wait, SIGTERM, SIGKILL; returns when the child is gone.
    pub async fn shutdown(&self) {
        if let Some(stop) = self.stop.lock().take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.owner.lock().await.take() {
            let _ = task.await;
        }
    }
}

/// How the child's task ended.
enum Ended {
    /// The child exited (or cannot be waited for): the reason.
    Exited(String),
    /// Asked to stop, or stdin failed: the child must be stopped.
    Stop,
}

/// The task that owns the child: writes its stdin, notices its exit, stops it on request. A
/// write never keeps the stop or the exit from being seen: a child that stops reading (hung,
/// `SIGSTOP`ped) fills its pipe, and the write then waits forever.
async fn own_child(
    mut child: Child,
    mut stdin: ChildStdin,
    mut rx: mpsc::Receiver<Bytes>,
    mut stop: oneshot::Receiver<()>,
    peer: Arc<Peer>,
    server: Arc<str>,
) {
    let exited = |status: std::io::Result<std::process::ExitStatus>| match status {
        Ok(s) => Ended::Exited(format!("process exited ({s})")),
        Err(e) => Ended::Exited(format!("process lost ({e})")),
    };
    let ended = loop {
        tokio::select! {
            msg = rx.recv() => {
                let Some(msg) = msg else { break Ended::Stop };
                let written = async {
                    stdin.write_all(&msg).await?;
                    stdin.write_all(b"\n").await?;
                    stdin.flush().await
                };
                tokio::select! {
                    w = written => if let Err(e) = w {
                        tracing::warn!(server = %server, error = %e, "cannot write to child's stdin");
                        break Ended::Stop;
                    },
                    status = child.wait() => break exited(status),
                    _ = &mut stop => break Ended::Stop,
                }
            }
            status = child.wait() => break exited(status),
            _ = &mut stop => break Ended::Stop,
        }
    };
    match ended {
        Ended::Exited(why) => {
            tracing::warn!(server = %server, "{why}");
            peer.close(Failure::crashed(why));
        }
        Ended::Stop => {
            peer.close(Failure::closed());
            drop(stdin);
            process::stop(&mut child, &server).await;
        }
    }
}

/// Read newline-delimited JSON-RPC from the child's stdout into the peer. A line over `max`
/// bytes fails the request it answers at once (when its id can be found) instead of leaving it
/// to time out.
async fn read_stdout(
    stdout: impl AsyncRead + Unpin,
    peer: Arc<Peer>,
    server: Arc<str>,
    max: usize,
) {
    let mut reader = BufReader::with_capacity(64 * 1024, stdout);
    loop {
        let line = match framing::next_line(&mut reader, max).await {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(server = %server, error = %e, "cannot read child's stdout");
                break;
            }
        };
        match line {
            Line::Message(text) => {
                if let Err(why) = peer.deliver(Bytes::from(text.clone())) {
                    let shown = String::from_utf8_lossy(&text[..text.len().min(200)]);
                    tracing::warn!(server = %server, "ignoring a stdout line that is not JSON-RPC ({why}): {shown}");
                }
            }
            Line::Oversize(prefix) => {
                let why = format!("the upstream sent a message over the {max}-byte limit (gateway.max_message_bytes)");
                tracing::warn!(server = %server, "{why}");
                if let Some(id) = framing::leading_id(&prefix) {
                    peer.fail(id, Failure::protocol(why));
                }
            }
        }
    }
    peer.close(Failure::crashed("stdout closed"));
}
