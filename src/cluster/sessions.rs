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
    /// The replica that owns it (opened it, or took it over from one that went away): what
    /// cannot move (per-session upstreams, calls in flight, its stream) lives there.
    pub node: String,
    /// Where other replicas forward its requests to (`None`: nowhere; each serves it alone).
    #[serde(default)]
    pub advertise: Option<String>,
}

/// Replace a session's record only if the replica it names is still the one expected: two
/// replicas that find the same owner gone do not both take the session over.
/// KEYS[1]: the record; ARGV: the owner expected, the new record, its TTL (ms).
const TAKE_OVER: &str = r#"
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
if cjson.decode(cur).node ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"#;

/// The key of session `id`'s record.
fn session_key(store: &Store, id: &str) -> String {
    store.key(&format!("session:{id}"))
}

/// The key naming the replica a parked 2026-07-28 call (`requestState` token) waits on.
fn parked_key(store: &Store, token: &str) -> String {
    store.key(&format!("parked:{token}"))
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

    /// Make `record` (naming this replica) session `id`'s, if `from` still owns it: `Some(true)`
    /// when taken over, `Some(false)` when another replica already did (or the record is gone),
    /// `None` when the store did not answer.
    pub async fn take_over(
        &self,
        id: &str,
        from: &str,
        record: &Record,
        ttl: Duration,
    ) -> Option<bool> {
        let mut conn = self.connection()?;
        let text = serde_json::to_string(record).ok()?;
        let script = redis::Script::new(TAKE_OVER);
        let mut call = script.key(session_key(self, id));
        call.arg(from).arg(text).arg(ttl.as_millis().max(1) as u64);
        let taken: i64 = self.within(call.invoke_async(&mut conn)).await?;
        Some(taken == 1)
    }

    /// Say that the call `token` names waits on this replica, for `ttl` (when this replica
    /// can be forwarded to); `false` when the store did not take it.
    pub async fn put_parked(&self, token: &str, ttl: Duration) -> bool {
        let (Some(url), Some(mut conn)) = (self.advertised(), self.connection()) else {
            return false;
        };
        let ms = ttl.as_millis().max(1) as u64;
        let put = conn.pset_ex::<_, _, ()>(parked_key(self, token), url, ms);
        self.within(put).await.is_some()
    }

    /// Where the call `token` names waits, if another replica parked it and says so.
    pub async fn parked_at(&self, token: &str) -> Option<String> {
        let mut conn = self.connection()?;
        let url = self
            .within(conn.get::<_, Option<String>>(parked_key(self, token)))
            .await??;
        (Some(url.as_str()) != self.advertised()).then_some(url)
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
    /// process runs.
    pub fn on_session_end(&'static self, ended: impl Fn(String) + Send + Sync + 'static) {
        self.subscribe(ended_channel(self), ended);
    }
}
