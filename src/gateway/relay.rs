//! What an upstream sends in the context of a forwarded request (progress, log messages,
//! server-to-client requests), relayed to that request's client only.

use super::{Client, Related};
use crate::call::{Activity, Caller, Failure, Kind};
use crate::jsonrpc::{self, Kind as Message, RpcError};
use bytes::Bytes;
use futures::future::BoxFuture;
use serde_json::value::RawValue;
use std::sync::Arc;
use std::time::Duration;

/// The downstream side of one forwarded request (or, without a request, of a per-session
/// connection).
pub struct CallContext {
    /// The client the request came from.
    pub client: Arc<Client>,
    /// Messages tied to the request go here (the POST's event stream); `None`: the client's stream.
    pub related: Option<Related>,
    /// The client's own progress token, restored on the way back.
    pub progress: Option<Box<RawValue>>,
    /// Signs of life of the request (they extend its deadline).
    pub activity: Option<Arc<Activity>>,
    /// How long the client gets to answer a server-to-client request
    /// (`gateway.client_answer_timeout`).
    pub answer_within: Duration,
}

impl CallContext {
    /// The context of a per-session connection: everything goes to the client's own stream.
    pub fn of_client(client: Arc<Client>, answer_within: Duration) -> Self {
        CallContext {
            client,
            related: None,
            progress: None,
            activity: None,
            answer_within,
        }
    }

    fn touch(&self) {
        if let Some(a) = &self.activity {
            a.touch();
        }
    }

    /// A notification for the client: dropped (and counted) when its queue is full, since the
    /// client is not reading it.
    fn notify(&self, msg: Bytes) {
        let sent = match &self.related {
            Some(tx) => match tx.try_send(msg) {
                Ok(()) => true,
                Err(tokio::sync::mpsc::error::TrySendError::Full(_)) => false,
                Err(tokio::sync::mpsc::error::TrySendError::Closed(msg)) => self.client.push(msg),
            },
            None => self.client.push(msg),
        };
        if !sent {
            metrics::counter!(crate::observe::DROPPED).increment(1);
        }
    }

    /// A request for the client: waits for room on its queue; `false` when nobody can receive it.
    async fn deliver(&self, msg: Bytes) -> bool {
        if let Some(tx) = &self.related {
            match tx.send(msg).await {
                Ok(()) => return true,
                Err(tokio::sync::mpsc::error::SendError(msg)) => {
                    return self.client.deliver(msg).await
                }
            }
        }
        self.client.deliver(msg).await
    }

    /// Ask the client `method` with an id of ours and wait for its answer: the raw `result`, or
    /// the raw `error` object it sent. `Err`: it could not be asked, or did not answer in time.
    async fn ask_client(
        &self,
        method: &str,
        params: Option<&str>,
    ) -> Result<Result<String, String>, Failure> {
        let accepts = self
            .client
            .negotiated()
            .map(|n| n.accepts)
            .unwrap_or_default();
        if !accepts.allows(method) {
            return Err(Failure::new(
                Kind::MethodNotFound,
                format!("the gateway's client did not declare the capability {method:?} needs, so it was not asked"),
            ));
        }
        let (down_id, rx) = self.client.expect_answer();
        let asked = jsonrpc::request_with_id(&down_id, method, params);
        let delivered = tokio::time::timeout(self.answer_within, self.deliver(asked)).await;
        if !matches!(delivered, Ok(true)) {
            self.client.forget_answer(&down_id);
            return Err(Failure::new(
                Kind::ClientUnreachable,
                format!("the gateway's client has no open stream to receive {method:?}"),
            ));
        }
        let Ok(Ok(buf)) = tokio::time::timeout(self.answer_within, rx).await else {
            self.client.forget_answer(&down_id);
            return Err(Failure::new(
                Kind::ClientUnreachable,
                format!(
                    "the gateway's client did not answer {method:?} within {:?} (gateway.client_answer_timeout)",
                    self.answer_within
                ),
            ));
        };
        self.touch();
        let answer = jsonrpc::parse(&buf).ok().and_then(|m| match m.kind() {
            Ok(Message::Response {
                outcome: jsonrpc::Outcome::Result(r),
                ..
            }) => Some(Ok(r.get().to_string())),
            Ok(Message::Response {
                outcome: jsonrpc::Outcome::Error(e),
                ..
            }) => Some(Err(e.get().to_string())),
            _ => None,
        });
        answer.ok_or_else(|| {
            Failure::new(
                Kind::ClientUnreachable,
                "the client's answer was not a response",
            )
        })
    }
}

impl Caller for CallContext {
    fn wants_progress(&self) -> bool {
        self.progress.is_some()
    }

    fn identity(&self) -> Option<Arc<crate::call::Identity>> {
        Some(self.client.identity.clone())
    }

    fn ask(
        self: Arc<Self>,
        method: String,
        params: Option<String>,
    ) -> BoxFuture<'static, Result<String, RpcError>> {
        Box::pin(async move {
            self.touch(); // the upstream waits for the client: not a hung request
            match self.ask_client(&method, params.as_deref()).await {
                Ok(Ok(result)) => Ok(result),
                Ok(Err(error)) => Err(RpcError::from_raw(&error)),
                Err(f) => Err(f.to_rpc()),
            }
        })
    }

    fn relay(&self, server: &str, buf: Bytes) {
        let Ok(msg) = jsonrpc::parse(&buf) else {
            return;
        };
        let Ok(Message::Notification { method, params }) = msg.kind() else {
            return;
        };
        match method {
            "notifications/progress" => {
                let Some(token) = &self.progress else { return };
                self.touch();
                let p = jsonrpc::set_members(
                    params.map(RawValue::get),
                    &[("progressToken", token.get())],
                );
                self.notify(jsonrpc::notification("notifications/progress", Some(&p)));
            }
            "notifications/message" => {
                self.notify(tag_log(server, params));
            }
            m if m.ends_with("/list_changed") || m == "notifications/resources/updated" => {
                self.notify(buf.clone());
            }
            _ => {
                tracing::debug!(
                    server,
                    method,
                    "dropping an upstream notification the gateway does not relay"
                );
            }
        }
    }
}

/// A `notifications/message` with the server's name in `logger`.
pub fn tag_log(server: &str, params: Option<&RawValue>) -> Bytes {
    let logger = jsonrpc::str_member(params, "logger")
        .map_or_else(|| server.to_string(), |l| format!("{server}/{l}"));
    let logger = serde_json::to_string(&logger).expect("a string serializes");
    let p = jsonrpc::set_members(params.map(RawValue::get), &[("logger", &logger)]);
    jsonrpc::notification("notifications/message", Some(&p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_client_that_does_not_read_loses_progress_not_memory() {
        const QUEUE: usize = 16;
        let (tx, mut rx) = super::super::related(QUEUE);
        let ctx = CallContext {
            client: Arc::new(Client::new()),
            related: Some(tx),
            progress: Some(RawValue::from_string("7".into()).unwrap()),
            activity: None,
            answer_within: Duration::from_secs(1),
        };
        let progress = |i: u32| {
            jsonrpc::notification(
                "notifications/progress",
                Some(&format!(r#"{{"progressToken":"sb-1","progress":{i}}}"#)),
            )
        };
        for i in 0..10_000 {
            ctx.relay("up", progress(i));
        }
        let mut queued = 0;
        while let Ok(m) = rx.try_recv() {
            let text = std::str::from_utf8(&m).unwrap();
            assert!(
                text.contains(r#""progressToken":7"#),
                "the client's own token: {text}"
            );
            queued += 1;
        }
        assert_eq!(queued, QUEUE, "bounded, the first ones kept");
    }
}
