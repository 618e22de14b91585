//! Session records in the store: what another replica needs to serve a session it did not open
//! (who it belongs to, where it came in, what `initialize` settled), written with a TTL that use
//! refreshes, and the channel on which a session's end reaches every replica.

use super::Store;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One session as the store keeps it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    /// How its identity authenticated (`Via::name`).
    pub via: String,
    /// Its identity's subject.
    pub subject: String,
    /// The named endpoint it came in through (`None`: the aggregate).
    pub endpoint: Option<String>,
    /// The negotiated protocol version.
    pub version: String,
    /// `clientInfo`, as sent.
    pub client_info: Option<serde_json::Value>,
    /// The client's capabilities, as sent.
    pub capabilities: String,
    /// The replica that opened it.
    pub node: String,
}

/// The key of session `id`'s record.
fn session_key(store: &Store, id: &str) -> String {
    store.key(&format!("session:{id}"))
}

/// The channel a session's end is published on (its id as the message).
fn ended_channel(store: &Store) -> String {
    store.key("sessions:ended")
}

impl Store {
    /// Write `record` of session `id`, kept `ttl` unless used; `false` when the store did not
    /// take it (the session stays this replica's alone).
    pub async fn put_session(&self, id: &str, record: &Record, ttl: Duration) -> bool {
        let (Some(mut conn), Ok(text)) = (self.connection(), serde_json::to_string(record)) else {
            return false;
        };
        let ms = ttl.as_millis().max(1) as u64;
        let put = conn.pset_ex::<_, _, ()>(session_key(self, id), text, ms);
        self.within(put).await.is_some()
    }

    /// The record of session `id`, if the store has it (and answers in time).
    pub async fn session(&self, id: &str) -> Option<Record> {
        let mut conn = self.connection()?;
        let text = self
            .within(conn.get::<_, Option<String>>(session_key(self, id)))
            .await??;
        serde_json::from_str(&text).ok()
    }

    /// Keep session `id` another `ttl` (best effort).
    pub async fn touch_session(&self, id: &str, ttl: Duration) {
        let Some(mut conn) = self.connection() else {
            return;
        };
        let ms = ttl.as_millis().max(1) as i64;
        self.within(conn.pexpire::<_, ()>(session_key(self, id), ms))
            .await;
    }

    /// Session `id` ended: forget its record and tell every replica (best effort).
    pub async fn end_session(&self, id: &str) {
        let Some(mut conn) = self.connection() else {
            return;
        };
        let (key, channel) = (session_key(self, id), ended_channel(self));
        self.within(async {
            conn.del::<_, ()>(key).await?;
            conn.publish::<_, _, ()>(channel, id).await
        })
        .await;
    }

    /// Call `ended` with the id of every session another replica ends, for as long as the
    /// process runs (resubscribing after the store comes back).
    pub fn on_session_end(&'static self, ended: impl Fn(String) + Send + Sync + 'static) {
        tokio::spawn(async move {
            use futures::StreamExt;
            loop {
                if let Ok(mut sub) = self.client.get_async_pubsub().await {
                    if sub.subscribe(ended_channel(self)).await.is_ok() {
                        let mut messages = sub.on_message();
                        while let Some(m) = messages.next().await {
                            if let Ok(id) = m.get_payload::<String>() {
                                ended(id);
                            }
                        }
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
}
