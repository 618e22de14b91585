//! Sessions in a cluster: each session's record in the store (what another replica needs to
//! serve it, and which replica owns it), kept alive while used, and where a request that names
//! a session this replica does not hold is served: forwarded to the owner while it lives, taken
//! over when it is gone (a fresh start for what only the owner held: the client is told).

use super::{unknown_session, Sessions};
use crate::call::{Failure, Identity};
use crate::cluster::{Record, Store};
use crate::gateway::{Client, Negotiated};
use std::sync::Arc;
use tokio::time::Instant;

/// Where a request naming a session is served.
pub enum Found {
    /// Here, by this client.
    Here(Arc<Client>),
    /// By the replica that owns the session: the request is forwarded there.
    Owner(Owner),
}

/// The replica that owns a session another one met.
#[derive(Debug, Clone)]
pub struct Owner {
    /// Its `cluster.node_id`.
    pub node: String,
    /// Where it is reached.
    pub url: String,
}

impl Sessions {
    /// In a cluster, keep a shared session's record alive while it is used (at most every
    /// quarter of `gateway.session_idle_timeout`, off the request path).
    pub(super) fn refresh(
        &self,
        store: &'static Arc<Store>,
        id: &str,
        at: &parking_lot::Mutex<Instant>,
    ) {
        let ttl = self.idle();
        let mut at = at.lock();
        if at.elapsed() < ttl / 4 {
            return;
        }
        *at = Instant::now();
        let id = id.to_string();
        tokio::spawn(async move { store.touch_session(&id, ttl).await });
    }

    /// In a cluster, write a new session's record (this replica its owner) so that any
    /// replica can serve it; a session the store did not take stays this replica's (logged).
    pub async fn share(&self, client: &Client) {
        let Some(store) = crate::cluster::store() else {
            return;
        };
        let Some(record) = record_of(store, client) else {
            return;
        };
        if !store.put_session(&client.id, &record, self.idle()).await {
            tracing::warn!(session = %client.id, "the cluster store is unreachable: this session is served by this replica only");
            return;
        }
        self.mark_shared(&client.id);
    }

    fn mark_shared(&self, id: &str) {
        if let Some(mut s) = self.map.get_mut(id) {
            s.shared = Some(parking_lot::Mutex::new(Instant::now()));
        }
    }

    /// Where the session `id` is served: here if this replica holds it; else, in a cluster,
    /// by its owner (under the same checks, identity and endpoint, as on its own replica).
    /// Served here after all when the owner cannot be forwarded to (no address), when the
    /// record names this replica (restarted since), or when the request was `forwarded` here.
    pub async fn find_anywhere(
        &self,
        id: &str,
        caller: &Arc<Identity>,
        endpoint: Option<&Arc<str>>,
        forwarded: bool,
    ) -> Result<Found, Failure> {
        if self.map.contains_key(id) {
            return self.find(id, caller).map(Found::Here);
        }
        let Some(store) = crate::cluster::store() else {
            return Err(unknown_session(id));
        };
        let record = checked_record(store, id, caller, endpoint).await?;
        let me = &store.settings().node_id;
        if let (Some(url), false, false) = (&record.advertise, &record.node == me, forwarded) {
            return Ok(Found::Owner(Owner {
                node: record.node,
                url: url.clone(),
            }));
        }
        let _one = self.adopting.lock().await;
        if self.map.contains_key(id) {
            return self.find(id, caller).map(Found::Here);
        }
        let lost = (&record.node == me).then(|| record.node.clone());
        self.adopt(id, record, caller, endpoint, lost.as_deref())
            .await
            .map(Found::Here)
    }

    /// The owner `gone` of session `id` cannot be reached: take the session over (its record
    /// then names this replica), unless another replica did first (then that one is the owner).
    pub async fn take_over(
        &self,
        id: &str,
        caller: &Arc<Identity>,
        endpoint: Option<&Arc<str>>,
        gone: &Owner,
    ) -> Result<Found, Failure> {
        let Some(store) = crate::cluster::store() else {
            return Err(unknown_session(id));
        };
        let _one = self.adopting.lock().await;
        if self.map.contains_key(id) {
            return self.find(id, caller).map(Found::Here);
        }
        // Twice at most: a take-over another replica won in between shows in the record.
        for _ in 0..2 {
            let record = checked_record(store, id, caller, endpoint).await?;
            if record.node != gone.node {
                return self.served_by(store, id, record, caller, endpoint).await;
            }
            let mut mine = record.clone();
            mine.node = store.settings().node_id.clone();
            mine.advertise = store.advertised().map(str::to_string);
            if store.take_over(id, &gone.node, &mine, self.idle()).await == Some(false) {
                continue;
            }
            // Taken over, or the store did not answer (then served here alone meanwhile).
            tracing::warn!(session = id, from = %gone.node, "took over a session whose replica is gone");
            let client = self
                .adopt(id, mine, caller, endpoint, Some(&gone.node))
                .await?;
            return Ok(Found::Here(client));
        }
        Err(unknown_session(id))
    }

    /// Where session `id` is served now that `record` names another owner than the one gone.
    async fn served_by(
        &self,
        store: &Store,
        id: &str,
        record: Record,
        caller: &Arc<Identity>,
        endpoint: Option<&Arc<str>>,
    ) -> Result<Found, Failure> {
        match (&record.advertise, record.node == store.settings().node_id) {
            (Some(url), false) => Ok(Found::Owner(Owner {
                node: record.node.clone(),
                url: url.clone(),
            })),
            _ => self
                .adopt(id, record, caller, endpoint, None)
                .await
                .map(Found::Here),
        }
    }

    /// Serve session `id` here from its `record`. `lost`: the replica whose per-session state
    /// (private upstreams, subscriptions, stream) did not come along; the client is told.
    async fn adopt(
        &self,
        id: &str,
        record: Record,
        caller: &Arc<Identity>,
        endpoint: Option<&Arc<str>>,
        lost: Option<&str>,
    ) -> Result<Arc<Client>, Failure> {
        let client = Arc::new(
            Client::for_caller(caller.clone(), "http")
                .at(endpoint.cloned())
                .adopted(Arc::from(id)),
        );
        let accepts = serde_json::from_str(&record.capabilities).unwrap_or_default();
        client.negotiate(Negotiated {
            version: crate::protocol::negotiate(Some(&record.version)),
            client_info: record
                .client_info
                .and_then(|c| serde_json::value::to_raw_value(&c).ok()),
            capabilities: record.capabilities,
            accepts,
        });
        client.mark_initialized();
        if let (Some(from), Some(store)) = (lost, crate::cluster::store()) {
            client.hold(rehomed(&store.settings().node_id, from));
        }
        self.insert(client.clone()).await?;
        self.mark_shared(id);
        tracing::info!(session = id, opened_on = %record.node, "serving a session another replica opened");
        Ok(client)
    }

    /// End a session everywhere (DELETE): here, then its record and every replica's copy.
    pub async fn end_everywhere(&self, id: &str) {
        let shared = self.map.get(id).is_some_and(|s| s.shared.is_some());
        self.end(id).await;
        if let (true, Some(store)) = (shared, crate::cluster::store()) {
            store.end_session(id).await;
        }
    }
}

/// The record of `client`'s session, naming this replica its owner (`None` before `initialize`).
fn record_of(store: &Store, client: &Client) -> Option<Record> {
    let n = client.negotiated()?;
    Some(Record {
        via: client.identity.via.name().to_string(),
        subject: client.identity.subject.to_string(),
        endpoint: client.endpoint.as_deref().map(str::to_string),
        version: n.version.to_string(),
        client_info: n
            .client_info
            .as_deref()
            .and_then(|c| serde_json::from_str(c.get()).ok()),
        capabilities: n.capabilities.clone(),
        node: store.settings().node_id.clone(),
        advertise: store.advertised().map(str::to_string),
    })
}

/// Session `id`'s record, if it is `caller`'s at `endpoint` (else unknown, as on its replica).
async fn checked_record(
    store: &Store,
    id: &str,
    caller: &Identity,
    endpoint: Option<&Arc<str>>,
) -> Result<Record, Failure> {
    let Some(record) = store.session(id).await else {
        return Err(unknown_session(id));
    };
    if record.via != caller.via.name() || record.subject != *caller.subject {
        tracing::warn!(session = id, owner = %record.subject, caller = %caller.subject, "a shared session was named by another identity than its own; refused");
        return Err(unknown_session(id));
    }
    if record.endpoint.as_deref() != endpoint.map(|e| &**e) {
        return Err(unknown_session(id));
    }
    Ok(record)
}

/// The log notification a client gets when replica `me` took its session over from `from`.
fn rehomed(me: &str, from: &str) -> bytes::Bytes {
    let params = serde_json::json!({
        "level": "warning",
        "logger": "switchboard",
        "data": format!(
            "this session moved: gateway replica {me} took it over, and what replica {from} held \
             for it is lost (that replica went away): per-session servers start afresh, and \
             resource subscriptions must be made again"
        ),
    });
    crate::jsonrpc::notification("notifications/message", Some(&params.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rehomed_notice_is_a_warning_log_naming_the_lost_replica() {
        let m = rehomed("pod-b", "pod-a");
        let v: serde_json::Value = serde_json::from_slice(&m).unwrap();
        assert_eq!(v["method"], "notifications/message");
        assert_eq!(v["params"]["level"], "warning");
        assert!(v["params"]["data"].as_str().unwrap().contains("pod-a"));
        assert!(v.get("id").is_none(), "a notification has no id");
    }
}
