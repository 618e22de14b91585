//! stdio upstream: one task owns the child process and its stdin; messages come in over a channel.

use super::{process, Peer};
use crate::call::Failure;
use crate::config::Launch;
use bytes::Bytes;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Longest line accepted from a child's stdout; a longer one is garbage, not a message.
const MAX_LINE: usize = 64 * 1024 * 1024;

/// The sending side of a stdio upstream.
pub struct StdioLink {
    tx: mpsc::Sender<Bytes>,
    stop: parking_lot::Mutex<Option<oneshot::Sender<()>>>,
    owner: tokio::sync::Mutex<Option<JoinHandle<()>>>,
}

impl StdioLink {
    /// Start the child and its tasks.
    pub fn spawn(server: Arc<str>, launch: &Launch, peer: Arc<Peer>) -> Result<Self, Failure> {
        let mut child = process::spawn(launch, true)
            .map_err(|e| Failure::unavailable(format!("cannot start {:?}: {e}", launch.program)))?;
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        tokio::spawn(read_stdout(stdout, peer.clone(), server.clone()));
        tokio::spawn(log_stderr(stderr, server.clone()));
        let (tx, rx) = mpsc::channel(256);
        let (stop_tx, stop_rx) = oneshot::channel();
        let owner = tokio::spawn(own_child(child, stdin, rx, stop_rx, peer, server));
        Ok(StdioLink {
            tx,
            stop: parking_lot::Mutex::new(Some(stop_tx)),
            owner: tokio::sync::Mutex::new(Some(owner)),
        })
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

/// The task that owns the child: writes its stdin, notices its exit, stops it on request.
async fn own_child(
    mut child: Child,
    mut stdin: ChildStdin,
    mut rx: mpsc::Receiver<Bytes>,
    mut stop: oneshot::Receiver<()>,
    peer: Arc<Peer>,
    server: Arc<str>,
) {
    loop {
        tokio::select! {
            msg = rx.recv() => {
                let Some(msg) = msg else { break };
                let written = async {
                    stdin.write_all(&msg).await?;
                    stdin.write_all(b"\n").await?;
                    stdin.flush().await
                };
                if let Err(e) = written.await {
                    tracing::warn!(server = %server, error = %e, "cannot write to child's stdin");
                    break;
                }
            }
            status = child.wait() => {
                let why = match status {
                    Ok(s) => format!("process exited ({s})"),
                    Err(e) => format!("process lost ({e})"),
                };
                tracing::warn!(server = %server, "{why}");
                peer.close(Failure::crashed(why));
                return;
            }
            _ = &mut stop => break,
        }
    }
    peer.close(Failure::closed());
    drop(stdin);
    process::stop(&mut child, &server).await;
}

/// Read newline-delimited JSON-RPC from the child's stdout into the peer.
async fn read_stdout(stdout: impl AsyncRead + Unpin, peer: Arc<Peer>, server: Arc<str>) {
    let mut reader = BufReader::with_capacity(64 * 1024, stdout);
    let mut line = Vec::with_capacity(4096);
    loop {
        line.clear();
        match (&mut reader)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut line)
            .await
        {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(server = %server, error = %e, "cannot read child's stdout");
                break;
            }
        }
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        if let Err(why) = peer.deliver(Bytes::copy_from_slice(text)) {
            let shown = String::from_utf8_lossy(&text[..text.len().min(200)]);
            tracing::warn!(server = %server, "ignoring a stdout line that is not JSON-RPC ({why}): {shown}");
        }
    }
    peer.close(Failure::crashed("stdout closed"));
}

/// Forward the child's stderr to our log, tagged with the server name.
pub(in crate::upstream) async fn log_stderr(stderr: impl AsyncRead + Unpin, server: Arc<str>) {
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::info!(target: "switchboard::upstream::stderr", server = %server, "{line}");
    }
}

use tokio::io::AsyncReadExt as _;
