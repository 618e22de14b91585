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

/// KEYS[1]: the server's hash; ARGV: the tool, the base (`absent`, `none`, `d:DIGEST`), the pin.
const SET_IF_BASE: &str = r#"
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local base
if not cur then
  base = 'absent'
else
  local d = cjson.decode(cur).digest
  if type(d) == 'string' then base = 'd:' .. d else base = 'none' end
end
if base ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
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
        let script = redis::Script::new(SET_IF_BASE);
        let (servers, channel) = (servers_key(self), changed_channel(self));
        self.within(async {
            let mut applied = 0;
            for c in changes {
                conn.sadd::<_, _, ()>(&servers, &c.server).await?;
                let mut call = script.key(server_key(self, &c.server));
                call.arg(&c.tool).arg(&c.base).arg(&c.pin);
                applied += call.invoke_async::<i64>(&mut conn).await? as usize;
            }
            if applied > 0 {
                conn.publish::<_, _, ()>(channel, &self.settings.node_id)
                    .await?;
            }
            Ok(applied)
        })
        .await
    }

    /// Every pin in the store, as a state file holds them (JSON); `None` when the store did not
    /// answer.
    pub async fn pins(&self) -> Option<String> {
        let mut conn = self.connection()?;
        let state = self
            .within(async {
                let servers: Vec<String> = conn.smembers(servers_key(self)).await?;
                let mut all = BTreeMap::new();
                for server in servers {
                    let pins: BTreeMap<String, String> =
                        conn.hgetall(server_key(self, &server)).await?;
                    let pins: BTreeMap<String, serde_json::Value> = pins
                        .into_iter()
                        .filter_map(|(tool, pin)| Some((tool, serde_json::from_str(&pin).ok()?)))
                        .collect();
                    all.insert(server, pins);
                }
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
