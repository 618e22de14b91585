//! Resource subscriptions held upstream on behalf of clients: one upstream subscription per
//! (server, original URI), however many clients hold it; dropped with the last of them.

use super::Handle;
use crate::call::{Failure, Kind, Reply};
use dashmap::DashMap;
use std::sync::Arc;

/// How many clients hold each upstream subscription.
#[derive(Debug, Default)]
pub struct Subscriptions {
    holders: DashMap<(Arc<str>, String), usize>,
}

impl Subscriptions {
    /// One more client holds it; `true` when it is the first (the upstream must be asked).
    pub fn hold(&self, server: &Arc<str>, original: &str) -> bool {
        let mut n = self
            .holders
            .entry((server.clone(), original.to_string()))
            .or_insert(0);
        *n += 1;
        *n == 1
    }

    /// One client less; `true` when it was the last (the upstream may be told).
    pub fn drop_one(&self, server: &Arc<str>, original: &str) -> bool {
        let key = (server.clone(), original.to_string());
        let last = match self.holders.get_mut(&key) {
            Some(mut n) => {
                *n = n.saturating_sub(1);
                *n == 0
            }
            None => false,
        };
        if last {
            self.holders.remove(&key);
        }
        last
    }

    /// The original URIs held on `server`.
    pub fn held_on(&self, server: &str) -> Vec<String> {
        self.holders
            .iter()
            .filter(|e| &*e.key().0 == server)
            .map(|e| e.key().1.clone())
            .collect()
    }
}

/// Ask upstream `up` to subscribe to `original`. `Ok(Some(reply))`: it answered with a JSON-RPC
/// error, which the client gets as it is.
pub async fn subscribe(up: &Handle, original: &str) -> Result<Option<Reply>, Failure> {
    let conn = up.connection()?;
    if conn.init().stateless {
        return Err(Failure::new(
            Kind::Unsupported,
            format!(
                "upstream server {:?} speaks 2026-07-28, whose resource subscriptions (subscriptions/listen) the gateway does not relay yet",
                up.spec.name
            ),
        ));
    }
    let p = serde_json::json!({ "uri": original }).to_string();
    let reply = conn.request("resources/subscribe", Some(&p)).await?;
    Ok(reply.is_error().then_some(reply))
}

/// Tell upstream `up` nobody holds `original` any more (best effort).
pub async fn unsubscribe(up: &Handle, original: &str) {
    if let Ok(conn) = up.connection() {
        let p = serde_json::json!({ "uri": original }).to_string();
        let _ = conn.request("resources/unsubscribe", Some(&p)).await;
    }
}
