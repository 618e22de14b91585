//! One request/answer exchange with the upstream: ids, progress tokens, the 2026-07-28 envelope
//! and mirrored headers, the deadline and the client's cancellation.

use super::Connection;
use crate::call::{Caller, Deadline, Failure, Reply};
use crate::jsonrpc;
use crate::upstream::http::Mirror;
use dashmap::DashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

impl Connection {
    /// One exchange, no re-initialization (the handshake itself uses this).
    pub(in crate::upstream) async fn request_once(
        &self,
        method: &str,
        params: Option<&str>,
        deadline: &Deadline,
        caller: Option<Arc<dyn Caller>>,
        cancel: Option<&CancellationToken>,
    ) -> Result<Reply, Failure> {
        self.request_once_with(method, params, deadline, caller, cancel, &[])
            .await
    }

    /// One exchange; a 2026-07-28 HTTP request also carries `param_headers` (`Mcp-Param-*`).
    pub(super) async fn request_once_with(
        &self,
        method: &str,
        params: Option<&str>,
        deadline: &Deadline,
        caller: Option<Arc<dyn Caller>>,
        cancel: Option<&CancellationToken>,
        param_headers: &[(String, String)],
    ) -> Result<Reply, Failure> {
        let (id, rx) = self.peer.register()?;
        let (rewritten, enveloped);
        let mut params = params;
        let identity = caller.as_ref().and_then(|c| c.identity());
        if let Some(c) = caller {
            if c.wants_progress() {
                rewritten = jsonrpc::with_progress_token(params, &format!("\"sb-{id}\""));
                params = Some(&rewritten);
            }
            self.callers.insert(id, c);
        }
        let stateless = method == "server/discover" || self.init.load().stateless;
        if stateless {
            enveloped = self.envelope(params);
            params = Some(&enveloped);
        }
        let mirror = stateless.then(|| Mirror {
            method,
            params: param_headers,
            name: match method {
                "tools/call" | "prompts/get" => jsonrpc::string_member(params, "name"),
                "resources/read" => jsonrpc::string_member(params, "uri"),
                _ => None,
            },
        });
        let _release = Release {
            callers: &self.callers,
            id,
        };
        let msg = jsonrpc::request(id, method, params);
        let exchange = async {
            self.send_mirrored(msg, Some(id), mirror.as_ref(), identity.as_deref())
                .await?;
            rx.await.map_err(|_| Failure::closed())?
        };
        let cancelled = async {
            match cancel {
                Some(token) => token.cancelled().await,
                None => std::future::pending().await,
            }
        };
        let (err, reason) = tokio::select! {
            r = exchange => match r {
                Ok(reply) => return Ok(reply),
                Err(e) => {
                    self.peer.forget(id);
                    return Err(e);
                }
            },
            _ = deadline.expired() => (
                Failure::timeout(deadline.timeout()),
                format!("timed out in the gateway after {:?}", deadline.timeout()),
            ),
            _ = cancelled => (Failure::cancelled(), "cancelled by the client".to_string()),
        };
        self.peer.forget(id);
        let params = serde_json::json!({ "requestId": id, "reason": reason }).to_string();
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            self.notify("notifications/cancelled", Some(&params)),
        )
        .await;
        Err(err)
    }
}

/// Forgets a caller when its request ends, however it ends.
struct Release<'a> {
    callers: &'a DashMap<u64, Arc<dyn Caller>>,
    id: u64,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.callers.remove(&self.id);
    }
}
