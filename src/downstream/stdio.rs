//! The stdio face: `switchboard stdio` serves the aggregate (or, with `--endpoint NAME`, one
//! named endpoint) on stdin/stdout, one JSON-RPC message per line, so a desktop app can launch
//! the gateway as a command. Logs go to stderr.

use super::{channel, Faces};
use bytes::Bytes;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Serve one session at `endpoint` on stdin/stdout until stdin closes.
pub async fn serve(
    faces: Arc<Faces>,
    caller: Arc<crate::call::Identity>,
    endpoint: Option<Arc<str>>,
) -> std::io::Result<()> {
    let session = faces
        .sessions
        .open(caller, "stdio", endpoint)
        .await
        .map_err(|f| std::io::Error::other(f.to_string()))?;
    let (tx, mut rx) =
        tokio::sync::mpsc::channel::<Bytes>(faces.gateway().config().gateway.max_queued_messages);
    session.attach_stream(tx);
    let writer = tokio::spawn(async move {
        let mut out = tokio::io::stdout();
        while let Some(msg) = rx.recv().await {
            // Messages are compact JSON: they never hold a raw newline.
            out.write_all(&msg).await?;
            out.write_all(b"\n").await?;
            out.flush().await?;
        }
        Ok::<_, std::io::Error>(())
    });
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut answering = Vec::new();
    while let Some(line) = lines.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        match channel::on_message(&faces, &session, Bytes::from(line)).await {
            Ok(Some(task)) => answering.push(task),
            Ok(None) => {}
            Err(error) => {
                session.deliver(error).await;
            }
        }
        answering.retain(|t| !t.is_finished());
    }
    // stdin closed: every request read so far still gets its answer, then the stream ends.
    tracing::info!(
        pending = answering.len(),
        "stdin closed; answering what is in flight, then shutting down"
    );
    futures::future::join_all(answering).await;
    faces.sessions.end(&session.id).await;
    let _ = writer.await;
    Ok(())
}
