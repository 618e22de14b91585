//! What upstreams say outside any one call: changed lists, updated resources, a shared server's
//! own log lines and requests.

use super::forward::tag_log;
use super::Gateway;
use crate::jsonrpc::{self, code, Kind, RpcError};
use crate::upstream::{Event, ListKind};
use bytes::Bytes;
use std::sync::Weak;
use tokio::sync::mpsc;

/// Act on upstream events for as long as the gateway lives.
pub async fn watch(gw: Weak<Gateway>, mut events: mpsc::UnboundedReceiver<Event>) {
    while let Some(ev) = events.recv().await {
        let Some(gw) = gw.upgrade() else { return };
        match ev {
            Event::ListChanged(server, kinds) => gw.list_changed(&server, kinds).await,
            Event::ResourceUpdated(server, params) => gw.resource_updated(&server, &params),
            Event::Unclaimed(conn, buf) => {
                let Ok(msg) = jsonrpc::parse(&buf) else {
                    continue;
                };
                match msg.kind() {
                    Ok(Kind::Notification {
                        method: "notifications/message",
                        params,
                    }) => {
                        // A shared server's log is nobody's in particular: it goes to the sessions
                        // that asked for logs.
                        let note = tag_log(conn.server(), params);
                        for s in gw
                            .sessions
                            .all()
                            .iter()
                            .filter(|s| s.log_level.lock().is_some())
                        {
                            s.push(note.clone());
                        }
                    }
                    Ok(Kind::Request { id, method, .. }) => {
                        let err = RpcError::new(
                            code::METHOD_NOT_FOUND,
                            format!("{method:?} outside a client's request: a shared gateway connection cannot tell which client to ask (use isolation = \"per-session\")"),
                        );
                        let _ = conn
                            .send_message(jsonrpc::error_message(Some(id.get()), &err))
                            .await;
                    }
                    Ok(Kind::Notification { method, .. }) => {
                        tracing::debug!(server = %conn.server(), method, "upstream notification not relayed");
                    }
                    _ => {}
                }
            }
        }
    }
}

impl Gateway {
    async fn list_changed(&self, server: &str, kinds: &[ListKind]) {
        let Some(up) = self.pool.by_name(server) else {
            return;
        };
        if up.connection().is_err() {
            return; // closed meanwhile (shutting down, or it died): nothing to refresh
        }
        if let Err(e) = up.refresh(kinds).await {
            tracing::warn!(server = %server, error = %e, "cannot re-fetch a changed list");
            return;
        }
        self.rebuild_catalog();
        let mut methods: Vec<&str> = kinds
            .iter()
            .map(|k| match k {
                ListKind::Tools => "notifications/tools/list_changed",
                ListKind::Prompts => "notifications/prompts/list_changed",
                ListKind::Resources | ListKind::Templates => "notifications/resources/list_changed",
            })
            .collect();
        methods.dedup();
        for s in self.sessions.all() {
            for m in &methods {
                s.push(jsonrpc::notification(m, None));
            }
        }
        tracing::info!(server = %server, ?kinds, "list changed; catalog rebuilt and sessions told");
    }

    fn resource_updated(&self, server: &str, params: &Bytes) {
        let Some(up) = self.pool.by_name(server) else {
            return;
        };
        let Ok(text) = std::str::from_utf8(params) else {
            return;
        };
        let Some(uri) = jsonrpc::string_member(Some(text), "uri") else {
            return;
        };
        let exposed = self.catalog().resources.expose(up.index, &uri);
        let uri_json = serde_json::to_string(&exposed).expect("a string serializes");
        let note = jsonrpc::notification(
            "notifications/resources/updated",
            Some(&jsonrpc::set_members(Some(text), &[("uri", &uri_json)])),
        );
        for s in self.sessions.all() {
            let subscribed = {
                let subs = s.subscriptions.lock();
                subs.contains(&exposed) || subs.contains(&uri)
            };
            if subscribed {
                s.push(note.clone());
            }
        }
    }
}
