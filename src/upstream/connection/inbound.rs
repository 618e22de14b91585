//! What an upstream sends unprompted (notifications, its own requests): to the call it belongs
//! to, to the gateway, or answered here (`ping`).

use super::{Caller, Connection, Event};
use crate::jsonrpc::{self, Kind};
use crate::upstream::lists::ListKind;
use crate::upstream::peer::Inbound;
use bytes::Bytes;
use serde_json::value::RawValue;
use std::sync::{Arc, Weak};
use tokio::sync::mpsc;

impl Connection {
    /// The caller a message belongs to: the request whose stream carried it, the owner of its
    /// progress token, or the only call in flight (stdio says nothing more).
    fn claim(
        &self,
        method: &str,
        params: Option<&RawValue>,
        related: Option<u64>,
        is_request: bool,
    ) -> Option<Arc<dyn Caller>> {
        if let Some(c) = related.and_then(|id| self.callers.get(&id).map(|c| c.clone())) {
            return Some(c);
        }
        if method == "notifications/progress" {
            let token = jsonrpc::str_member(params, "progressToken")?;
            let id: u64 = token.strip_prefix("sb-")?.parse().ok()?;
            return self.callers.get(&id).map(|c| c.clone());
        }
        if (is_request || method == "notifications/message") && self.callers.len() == 1 {
            return self.callers.iter().next().map(|e| e.value().clone());
        }
        None
    }
}

/// Route one message the upstream sent unprompted. Runs on the transport's reader, before any
/// later message is read, so a progress notification or log line always reaches its caller
/// before the response that ends the call (which releases the caller).
pub(super) fn route_inbound(
    conn: &Weak<Connection>,
    events: &mpsc::UnboundedSender<Event>,
    Inbound { buf, related }: Inbound,
) {
    let Some(conn) = conn.upgrade() else { return };
    let Ok(msg) = jsonrpc::parse(&buf) else {
        return;
    };
    let (method, params, is_request) = match msg.kind() {
        Ok(Kind::Request {
            id, method: "ping", ..
        }) => {
            let pong = jsonrpc::response_result(id.get(), "{}");
            tokio::spawn(async move {
                let _ = conn.send(pong, None).await;
            });
            return;
        }
        Ok(Kind::Request { method, params, .. }) => (method, params, true),
        Ok(Kind::Notification { method, params }) => (method, params, false),
        _ => return,
    };
    let about_lists = ListKind::from_notification(method).is_some()
        || method == "notifications/resources/updated";
    if let (true, Some(owner)) = (about_lists, &conn.owner) {
        // A per-session connection's changes concern its own session only.
        owner.relay(&conn, buf.clone());
        return;
    }
    if let Some(kinds) = ListKind::from_notification(method) {
        let _ = events.send(Event::ListChanged(conn.server.clone(), kinds));
        return;
    }
    if method == "notifications/resources/updated" {
        let raw = Bytes::copy_from_slice(params.map_or("{}", RawValue::get).as_bytes());
        let _ = events.send(Event::ResourceUpdated(conn.server.clone(), raw));
        return;
    }
    match conn
        .claim(method, params, related, is_request)
        .or_else(|| conn.owner.clone())
    {
        Some(caller) => caller.relay(&conn, buf.clone()),
        None => {
            let _ = events.send(Event::Unclaimed(conn.clone(), buf.clone()));
        }
    }
}
