//! The pinned tool definitions of a cluster: one hash per server in the store (tool -> pin, as
//! the state file holds it). A replica's change to one pin is applied only if the pin there is
//! still the one the change started from (a Lua compare-and-set), so the first replica to pin
//! a tool wins and an approval is never undone by a stale change; then every replica is told on
//! a channel and reads the whole set again.

use super::Store;
use redis::AsyncCommands;
use std::collections::BTreeMap;

/// One tool's pin as a replica changed it, for the store to apply only if the pin there is still
/// the one the change started from (`base`).
#[derive(Debug, Clone)]
pub struct PinChange {
    /// The server.
    pub server: String,
    /// The upstream's tool name.
    pub tool: String,
    /// What the pin was: `absent` (none yet), `none` (a new tool, never approved), or
    /// `d:DIGEST` (the approved digest).
    pub base: String,
    /// The pin now, as the state file holds it (JSON).
    pub pin: String,
}

/// Every change in one call (one round trip, however many tools a start pins: each its own
/// call made starting replicas miss `cluster.timeout` and take the store for down).
/// KEYS[1]: the set of servers; KEYS[1 + i]: change i's server hash. ARGV[1]: the channel,
/// ARGV[2]: this replica's node id; then per change: its server, tool, base (`absent`, `none`,
/// `d:DIGEST`) and pin. Returns how many were applied (and announces them when any was).
const APPLY: &str = r#"
local applied = 0
for i = 2, #KEYS do
  local at = 3 + (i - 2) * 4
  local server, tool, want, pin = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3]
  local cur = redis.call('HGET', KEYS[i], tool)
  local base
  if not cur then
    base = 'absent'
  else
    local d = cjson.decode(cur).digest
    if type(d) == 'string' then base = 'd:' .. d else base = 'none' end
  end
  redis.call('SADD', KEYS[1], server)
  if base == want then
    redis.call('HSET', KEYS[i], tool, pin)
    applied = applied + 1
  end
end
if applied > 0 then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return applied
"#;

/// The set of servers that have pins.
fn servers_key(store: &Store) -> String {
    store.key("pins:servers")
}

/// The hash of `server`'s pins.
fn server_key(store: &Store, server: &str) -> String {
    store.key(&format!("pins:server:{server}"))
}

/// The channel a change is announced on.
fn changed_channel(store: &Store) -> String {
    store.key("pins:changed")
}

impl Store {
    /// Apply `changes` in order, each only if its base still holds, and tell every replica
    /// (this one too) when one was: how many were, or `None` when the store did not answer.
    pub async fn change_pins(&self, changes: &[PinChange]) -> Option<usize> {
        let mut conn = self.connection()?;
        let script = redis::Script::new(APPLY);
        let mut call = script.key(servers_key(self));
        call.arg(changed_channel(self)).arg(&self.settings.node_id);
        for c in changes {
            call.key(server_key(self, &c.server));
            call.arg(&c.server).arg(&c.tool).arg(&c.base).arg(&c.pin);
        }
        let applied: i64 = self.within(call.invoke_async(&mut conn)).await?;
        Some(applied as usize)
    }

    /// Every pin in the store, as a state file holds them (JSON); `None` when the store did not
    /// answer.
    pub async fn pins(&self) -> Option<String> {
        let mut conn = self.connection()?;
        let state = self
            .within(async {
                let servers: Vec<String> = conn.smembers(servers_key(self)).await?;
                let mut each = redis::pipe();
                for server in &servers {
                    each.hgetall(server_key(self, server));
                }
                let pins: Vec<BTreeMap<String, String>> = each.query_async(&mut conn).await?;
                let all: BTreeMap<String, BTreeMap<String, serde_json::Value>> = servers
                    .into_iter()
                    .zip(pins)
                    .map(|(server, pins)| {
                        let pins = pins
                            .into_iter()
                            .filter_map(|(tool, pin)| {
                                Some((tool, serde_json::from_str(&pin).ok()?))
                            })
                            .collect();
                        (server, pins)
                    })
                    .collect();
                Ok(all)
            })
            .await?;
        Some(serde_json::json!({ "version": 1, "servers": state }).to_string())
    }

    /// Call `changed` whenever a replica (this one too) changed the shared pins.
    pub fn on_pins_changed(&'static self, changed: impl Fn() + Send + Sync + 'static) {
        self.subscribe(changed_channel(self), move |_| changed());
    }
}
