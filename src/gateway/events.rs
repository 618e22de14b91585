//! What upstreams say outside any one call (changed lists, updated resources, a shared server's
//! own log lines), acted on here and told to clients as [`Notice`]s.

use super::relay::tag_log;
use super::{Client, Gateway};
use crate::jsonrpc;
use crate::upstream::{Event, ListKind};
use bytes::Bytes;
use std::sync::Weak;

/// Something clients are told outside their requests.
#[derive(Debug, Clone)]
pub enum Notice {
    /// A merged list changed: every client is told.
    ListChanged(ListKind),
    /// A resource changed upstream: the clients subscribed to it are told.
    ResourceUpdated {
        /// Its exposed URI.
        exposed: String,
        /// The upstream's own URI (a `prefix = false` server's clients subscribe to that).
        original: String,
        /// The notification, with the exposed URI.
        message: Bytes,
    },
    /// A shared server's log line nobody's call claims: clients that set a log level get it.
    Log(Bytes),
}

impl Notice {
    /// Whether `client` should get it.
    pub fn concerns(&self, client: &Client) -> bool {
        match self {
            Notice::ListChanged(_) => true,
            Notice::ResourceUpdated {
                exposed, original, ..
            } => {
                let subs = client.subscriptions.lock();
                subs.contains(exposed) || subs.contains(original)
            }
            Notice::Log(_) => client.log_level.lock().is_some(),
        }
    }

    /// The message the client gets.
    pub fn message(&self) -> Bytes {
        match self {
            Notice::ListChanged(kind) => jsonrpc::notification(changed(*kind), None),
            Notice::ResourceUpdated { message, .. } | Notice::Log(message) => message.clone(),
        }
    }
}

/// The notification that says a merged list of `kind` changed.
fn changed(kind: ListKind) -> &'static str {
    match kind {
        ListKind::Tools => "notifications/tools/list_changed",
        ListKind::Prompts => "notifications/prompts/list_changed",
        ListKind::Resources | ListKind::Templates => "notifications/resources/list_changed",
    }
}

/// Act on upstream events for as long as the gateway lives.
pub async fn watch(gw: Weak<Gateway>, mut events: crate::upstream::events::Receiver) {
    while let Some(ev) = events.recv().await {
        let Some(gw) = gw.upgrade() else { return };
        match ev {
            Event::ListChanged(server, kinds) => gw.list_changed(&server, kinds).await,
            Event::ResourceUpdated(server, params) => gw.resource_updated(&server, &params),
            Event::Log(server, params) => {
                let params = std::str::from_utf8(&params)
                    .ok()
                    .and_then(|p| serde_json::value::RawValue::from_string(p.into()).ok());
                gw.tell(Notice::Log(tag_log(&server, params.as_deref())));
            }
        }
    }
}

impl Gateway {
    async fn list_changed(&self, server: &str, kinds: &[ListKind]) {
        let Some(up) = self.pool().by_name(server).cloned() else {
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
        let mut told: Vec<&str> = Vec::new();
        for &kind in kinds {
            if !told.contains(&changed(kind)) {
                told.push(changed(kind));
                self.tell(Notice::ListChanged(kind));
            }
        }
        tracing::info!(server = %server, ?kinds, "list changed; catalog rebuilt and clients told");
    }

    fn resource_updated(&self, server: &str, params: &Bytes) {
        let view = self.view(None).expect("the aggregate's view always exists");
        let Some(up) = view.pool.by_name(server) else {
            return;
        };
        let Ok(text) = std::str::from_utf8(params) else {
            return;
        };
        let Some(uri) = jsonrpc::string_member(Some(text), "uri") else {
            return;
        };
        let exposed = view.catalog.resources.expose(up.index, &uri);
        let uri_json = serde_json::to_string(&exposed).expect("a string serializes");
        let message = jsonrpc::notification(
            "notifications/resources/updated",
            Some(&jsonrpc::set_members(Some(text), &[("uri", &uri_json)])),
        );
        self.tell(Notice::ResourceUpdated {
            exposed,
            original: uri,
            message,
        });
    }
}
