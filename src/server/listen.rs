//! Accepting client connections, bounded: at most `max_connections` open (one more is answered
//! 503 and closed), headers within `header_read_timeout` (also between requests on a kept-alive
//! connection), a half-closed client still gets its answer, and on shutdown the open connections
//! get a grace period (`gateway.drain_timeout`) to finish.
//!
//! Hand-written rather than `axum::serve`, which exposes none of these settings; the HTTP itself
//! is hyper's.

use crate::call::{Failure, Kind};
use crate::jsonrpc;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// The limits connections are held to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections open at once.
    pub max_connections: usize,
    /// Time to send a request's headers.
    pub header_read_timeout: Duration,
    /// How long open connections get to finish once the gateway stops accepting.
    pub grace: Duration,
}

/// Serve `app` on `listener` until `shutdown` resolves, then drain.
pub async fn serve(
    app: Router,
    listener: TcpListener,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .half_close(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream, limits.max_connections));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            // The peer address names a stateless (2026-07-28) client for per-client limits.
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req.map(axum::body::Body::new))
        });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        let gauge = metrics::gauge!(crate::observe::CONNECTIONS);
        gauge.increment(1.0);
        tokio::spawn(async move {
            let _open = permit;
            let result = conn.await;
            gauge.decrement(1.0);
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "client connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(limits.grace) => {
            tracing::info!("connections still open after {:?} (gateway.drain_timeout); closing them", limits.grace);
        }
    }
    Ok(())
}

/// Answer a connection over the limit with 503 and a JSON-RPC error saying why, then close it.
async fn refuse(mut stream: TcpStream, max: usize) {
    let failure = Failure::new(
        Kind::ConnectionLimit,
        format!("the gateway already has {max} client connections open (gateway.max_connections); retry shortly"),
    );
    let body = jsonrpc::error_message(None, &failure.to_rpc());
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let write = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(&body).await?;
        stream.shutdown().await
    };
    metrics::counter!(crate::observe::CONNECTIONS_REFUSED).increment(1);
    if tokio::time::timeout(Duration::from_secs(1), write)
        .await
        .is_err()
    {
        tracing::debug!("a refused connection did not take its 503 within a second");
    }
    tracing::debug!(
        max,
        "refused a client connection: gateway.max_connections reached"
    );
}
