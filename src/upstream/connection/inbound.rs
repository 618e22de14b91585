//! What an upstream sends unprompted (notifications, its own requests): to the call it belongs
//! to, to the gateway, or answered here (`ping`, and requests nobody can be asked).

use super::Connection;
use crate::call::{Caller, Failure, Kind};
use crate::jsonrpc::{self, Kind as Message};
use crate::upstream::events::{Event, Events};
use crate::upstream::lists::ListKind;
use crate::upstream::peer::{Inbound, Stream};
use bytes::Bytes;
use serde_json::value::RawValue;
use std::sync::{Arc, Weak};

impl Connection {
    /// The caller a message belongs to: the request whose stream carried it, the owner of its
    /// progress token, or else the only call in flight. That last guess is made for a request
    /// (the server asks during a call, on whatever stream: the reference server sends them on
    /// the standalone stream) and, on a transport that says nothing about streams (stdio), for a
    /// log line; a log line on an HTTP standalone stream is, by the transport's own rule, no
    /// call's.
    fn claim(
        &self,
        method: &str,
        params: Option<&RawValue>,
        on: Stream,
        is_request: bool,
    ) -> Option<Arc<dyn Caller>> {
        if let Stream::Request(id) = on {
            if let Some(c) = self.callers.get(&id).map(|c| c.clone()) {
                return Some(c);
            }
        }
        if method == "notifications/progress" {
            let token = jsonrpc::str_member(params, "progressToken")?;
            let id: u64 = token.strip_prefix("sb-")?.parse().ok()?;
            return self.callers.get(&id).map(|c| c.clone());
        }
        let guess = is_request || (method == "notifications/message" && on == Stream::Unknown);
        if guess && self.callers.len() == 1 {
            return self.callers.iter().next().map(|e| e.value().clone());
        }
        None
    }

    /// The upstream asked something: ask `caller`'s client and carry the answer back under the
    /// upstream's own id; without a caller, refuse, saying why.
    fn answer_request(
        self: Arc<Self>,
        caller: Option<Arc<dyn Caller>>,
        id: String,
        method: String,
        params: Option<String>,
    ) {
        tokio::spawn(async move {
            let answer = match caller {
                Some(c) => c.ask(method.clone(), params).await,
                None => Err(Failure::new(Kind::ClientUnreachable, format!(
                    "{method:?} outside a client's request: a shared gateway connection cannot tell which client to ask (use isolation = \"per-session\")"
                )).to_rpc()),
            };
            let reply = match answer {
                Ok(result) => jsonrpc::response_result(&id, &result),
                Err(e) => {
                    tracing::info!(server = %self.server, method, error = %e.message, "a server-to-client request was refused");
                    jsonrpc::error_message(Some(&id), &e)
                }
            };
            if let Err(e) = self.send(reply, None).await {
                tracing::warn!(server = %self.server, error = %e, "cannot return the client's answer upstream");
            }
        });
    }
}

/// Route one message the upstream sent unprompted. Runs on the transport's reader, before any
/// later message is read, so a progress notification or log line always reaches its caller
/// before the response that ends the call (which releases the caller).
pub(super) fn route_inbound(
    conn: &Weak<Connection>,
    events: &Events,
    Inbound { buf, on }: Inbound,
) {
    let Some(conn) = conn.upgrade() else { return };
    let Ok(msg) = jsonrpc::parse(&buf) else {
        return;
    };
    let (method, params, request_id) = match msg.kind() {
        Ok(Message::Request {
            id, method: "ping", ..
        }) => {
            let pong = jsonrpc::response_result(id.get(), "{}");
            tokio::spawn(async move {
                let _ = conn.send(pong, None).await;
            });
            return;
        }
        Ok(Message::Request { id, method, params }) => (method, params, Some(id)),
        Ok(Message::Notification { method, params }) => (method, params, None),
        _ => return,
    };
    if let Some(id) = request_id {
        let caller = conn
            .claim(method, params, on, true)
            .or_else(|| conn.owner.clone());
        let (id, method) = (id.get().to_string(), method.to_string());
        let params = params.map(|p| p.get().to_string());
        return conn.answer_request(caller, id, method, params);
    }
    notification(&conn, events, method, params, on, &buf);
}

/// Route a notification: list changes and resource updates to the gateway (or a per-session
/// connection's own session), the rest to the call it belongs to.
fn notification(
    conn: &Arc<Connection>,
    events: &Events,
    method: &str,
    params: Option<&RawValue>,
    on: Stream,
    buf: &Bytes,
) {
    let about_lists = ListKind::from_notification(method).is_some()
        || method == "notifications/resources/updated";
    if let (true, Some(owner)) = (about_lists, &conn.owner) {
        // A per-session connection's changes concern its own session only.
        owner.relay(&conn.server, buf.clone());
        return;
    }
    let raw_params = || Bytes::copy_from_slice(params.map_or("{}", RawValue::get).as_bytes());
    if let Some(kinds) = ListKind::from_notification(method) {
        events.send(Event::ListChanged(conn.server.clone(), kinds));
        return;
    }
    if method == "notifications/resources/updated" {
        events.send(Event::ResourceUpdated(conn.server.clone(), raw_params()));
        return;
    }
    match conn
        .claim(method, params, on, false)
        .or_else(|| conn.owner.clone())
    {
        Some(caller) => caller.relay(&conn.server, buf.clone()),
        None if method == "notifications/message" => {
            events.send(Event::Log(conn.server.clone(), raw_params()));
        }
        None => {
            tracing::debug!(server = %conn.server, method, "upstream notification not relayed");
        }
    }
}
